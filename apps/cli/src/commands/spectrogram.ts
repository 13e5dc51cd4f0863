import { basename } from 'node:path';
import type { Command } from 'commander';
import {
  logMelSpectrogram,
  melFilterBank,
  readWav,
  toAnalysisRate,
  resolveMelParams,
  type LogMelSpectrogram,
  type WavAudio,
} from '@hark/dsp';
import { dbScale, heatmap, writePng } from '@hark/detection';
import { nonNegativeNumber, positiveInt } from '../options.js';

/** Options of `hark spectrogram`, as parsed by commander. */
export interface SpectrogramOptions {
  nFft: number;
  hopLength: number;
  nMels: number;
  fMin: number;
  /** Default sampleRate / 2. */
  fMax?: number;
  sampleRate: number;
  json?: boolean;
  png?: string;
  topDb: number;
  allowTruncated?: boolean;
}

const FLAGS: Record<string, string> = {
  sampleRate: '--sample-rate',
  nFft: '--n-fft',
  hopLength: '--hop-length',
  nMels: '--n-mels',
  fMin: '--f-min',
  fMax: '--f-max',
};

/** A decoded file, resampled to `--sample-rate`, and its log-mel spectrogram (center = false). */
export interface FileSpectrogram {
  wav: WavAudio;
  spectrogram: LogMelSpectrogram;
}

/** Reads `path`, resamples it to `o.sampleRate` and computes its log-mel spectrogram. */
export async function computeSpectrogram(path: string, o: SpectrogramOptions): Promise<FileSpectrogram> {
  const options = {
    sampleRate: o.sampleRate,
    nFft: o.nFft,
    hopLength: o.hopLength,
    nMels: o.nMels,
    fMin: o.fMin,
    fMax: o.fMax,
  };
  const params = withFlagNames(() => resolveMelParams({ ...options, center: false }));
  withFlagNames(() => melFilterBank(params)); // too many mels for nFft, before reading the file
  const wav = await readWav(path, { allowTruncated: o.allowTruncated });
  const x = toAnalysisRate(wav.samples, wav.sampleRate, params.sampleRate);
  return { wav, spectrogram: logMelSpectrogram(x, params) };
}

/** Runs `f`, naming command-line flags in its errors: `--f-max (9000) must be <= --sample-rate / 2 (8000)`. */
function withFlagNames<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new Error(
      (err as Error).message.replace(/\b(sampleRate|nFft|hopLength|nMels|fMin|fMax)\b/g, (p) => FLAGS[p]),
    );
  }
}

/**
 * The `--json` document: `data` has nMels rows (row 0 = lowest band) of `frames` values in dB, rounded to
 * 1e-4 dB.
 */
export function spectrogramJson(s: LogMelSpectrogram): string {
  const rows: number[][] = [];
  for (let m = 0; m < s.nMels; m++) {
    const row = new Array<number>(s.nFrames);
    for (let t = 0; t < s.nFrames; t++) row[t] = Math.round(s.data[m * s.nFrames + t] * 1e4) / 1e4;
    rows.push(row);
  }
  const { sampleRate, nFft, hopLength, nMels } = s.params;
  return JSON.stringify({ sampleRate, nFft, hopLength, nMels, frames: s.nFrames, data: rows });
}

/** A few lines for a person: what the file is and what came out. */
export function summary(path: string, { wav, spectrogram: s }: FileSpectrogram): string {
  const p = s.params;
  const seconds = wav.samples.length / wav.sampleRate;
  const enc = `${wav.bitsPerSample}-bit ${wav.encoding === 'pcm' ? 'PCM' : 'float'}`;
  const lines = [
    `${basename(path)}: ${seconds.toFixed(2)} s, ${wav.channels} channel${wav.channels === 1 ? '' : 's'}, ${wav.sampleRate} Hz, ${enc}` +
      (wav.sampleRate === p.sampleRate ? '' : ` (resampled to ${p.sampleRate} Hz)`),
    `log-mel: ${s.nMels} mel bands x ${s.nFrames} frames (n-fft ${p.nFft}, hop ${p.hopLength} = ` +
      `${((1000 * p.hopLength) / p.sampleRate).toFixed(1)} ms, ${p.fMin}-${p.fMax} Hz, ${p.melScale} mel)`,
  ];
  if (s.nFrames === 0) lines.push(`no frames: the file is shorter than one FFT window (${p.nFft} samples)`);
  else {
    let lo = Infinity,
      hi = -Infinity,
      sum = 0;
    for (const v of s.data) [lo, hi, sum] = [Math.min(lo, v), Math.max(hi, v), sum + v];
    lines.push(`level: ${lo.toFixed(1)} to ${hi.toFixed(1)} dB, mean ${(sum / s.data.length).toFixed(1)} dB`);
  }
  return lines.join('\n');
}

export function registerSpectrogram(program: Command): void {
  program
    .command('spectrogram')
    .description('compute the log-mel spectrogram of a WAV file (resampled to --sample-rate, center = false)')
    .argument(
      '<file>',
      'WAV file: PCM 8/16/24/32-bit or 32/64-bit float, any rate, any channels (mixed to mono)',
    )
    .option('--n-fft <n>', 'FFT size in samples, a power of two', positiveInt, 1024)
    .option('--hop-length <n>', 'samples between frames', positiveInt, 256)
    .option('--n-mels <n>', 'mel bands', positiveInt, 128)
    .option('--f-min <hz>', 'lowest mel filter edge in Hz', nonNegativeNumber, 0)
    .option('--f-max <hz>', 'highest mel filter edge in Hz (default: sample rate / 2)', nonNegativeNumber)
    .option('--sample-rate <hz>', 'analysis sample rate; the input is resampled to it', positiveInt, 16000)
    .option(
      '--json',
      'print {sampleRate, nFft, hopLength, nMels, frames, data: [nMels rows of frames dB values]}',
    )
    .option(
      '--png <out.png>',
      'write a picture: one pixel per frame and band, low frequencies at the bottom, magma colours',
    )
    .option('--top-db <db>', 'dynamic range of the picture below its maximum', nonNegativeNumber, 80)
    .option('--allow-truncated', 'decode what is present of a file cut short instead of failing')
    .addHelpText(
      'after',
      '\nWithout --json or --png a short summary is printed. Values are 10*log10(max(mel power, 1e-10)) with\n' +
        'a periodic Hann window and Slaney mel filters (librosa/torchaudio defaults).\n\nExamples:\n' +
        '  hark spectrogram pump.wav\n  hark spectrogram pump.wav --json > pump.json\n' +
        '  hark spectrogram pump.wav --n-mels 64 --f-max 6000 --png pump.png',
    )
    .action(async (file: string, o: SpectrogramOptions) => {
      const result = await computeSpectrogram(file, o);
      if (result.wav.streamed)
        console.error(`hark: ${file}: data size unknown (streamed recording); read to the end of the file`);
      if (result.wav.truncated)
        console.error(
          `hark: ${file}: truncated file; using the ${result.wav.samples.length} whole frames present`,
        );
      if (o.png) {
        const s = result.spectrogram;
        const grid = { rows: s.nMels, cols: s.nFrames, data: s.data };
        await writePng(o.png, heatmap(grid, dbScale(s.data, o.topDb)));
      }
      if (o.json) {
        // `hark spectrogram x.wav --json | head` closes the pipe early: that is not an error.
        process.stdout.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EPIPE') throw err;
        });
        process.stdout.write(`${spectrogramJson(result.spectrogram)}\n`);
      } else if (!o.png) console.log(summary(file, result));
    });
}
