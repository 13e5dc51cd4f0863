/**
 * `hark bench pipeline`: how many concurrent real-time 16 kHz sensors one server process sustains with the
 * default model without dropping windows, and the latency from the arrival of a window's last sample to
 * its `score` event at a subscribed dashboard (p50 / p95 / p99).
 *
 * The server runs in this process (embedded default: SQLite, models on disk) with one model per sensor
 * (the default detector fitted once on synthetic pump sound, copied per sensor). Sensors (`SensorClient`
 * playing synthetic machine recordings in real time, looped) and the dashboard run in a worker thread.
 * The number of sensors is stepped up; each step warms up, then measures.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Command } from 'commander';
import { fitDetector, readClip, resolveDetectorConfig, saveModel } from '@hark/detection';
import { writeSynthDataset } from '@hark/dsp';
import { createServer, type HarkServer } from '@hark/server';
import { positiveInt } from '../options.js';
import { markdownTable, writeBenchmarkSection } from './report.js';
import type { ClientsJob, ClientsResult } from './pipeline-clients.js';

export interface PipelineStep {
  sensors: number;
  seconds: number;
  windowsScored: number;
  windowsDropped: number;
  scoreEvents: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  sustained: boolean;
  errors: string[];
}

export interface PipelineBenchOptions {
  sensors: number[];
  seconds: number;
  warmup: number;
  all: boolean;
  log?: (line: string) => void;
}

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

export async function runPipelineBench(o: PipelineBenchOptions): Promise<PipelineStep[]> {
  const log = o.log ?? (() => {});
  const root = mkdtempSync(join(tmpdir(), 'hark-bench-pipeline-'));
  try {
    const { dataDir, ids, wavs } = await prepareSensors(root, Math.max(...o.sensors), log);
    log(`starting the server with ${ids.length} sensor models...`);
    const server = await createServer({ port: 0, dataDir, log: () => {}, dashboardDir: null });
    try {
      const tokens = {
        sensorToken: server.tokens.create('sensor', 'bench sensors', ids).token,
        operatorToken: server.tokens.create('operator', 'bench dashboard').token,
      };
      const steps: PipelineStep[] = [];
      for (const n of [...o.sensors].sort((a, b) => a - b)) {
        log(`${n} sensors: ${o.warmup} s warm-up, ${o.seconds} s measured...`);
        const job: ClientsJob = {
          url: server.url,
          ...tokens,
          sensorIds: ids.slice(0, n),
          wavs,
          seconds: o.seconds,
          warmupSeconds: o.warmup,
        };
        const step = await measureStep(server, job);
        steps.push(step);
        log(
          `  scored ${step.windowsScored}, dropped ${step.windowsDropped}, latency p50 ${step.p50} ms p95 ${step.p95} ms p99 ${step.p99} ms${step.errors.length ? `; errors: ${step.errors.join('; ')}` : ''}`,
        );
        if (!step.sustained && !o.all) break;
        // Let queues and sockets settle between steps.
        await new Promise((r) => setTimeout(r, 2000));
      }
      return steps;
    } finally {
      await server.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Synthetic machine sound under `root`, the default detector fitted once on its pump and copied as the model
 * of `count` sensors into a fresh data directory; the streams the sensors play.
 */
async function prepareSensors(
  root: string,
  count: number,
  log: (line: string) => void,
): Promise<{ dataDir: string; ids: string[]; wavs: string[] }> {
  log('synthesising sound and fitting the default model...');
  writeSynthDataset(join(root, 'synth'), {
    machines: ['pump', 'fan', 'gearbox'],
    trainClips: 12,
    testClips: 0,
    clipSeconds: 5,
    streamSeconds: 60,
  });
  const config = resolveDetectorConfig({});
  const trainDir = join(root, 'synth', 'synth_pump', 'train');
  const clips = await Promise.all(
    readdirSync(trainDir)
      .filter((f) => f.endsWith('.wav'))
      .map((f) => readClip(join(trainDir, f), config.mel.sampleRate)),
  );
  const detector = await fitDetector(clips, config);
  await saveModel(detector, join(root, 'model'));
  await detector.release();
  const ids = Array.from({ length: count }, (_, i) => `bench-${String(i + 1).padStart(2, '0')}`);
  const dataDir = join(root, 'data');
  mkdirSync(join(dataDir, 'models'), { recursive: true });
  for (const id of ids) cpSync(join(root, 'model'), join(dataDir, 'models', id), { recursive: true });
  const wavs = ['pump', 'fan', 'gearbox'].map((m) => join(root, 'synth', `synth_${m}`, 'stream.wav'));
  return { dataDir, ids, wavs };
}

