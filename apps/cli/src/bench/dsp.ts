import { availableParallelism, loadavg } from 'node:os';
import type { Command } from 'commander';
import { ANALYSIS_PASSBAND, analysisResampler, LogMelExtractor, Resampler } from '@hark/dsp';
import { positiveInt } from '../options.js';
import { markdownTable, writeBenchmarkSection } from './report.js';

/** One measured configuration of `hark bench dsp`. */
export interface DspBenchRow {
  name: string;
  /** Input chunk, e.g. `20 ms (320 samples)` or `whole signal`. */
  chunk: string;
  /** Seconds of audio processed per run. */
  audioSeconds: number;
  /** Best run: wall-clock seconds and CPU seconds (user + system) of this process. */
  wallSeconds: number;
  cpuSeconds: number;
}

export interface DspBenchOptions {
  /** Seconds of audio per run. Default 60. */
  seconds?: number;
  /** Runs per configuration; the fastest counts. Default 3. */
  repeats?: number;
}

/** Noise plus a few tones, deterministic: realistic work for the FFT and resampler (no denormals). */
function testSignal(rate: number, seconds: number): Float32Array {
  const x = new Float32Array(Math.round(rate * seconds));
  let seed = 12345;
  for (let i = 0; i < x.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const noise = seed / 2 ** 32 - 0.5;
    x[i] =
      0.1 * noise +
      0.3 * Math.sin((2 * Math.PI * 440 * i) / rate) +
      0.1 * Math.sin((2 * Math.PI * 3150 * i) / rate);
  }
  return x;
}

/** Runs `work` `repeats` times after one warm-up and returns the fastest wall and CPU times in seconds. */
function measure(work: () => void, repeats: number): { wall: number; cpu: number } {
  work();
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < repeats; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    work();
    const t1 = process.hrtime.bigint();
    const c = process.cpuUsage(c0);
    wall = Math.min(wall, Number(t1 - t0) / 1e9);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  return { wall, cpu };
}

/** Feeds `x` to `sink` in chunks of `size` samples (subarray views: no copies). */
function feed(x: Float32Array, size: number, sink: (chunk: Float32Array) => void): void {
  for (let i = 0; i < x.length; i += size) sink(x.subarray(i, i + size));
}

/** Measures the streaming extractor (default parameters) and the resampler (48, 44.1 -> 16 kHz), one thread. */
export function runDspBench(options: DspBenchOptions = {}): DspBenchRow[] {
  const seconds = options.seconds ?? 60;
  const repeats = options.repeats ?? 3;
  const x16 = testSignal(16000, seconds);
  const x48 = testSignal(48000, seconds);
  const x44 = testSignal(44100, seconds);
  const sink = (_column: Float32Array) => {};
  const cases: { name: string; chunk: string; work: () => void }[] = [
    {
      name: 'log-mel, default params',
      chunk: 'whole signal',
      work: () => void new LogMelExtractor().push(x16),
    },
    {
      name: 'log-mel, default params',
      chunk: '20 ms (320 samples)',
      work: () => {
        const ex = new LogMelExtractor();
        feed(x16, 320, (c) => ex.process(c, sink));
      },
    },
    {
      // What the server runs for a 48 kHz sensor: its analysis resampler, then log-mel.
      name: 'resample 48 kHz -> 16 kHz + log-mel',
      chunk: '20 ms (960 samples)',
      work: () => {
        const rs = analysisResampler(48000, 16000);
        const ex = new LogMelExtractor();
        feed(x48, 960, (c) => ex.process(rs.push(c), sink));
        ex.process(rs.flush(), sink);
      },
    },
    {
      name: 'resample 48 kHz -> 16 kHz only',
      chunk: '20 ms (960 samples)',
      work: () => {
        const rs = new Resampler(48000, 16000);
        feed(x48, 960, (c) => rs.push(c));
        rs.flush();
      },
    },
    {
      name: `resample 48 kHz -> 16 kHz only, pass band ${ANALYSIS_PASSBAND} (the server's)`,
      chunk: '20 ms (960 samples)',
      work: () => {
        const rs = analysisResampler(48000, 16000);
        feed(x48, 960, (c) => rs.push(c));
        rs.flush();
      },
    },
    {
      name: 'resample 44.1 kHz -> 16 kHz only',
      chunk: '20 ms (882 samples)',
      work: () => {
        const rs = new Resampler(44100, 16000);
        feed(x44, 882, (c) => rs.push(c));
        rs.flush();
      },
    },
  ];
  return cases.map(({ name, chunk, work }) => {
    const { wall, cpu } = measure(work, repeats);
    return { name, chunk, audioSeconds: seconds, wallSeconds: wall, cpuSeconds: cpu };
  });
}

/** The Markdown table of a run: real-time factors by wall clock and by CPU time (one core). */
export function dspBenchTable(rows: readonly DspBenchRow[]): string {
  const x = (audio: number, t: number) => (t > 0 ? `${Math.round(audio / t)}x` : 'n/a');
  return markdownTable(
    ['configuration', 'chunk', 'audio (s)', 'wall (s)', 'CPU (s)', 'real time (wall)', 'real time (CPU)'],
    rows.map((r) => [
      r.name,
      r.chunk,
      r.audioSeconds,
      r.wallSeconds.toFixed(3),
      r.cpuSeconds.toFixed(3),
      x(r.audioSeconds, r.wallSeconds),
      x(r.audioSeconds, r.cpuSeconds),
    ]),
  );
}

export function registerBenchDsp(bench: Command): void {
  bench
    .command('dsp')
    .description('throughput of the streaming log-mel extractor and the resampler, in multiples of real time')
    .option('--seconds <s>', 'seconds of 16 kHz audio per run', positiveInt, 60)
    .option('--repeats <n>', 'runs per configuration (the fastest counts)', positiveInt, 3)
    .option('--no-write', 'print the table without updating BENCHMARKS.md')
    .addHelpText(
      'after',
      '\nSingle-threaded. Default extractor parameters: n-fft 1024, hop 256, 128 mels, 16 kHz. Targets: log-mel >= 500x, resampler >= 1500x real time.',
    )
    .action((o: { seconds: number; repeats: number; write: boolean }) => {
      const load = loadavg()[0].toFixed(2); // other processes share the cores: the CPU column is the fair one
      const table = dspBenchTable(runDspBench(o));
      console.log(table);
      if (o.write) {
        const body =
          `${table}\n\nReal time = seconds of audio processed per second (wall clock, or CPU time of one core). ` +
          'Default parameters: n-fft 1024, hop 256, 128 mels, 16 kHz. The resampler is a polyphase Kaiser-windowed ' +
          'sinc in a WebAssembly SIMD kernel: pass band to 7.2 kHz (+-0.001 dB), stop band from 8 kHz (>= 80 dB).\n\n' +
          `Load average (1 min) when the run started: ${load} on ${availableParallelism()} cores; with other ` +
          'processes running, wall-clock figures are lower than CPU-time figures.';
        const path = writeBenchmarkSection('dsp', 'DSP: streaming log-mel extraction and resampling', body);
        console.log(`\nwritten to ${path}`);
      }
    });
}