/** One step: the job's sensors and dashboard run in a worker; the server's scheduler counts what it scored. */
async function measureStep(server: HarkServer, job: ClientsJob): Promise<PipelineStep> {
  const scheduler = server.sensors.scheduler;
  const before = job.sensorIds.map((id) => scheduler.stats(id));
  const result = await new Promise<ClientsResult>((resolve, reject) => {
    const w = new Worker(new URL('./pipeline-clients.js', import.meta.url), { workerData: job });
    w.once('message', (m: { ok: boolean; result?: ClientsResult; error?: string }) =>
      m.ok ? resolve(m.result!) : reject(new Error(m.error)),
    );
    w.once('error', reject);
  });
  await scheduler.idle();
  const after = job.sensorIds.map((id) => scheduler.stats(id));
  const scored = after.reduce((s, a, i) => s + a.scored - before[i].scored, 0);
  const dropped = after.reduce(
    (s, a, i) => s + a.dropped + a.failed - before[i].dropped - before[i].failed,
    0,
  );
  const lat = result.latenciesMs.sort((a, b) => a - b);
  return {
    sensors: job.sensorIds.length,
    seconds: job.seconds,
    windowsScored: scored,
    windowsDropped: dropped,
    scoreEvents: result.scores,
    p50: pct(lat, 50),
    p95: pct(lat, 95),
    p99: pct(lat, 99),
    max: lat.at(-1) ?? NaN,
    sustained: dropped === 0 && result.errors.length === 0 && result.scores > 0,
    errors: result.errors.slice(0, 5),
  };
}

export function pipelineTable(steps: readonly PipelineStep[]): string {
  return markdownTable(
    ['sensors', 'windows scored', 'dropped', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'sustained'],
    steps.map((s) => [
      s.sensors,
      s.windowsScored,
      s.windowsDropped,
      s.p50,
      s.p95,
      s.p99,
      s.max,
      s.sustained ? 'yes' : 'no',
    ]),
  );
}

const list = (v: string) =>
  v.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1 || n > 256)
      throw new Error(`'${x}' is not a number of sensors (1-256)`);
    return n;
  });

export function registerBenchPipeline(bench: Command): void {
  bench
    .command('pipeline')
    .description('concurrent real-time sensors one server process sustains, and score latency at a dashboard')
    .option('--sensors <list>', 'numbers of sensors to try, in order', list, [4, 8, 12, 16, 20, 24, 28, 32])
    .option('--seconds <s>', 'measured seconds per step', positiveInt, 30)
    .option('--warmup <s>', 'seconds before measuring, per step', positiveInt, 5)
    .option('--all', 'keep stepping after a step drops windows')
    .option('--no-write', 'print the table without updating BENCHMARKS.md')
    .action(
      async (o: { sensors: number[]; seconds: number; warmup: number; all?: boolean; write: boolean }) => {
        const steps = await runPipelineBench({ ...o, all: !!o.all, log: (l) => console.log(l) });
        const table = pipelineTable(steps);
        const best = steps.filter((s) => s.sustained).at(-1);
        const at16 = steps.find((s) => s.sensors === 16);
        const summary = [
          `Sustained without dropping a window: **${best ? best.sensors : 0} sensors** (largest step tried with no drop).`,
          `Largest step with no drop and p99 under 250 ms: **${steps.filter((x) => x.sustained && x.p99 < 250).at(-1)?.sensors ?? 0} sensors**.`,
          at16
            ? `At 16 sensors: p50 ${at16.p50} ms, p95 ${at16.p95} ms, p99 ${at16.p99} ms (target: p99 < 250 ms).`
            : '',
        ]
          .filter(Boolean)
          .join('  \n');
        console.log(`\n${table}\n\n${summary}`);
        if (o.write) {
          const body =
            `${summary}\n\n${table}\n\n` +
            'Each sensor streams 16 kHz s16le in 20 ms chunks in real time (synthetic pump / fan / gearbox, looped) ' +
            'through `SensorClient`; one model per sensor (default detector: PatchCore, MobileNetV2, 1 s windows every 0.5 s). ' +
            'Latency: from the arrival at the server of the chunk completing a window to the `score` event at a dashboard ' +
            'subscribed to every sensor (same machine). Sensors and dashboard run in a worker thread of the benchmark process.';
          console.log(
            `written to ${writeBenchmarkSection('pipeline', 'Pipeline: concurrent live sensors per server process', body)}`,
          );
        }
      },
    );
}
