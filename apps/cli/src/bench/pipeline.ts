/**
 * `hark bench pipeline`: how many concurrent real-time 16 kHz sensors one server process sustains with the
 * default model without dropping windows, and the latency from the arrival of a window's last sample to
 * its `score` event at a subscribed dashboard (p50 / p95 / p99).
 *
 * The server runs in this process (embedded default: SQLite, models on disk) with one model per sensor
 * (the default detector fitted once per synthetic machine, pump / fan / gearbox, copied to the sensors that
 * play that machine). Sensors (`SensorClient`
 * playing synthetic machine recordings in real time, looped) and the dashboard run in a child process.
 * With `--dataset`, the machines are instead the groups of a dataset in the DATASET.md layout (recorded sound:
 * each group's model fitted on its `train/`, its sensors playing its normal sound), since what a search costs
 * depends on the sound: the synthetic machines are noise-like, where the context memory's bounded search
 * never pays (BENCHMARKS.md, issue 16 lever 3).
 * The number of sensors is stepped up; each step warms up, then measures. With `--profile`, each measured
 * span also gets a stage table (stage-profile.ts): CPU ms per scored window of each stage, event-loop lag.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import {
  backboneWorkerThreads,
  fitDetector,
  readClip,
  readDataset,
  resolveDetectorConfig,
  saveModel,
  type DetectorConfigInput,
} from '@hark/detection';
import { encodeWav, readWav, resample, toAnalysisRate, writeSynthDataset } from '@hark/dsp';
import { getNumThreads } from '@hark/native';
import { createServer, SERVER_DEFAULTS, type HarkServer } from '@hark/server';
import { MIN_SAMPLE_RATE } from '@hark/protocol';
import { configOverrides, positiveInt, positiveNumber } from '../options.js';
import { DETECTOR_HELP, detectorInput } from '../commands/detector-input.js';
import { missingNodeFlags, SERVER_NODE_FLAGS } from '../commands/serve.js';
import { DEFAULT_CHUNK_MS } from '../sensor/types.js';
import { markdownTable, writeBenchmarkSection } from './report.js';
import type { ClientsJob, ClientsMessage, ClientsResult } from './pipeline-clients.js';
import { StageProfiler, type StageProfileResult } from './stage-profile.js';

export interface PipelineStep {
  sensors: number;
  /** The rate every sensor streams at (Hz); the server resamples what is not its analysis rate. */
  rate: number;
  /**
   * A mixed fleet (`--mixed`): the rates the step's sensors were split between, evenly (sensor i at
   * `rates[i % rates.length]`); `rate` is then the highest of them.
   */
  rates?: number[];
  seconds: number;
  windowsScored: number;
  windowsDropped: number;
  /** Windows not scored because the server widened the scoring hop past capacity (issue 16). */
  windowsSkipped: number;
  /**
   * Of the windows scored, those scored off their sensor's turn because the alert rule needed them (a window over
   * the threshold before, or one beginning a run after: `hark_windows_confirming_total`).
   */
  windowsConfirming: number;
  /** The sensors that opened alerts in the span: id, how many of which kind, and the recording it plays. */
  alertSensors: string[];
  /** The widest scoring hop of the step's sensors at its end, seconds (0.5: every window). */
  scoringHopSeconds: number;
  /**
   * The same at the start of the measured span. When it differs from `scoringHopSeconds` the governor was
   * still settling (after a cold start it widens at once and narrows over minutes: a longer `--warmup`
   * measures the settled state).
   */
  scoringHopStartSeconds: number;
  scoreEvents: number;
  /**
   * Alerts the server opened for the step's sensors over the measured span, every kind: the alert work the
   * sound charged it. A bench of normal sound should open none.
   */
  alertsOpened: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  sustained: boolean;
  errors: string[];
  /** The server process's resident set at the end of the step, MB. */
  rssMb: number;
  /**
   * CPU over the measured span, in cores (CPU seconds per second, every thread): the server's process, and the
   * process of the sensors and the dashboard, which shares the machine with it.
   */
  serverCores: number;
  clientsCores: number;
  /** The server's event loop: its busy share of the measured span, 0-1 (`performance.eventLoopUtilization`). */
  serverLoopBusy: number;
  /** Of which: V8's heap in use and the memory outside it that V8 knows of (typed arrays, addons), MB. */
  heapUsedMb: number;
  externalMb: number;
  /** With `--profile`: the stage table of the measured span. */
  profile?: StageProfileResult;
}

export interface PipelineBenchOptions {
  sensors: number[];
  /** Sensor sample rates to run the steps at, each in turn (default: the analysis rate, 16 kHz). */
  rates?: number[];
  /** Split each step's sensors evenly between `rates` (a mixed fleet) instead of a step per rate. */
  mixed?: boolean;
  seconds: number;
  warmup: number;
  /** Audio per sensor message, ms (default: `hark sensor`'s, {@link DEFAULT_CHUNK_MS}). */
  chunkMs?: number;
  all: boolean;
  /** Profile the measured span of every step (stage-profile.ts). */
  profile?: boolean;
  /** Detector configuration overrides of the fitted models (`--config`, as `hark fit`); default: none. */
  config?: Record<string, unknown>;
  /**
   * A dataset root (DATASET.md layout): its groups are the machines instead of the synthetic ones (`--dataset`).
   */
  dataset?: string;
  log?: (line: string) => void;
}

/** A machine the sensors play: its training clips (its model's) and the recording its sensors loop. */
export interface BenchMachine {
  name: string;
  train: string[];
  stream: string;
}

/** The synthetic machines the sensors play, each with its own model. */
const MACHINES = ['pump', 'fan', 'gearbox'] as const;

/** The rates of each run of steps: one rate each, or (mixed) all of them together. */
export function fleets(rates: readonly number[], mixed: boolean): number[][] {
  return mixed && rates.length > 1 ? [[...rates]] : rates.map((r) => [r]);
}

/** "16000" or, for a mixed fleet, "16000 + 48000". */
export function fleetLabel(fleet: readonly number[]): string {
  return fleet.join(' + ');
}

/**
 * The stream of each of `n` sensors: sensor i plays machine i % M (its model's, `prepareSensors`; M machines)
 * at rate `fleet[i % fleet.length]`, so a mixed fleet of 64 at two rates has 32 at each and every machine at
 * both. `wavs` holds each rate's streams in machine order.
 */
export function fleetWavs(
  n: number,
  fleet: readonly number[],
  wavs: ReadonlyMap<number, string[]>,
): string[] {
  if (fleet.length === 1) return wavs.get(fleet[0])!;
  return Array.from({ length: n }, (_, i) => {
    const streams = wavs.get(fleet[i % fleet.length])!;
    return streams[i % streams.length];
  });
}

const stepFleet = (s: PipelineStep) => s.rates ?? [s.rate];

/** The default detector's analysis rate: what the synthetic streams are written at. */
const ANALYSIS_RATE = 16000;

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

export async function runPipelineBench(o: PipelineBenchOptions): Promise<PipelineStep[]> {
  const log = o.log ?? (() => {});
  const root = mkdtempSync(join(tmpdir(), 'hark-bench-pipeline-'));
  try {
    const rates = o.rates ?? [ANALYSIS_RATE];
    const { dataDir, ids, wavs } = await prepareSensors(
      root,
      Math.max(...o.sensors),
      rates,
      detectorInput({ config: o.config }),
      log,
      o.dataset,
    );
    log(`starting the server with ${ids.length} sensor models...`);
    // The server runs in this process, so node's flags are the server's: say so when they are not the launchers'.
    const missing = missingNodeFlags(process.execArgv);
    if (missing.length > 0)
      log(
        `note: measuring without ${missing.join(' ')}, which the server's launchers pass ` +
          `(\`node ${SERVER_NODE_FLAGS.join(' ')} apps/cli/bin/hark.js bench pipeline ...\` measures what they run)`,
      );
    // As many sensors as the bench asks for, past the server's default bounds (all of them stream with one
    // sensor token, bound to every id).
    const maxSensors = Math.max(SERVER_DEFAULTS.maxSensors, ids.length);
    const maxSensorsPerToken = Math.max(SERVER_DEFAULTS.maxSensorsPerToken, ids.length);
    const server = await createServer({
      port: 0,
      dataDir,
      log: () => {},
      dashboardDir: null,
      maxSensors,
      maxSensorsPerToken,
    });
    log(`the server's FAISS searches run on ${getNumThreads()} thread(s) of ${cpus().length} cores`);
    try {
      const tokens = {
        sensorToken: (await server.tokens.create('sensor', 'bench sensors', ids)).token,
        operatorToken: (await server.tokens.create('operator', 'bench dashboard')).token,
      };
      const steps: PipelineStep[] = [];
      for (const fleet of fleets(rates, !!o.mixed)) {
        const rate = Math.max(...fleet);
        for (const n of [...o.sensors].sort((a, b) => a - b)) {
          log(`${n} sensors at ${fleetLabel(fleet)} Hz: ${o.warmup} s warm-up, ${o.seconds} s measured...`);
          const job: ClientsJob = {
            url: server.url,
            ...tokens,
            sensorIds: ids.slice(0, n),
            wavs: fleetWavs(n, fleet, wavs),
            seconds: o.seconds,
            warmupSeconds: o.warmup,
            chunkMs: o.chunkMs ?? DEFAULT_CHUNK_MS,
          };
          const step = {
            ...(await measureStep(server, job, !!o.profile)),
            rate,
            ...(fleet.length > 1 && { rates: fleet }),
          };
          steps.push(step);
          log(
            `  scored ${step.windowsScored} (${step.windowsConfirming} off turn for the alert rule), dropped ${step.windowsDropped}, latency p50 ${step.p50} ms p95 ${step.p95} ms p99 ${step.p99} ms, ${step.alertsOpened} alerts opened${step.alertSensors.length ? ` (${step.alertSensors.join(', ')})` : ''}, RSS ${step.rssMb} MB (V8 heap ${step.heapUsedMb} MB, external ${step.externalMb} MB)${step.errors.length ? `; errors: ${step.errors.join('; ')}` : ''}`,
          );
          // Let queues and sockets settle between steps.
          await new Promise((r) => setTimeout(r, 2000));
          if (!step.sustained && !o.all) break;
        }
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
 * The machines the sensors play: the synthetic pump, fan and gearbox (written under `root`), or the groups of
 * the dataset at `dataset`. A group's sensors loop one recording of its normal sound: `normal_stream.wav` when
 * it has one, else its first normal test clip, else its `stream.wav` (which may hold known events); a group
 * with none of them, or no training clips, is left out and said.
 */
export async function benchMachines(
  root: string,
  dataset: string | undefined,
  log: (line: string) => void,
): Promise<BenchMachine[]> {
  if (!dataset) {
    writeSynthDataset(join(root, 'synth'), {
      machines: [...MACHINES],
      trainClips: 12,
      testClips: 0,
      clipSeconds: 5,
      streamSeconds: 60,
    });
    return MACHINES.map((m) => {
      const dir = join(root, 'synth', `synth_${m}`);
      const train = readdirSync(join(dir, 'train'))
        .filter((f) => f.endsWith('.wav'))
        .map((f) => join(dir, 'train', f));
      return { name: m, train, stream: join(dir, 'stream.wav') };
    });
  }
  const machines: BenchMachine[] = [];
  for (const g of await readDataset(dataset)) {
    const normalStream = join(g.dir, 'normal_stream.wav');
    const normal = g.test.find((c) => c.label === 'normal');
    // One recording looped, never clips joined: a group's clips differ in speed, gain and background, and
    // the detector flags a jump from one to the next (a cross-fade too), so joined clips open alerts that a
    // plant's steady sound would not, and charge the server their work (BENCHMARKS.md, session 22).
    const stream = existsSync(normalStream) ? normalStream : (normal?.path ?? g.stream?.path ?? null);
    if (g.train.length === 0 || !stream) {
      log(`${g.name}: left out (${g.train.length === 0 ? 'no training clips' : 'no normal sound to play'})`);
      continue;
    }
    machines.push({ name: g.name, train: g.train, stream });
  }
  if (machines.length === 0) throw new Error(`${dataset}: no group has training clips and sound to play`);
  return machines;
}

/**
 * The machines' sound (`benchMachines`), the default detector (or `input`) fitted once per machine and copied
 * as the model of `count` sensors into a fresh data directory; the streams the sensors play, at each rate.
 */
async function prepareSensors(
  root: string,
  count: number,
  rates: readonly number[],
  input: DetectorConfigInput,
  log: (line: string) => void,
  dataset?: string,
): Promise<{ dataDir: string; ids: string[]; wavs: Map<number, string[]> }> {
  const given = Object.keys(input).length > 0;
  const machines = await benchMachines(root, dataset, log);
  log(
    `fitting the ${given ? 'configured' : 'default'} model on each of ${machines.length} machines (${machines.map((m) => m.name).join(', ')})...`,
  );
  const config = resolveDetectorConfig(input);
  for (const [i, m] of machines.entries()) {
    const clips = await Promise.all(m.train.map((f) => readClip(f, config.mel.sampleRate)));
    const detector = await fitDetector(clips, config);
    await saveModel(detector, join(root, 'model', String(i)));
    await detector.release();
  }
  const ids = Array.from({ length: count }, (_, i) => `bench-${String(i + 1).padStart(2, '0')}`);
  const dataDir = join(root, 'data');
  mkdirSync(join(dataDir, 'models'), { recursive: true });
  // Sensor i plays machine i % M (pipeline-clients) and has that machine's model, as a plant would: its
  // windows are mostly normal, so alert writes do not dominate the figures.
  ids.forEach((id, i) =>
    cpSync(join(root, 'model', String(i % machines.length)), join(dataDir, 'models', id), {
      recursive: true,
    }),
  );
  const wavs = new Map<number, string[]>();
  for (const rate of rates) {
    // The same sound at the sensor's rate (resampled here, once), so only the server's resampling differs.
    wavs.set(
      rate,
      await Promise.all(
        machines.map(async ({ stream }, i) => {
          const clip = await readWav(stream);
          const looped = seamlessLoop(clip.samples, clip.sampleRate);
          const out = join(root, `stream-${i}-${rate}.wav`);
          writeFileSync(out, encodeWav(atSensorRate(looped, clip.sampleRate, rate), rate));
          return out;
        }),
      ),
    );
  }
  return { dataDir, ids, wavs };
}

/**
 * Pass band of the bench's upsampling, a fraction of the source's Nyquist frequency. The resampler's default
 * (0.9) spends the top tenth of the band on its transition. A source upsampled with it would lose its top mel
 * bins twice, here and in the server's downsampling, and a model fitted on the source's rate then flags them:
 * measured, the 5-minute river stream went from 0 alerts to 40 (offline replay; 45 in a 2-minute bench of 7
 * river sensors). A 48 kHz microphone's sound meets one filter, the server's (`ANALYSIS_PASSBAND` of @hark/dsp);
 * 0.98 leaves the source as it was up to 98 % of its band.
 */
export const UPSAMPLE_PASSBAND = 0.98;

/** Longest cross-fade of {@link seamlessLoop}, seconds, and its largest share of the recording. */
export const LOOP_CROSSFADE_SECONDS = 2;
export const LOOP_CROSSFADE_SHARE = 0.1;

/**
 * A recording made to loop without a join: its last `L` samples are cross-faded into its first `L` (equal power,
 * sine and cosine), and dropped from the end, so that the loop's end runs on into its start. The sensors loop
 * what they play, and a plain loop joins the recording's end to its start: a step in level and texture that the
 * detector flags as it would a click (measured: e07_traffic's `normal_stream.wav` scores 1.32 / 1.33 in the two
 * windows that hold its join, and at most 0.86 for two windows anywhere else; a 2 s cross-fade, 0.74 at most).
 * `L` is {@link LOOP_CROSSFADE_SECONDS}, or {@link LOOP_CROSSFADE_SHARE} of a shorter recording.
 */
export function seamlessLoop(samples: Float32Array, sampleRate: number): Float32Array {
  const L = Math.floor(Math.min(LOOP_CROSSFADE_SECONDS * sampleRate, LOOP_CROSSFADE_SHARE * samples.length));
  if (L < 1) return samples;
  const n = samples.length - L;
  const out = samples.slice(0, n);
  for (let i = 0; i < L; i++) {
    const t = (0.5 * Math.PI * (i + 0.5)) / L;
    out[i] = Math.sin(t) * samples[i] + Math.cos(t) * samples[n + i];
  }
  return out;
}

/** A stream's sound at a sensor's rate: upsampled with {@link UPSAMPLE_PASSBAND}, downsampled as the server does. */
export function atSensorRate(samples: Float32Array, from: number, to: number): Float32Array {
  return to > from
    ? resample(samples, from, to, { passband: UPSAMPLE_PASSBAND })
    : toAnalysisRate(samples, from, to);
}

/**
 * One step: the job's sensors and dashboard run in a child process; the server's scheduler counts what it
 * scored between the end of the warm-up and the end of the measured span (the profile covers the same span).
 */
async function measureStep(
  server: HarkServer,
  job: ClientsJob,
  profile: boolean,
): Promise<Omit<PipelineStep, 'rate'>> {
  const scheduler = server.sensors.scheduler;
  const stats = () => job.sensorIds.map((id) => server.sensors.scorer.stats(id));
  let before = stats();
  const widestHop = (s: ReturnType<typeof stats>) => Math.max(...s.map((a) => a.scoringHopSeconds));
  let hopAtStart = NaN;
  const ids = new Set(job.sensorIds);
  const alertsBySensor = async () => {
    const by = new Map<string, number>();
    for (const v of (await server.metrics.alerts.get()).values) {
      const id = String(v.labels.sensor);
      const key = `${id} ${String(v.labels.kind)}`;
      if (ids.has(id)) by.set(key, (by.get(key) ?? 0) + v.value);
    }
    return by;
  };
  let alertsBefore = Promise.resolve(new Map<string, number>());
  const confirming = async () =>
    (await server.metrics.windowsConfirming.get()).values
      .filter((v) => ids.has(String(v.labels.sensor)))
      .reduce((n, v) => n + v.value, 0);
  let confirmingBefore = Promise.resolve(0);
  const profiler = profile ? new StageProfiler(backboneWorkerThreads) : null;
  let profiling: Promise<void> | null = null;
  let cpu0 = process.cpuUsage();
  let wall0 = performance.now();
  let serverCores = NaN;
  let loop0 = performance.eventLoopUtilization();
  let serverLoopBusy = NaN;
  const result = await new Promise<ClientsResult>((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./pipeline-clients.js', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m: ClientsMessage) => {
      if (m.type === 'measuring') {
        before = stats();
        hopAtStart = widestHop(before);
        alertsBefore = alertsBySensor();
        confirmingBefore = confirming();
        profiling = profiler?.start() ?? null;
        cpu0 = process.cpuUsage();
        wall0 = performance.now();
        loop0 = performance.eventLoopUtilization();
        return;
      }
      // The span ends here, for this process, a moment after the child's (its sensors stopping).
      const cpu = process.cpuUsage(cpu0);
      serverCores = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
      serverLoopBusy = performance.eventLoopUtilization(loop0).utilization;
      child.disconnect();
      if (m.ok) resolve(m.result);
      else reject(new Error(m.error));
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`the sensors' process exited (code ${code}) before reporting`)),
    );
    child.send(job);
  });
  await profiling;
  const measuredScored = stats().reduce((s, a, i) => s + a.scored - before[i].scored, 0);
  const stageProfile = profiler ? await profiler.stop(measuredScored) : undefined;
  await scheduler.idle();
  const after = stats();
  const scored = after.reduce((s, a, i) => s + a.scored - before[i].scored, 0);
  const dropped = after.reduce(
    (s, a, i) => s + a.dropped + a.failed - before[i].dropped - before[i].failed,
    0,
  );
  const skipped = after.reduce((s, a, i) => s + a.skipped - before[i].skipped, 0);
  const lat = result.latenciesMs.sort((a, b) => a - b);
  const [alertsAfter, alertsAtStart] = [await alertsBySensor(), await alertsBefore];
  const alertSensors = [...alertsAfter].flatMap(([key, v]) => {
    const n = v - (alertsAtStart.get(key) ?? 0);
    const [id, kind] = key.split(' ');
    const wav = job.wavs[job.sensorIds.indexOf(id) % job.wavs.length];
    return n > 0 ? [`${id}: ${n} ${kind}, ${wav}`] : [];
  });
  const alerts = [...alertsAfter].reduce((n, [key, v]) => n + v - (alertsAtStart.get(key) ?? 0), 0);
  const windowsConfirming = (await confirming()) - (await confirmingBefore);
  return {
    sensors: job.sensorIds.length,
    seconds: job.seconds,
    windowsScored: scored,
    windowsDropped: dropped,
    windowsSkipped: skipped,
    windowsConfirming,
    scoringHopSeconds: widestHop(after),
    scoringHopStartSeconds: hopAtStart,
    scoreEvents: result.scores,
    alertsOpened: alerts,
    alertSensors,
    p50: pct(lat, 50),
    p95: pct(lat, 95),
    p99: pct(lat, 99),
    max: lat.at(-1) ?? NaN,
    // Real time at the full rate: past capacity the server scores every sensor at a wider hop instead of
    // dropping windows (issue 16), and such a step is graceful degradation, not sustained.
    sustained: dropped === 0 && skipped === 0 && result.errors.length === 0 && result.scores > 0,
    errors: result.errors.slice(0, 5),
    ...memoryFigures(),
    serverCores: round2(serverCores),
    serverLoopBusy: round2(serverLoopBusy),
    clientsCores: round2(result.cpuMs / result.wallMs),
    ...(stageProfile ? { profile: stageProfile } : {}),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The server process's memory now, MB. */
function memoryFigures(): Pick<PipelineStep, 'rssMb' | 'heapUsedMb' | 'externalMb'> {
  const m = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external) };
}

export function pipelineTable(steps: readonly PipelineStep[]): string {
  return markdownTable(
    [
      'sensors',
      'rate Hz',
      'windows scored',
      'dropped',
      'skipped (wider hop)',
      'scoring hop s, start / end',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'alerts opened',
      'RSS MB',
      'server CPU, cores',
      "server's event loop busy",
      "sensors' CPU, cores",
      'sustained',
    ],
    steps.map((s) => [
      s.sensors,
      fleetLabel(stepFleet(s)),
      s.windowsScored,
      s.windowsDropped,
      s.windowsSkipped,
      `${s.scoringHopStartSeconds} / ${s.scoringHopSeconds}`,
      s.p50,
      s.p95,
      s.p99,
      s.max,
      s.alertsOpened,
      s.rssMb,
      s.serverCores,
      s.serverLoopBusy,
      s.clientsCores,
      s.sustained ? 'yes' : 'no',
    ]),
  );
}

/** The capacity found, per sensor rate (one line each when several rates ran) or per mixed fleet. */
export function pipelineSummary(
  steps: readonly PipelineStep[],
  rates: readonly number[],
  mixed = false,
): string {
  const runs = fleets(rates, mixed);
  return runs
    .flatMap((fleet) => {
      const label = fleetLabel(fleet);
      const at = steps.filter((s) => fleetLabel(stepFleet(s)) === label);
      const on =
        fleet.length > 1
          ? ` (sensors at ${label} Hz, split evenly)`
          : runs.length > 1
            ? ` (sensors at ${label} Hz)`
            : '';
      const best = at.filter((s) => s.sustained).at(-1);
      const fast = at.filter((x) => x.sustained && x.p99 < 250).at(-1);
      const at16 = at.find((s) => s.sensors === 16);
      return [
        `Sustained without dropping or skipping a window${on}: **${best ? best.sensors : 0} sensors** (largest step tried with every window scored).`,
        `Largest step with no drop and p99 under 250 ms${on}: **${fast?.sensors ?? 0} sensors**.`,
        at16
          ? `At 16 sensors${on}: p50 ${at16.p50} ms, p95 ${at16.p95} ms, p99 ${at16.p99} ms (target: p99 < 250 ms).`
          : '',
      ];
    })
    .filter(Boolean)
    .join('  \n');
}

/** The stage tables of profiled steps: one column per step, CPU ms per scored window, and the loop's lag. */
export function profileTable(steps: readonly PipelineStep[]): string {
  const profiled = steps.filter((s) => s.profile);
  if (profiled.length === 0) return '';
  const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '-');
  const pc = (v: number) => `${(v * 100).toFixed(0)} %`;
  const stages = profiled[0].profile!.rows.map((r) => r.stage);
  const rows: (string | number)[][] = stages.map((stage, i) => [
    stage,
    ...profiled.flatMap((s) => [ms(s.profile!.rows[i].msPerWindow), pc(s.profile!.rows[i].share)]),
  ]);
  rows.push(['**all threads**', ...profiled.flatMap((s) => [ms(s.profile!.cpuMsPerWindow), '100 %'])]);
  rows.push([
    'event loop busy (share of one core)',
    ...profiled.flatMap((s) => [pc(s.profile!.eventLoopBusy), '']),
  ]);
  rows.push([
    'event-loop lag p50 / p99 / max, ms',
    ...profiled.flatMap((s) => {
      const l = s.profile!.lagMs;
      return [`${l.p50.toFixed(1)} / ${l.p99.toFixed(1)} / ${l.max.toFixed(1)}`, ''];
    }),
  ]);
  return markdownTable(
    [
      'stage (CPU ms per scored window)',
      ...profiled.flatMap((s) => [
        `${s.sensors} sensors, ${stepFleet(s)
          .map((r) => r / 1000)
          .join(' + ')} kHz`,
        'share',
      ]),
    ],
    rows,
  );
}

const list = (v: string) =>
  v.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1 || n > 256)
      throw new Error(`'${x}' is not a number of sensors (1-256)`);
    return n;
  });

const rateList = (v: string) =>
  v.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < MIN_SAMPLE_RATE || n > 384000)
      throw new Error(`'${x}' is not a sample rate in Hz (${MIN_SAMPLE_RATE}-384000)`);
    return n;
  });

export function registerBenchPipeline(bench: Command): void {
  bench
    .command('pipeline')
    .description('concurrent real-time sensors one server process sustains, and score latency at a dashboard')
    .option('--sensors <list>', 'numbers of sensors to try, in order', list, [4, 8, 12, 16, 20, 24, 28, 32])
    .option(
      '--rates <list>',
      'sample rates (Hz) the sensors stream at; the steps run once per rate (other rates go through the resampler)',
      rateList,
      [ANALYSIS_RATE],
    )
    .option(
      '--mixed',
      'with several --rates, one run of steps whose sensors are split evenly between the rates (a mixed fleet: ' +
        '64 at 16000,48000 is 32 at each), instead of a run per rate',
    )
    .option('--seconds <s>', 'measured seconds per step', positiveInt, 30)
    .option('--warmup <s>', 'seconds before measuring, per step', positiveInt, 5)
    .option(
      '--chunk-ms <ms>',
      "audio per sensor message, ms (default: hark sensor's)",
      positiveNumber,
      DEFAULT_CHUNK_MS,
    )
    .option('--all', 'keep stepping after a step drops windows')
    .option('--config <json>', DETECTOR_HELP.config, configOverrides)
    .option(
      '--dataset <root>',
      'machines from a dataset in the DATASET.md layout: a model per group fitted on its train/, its sensors ' +
        'looping one recording of its normal sound (normal_stream.wav, else its first normal test clip, else ' +
        'stream.wav); default: the ' +
        'synthetic pump, fan and gearbox',
    )
    .option(
      '--profile',
      "also report, per step, each stage's CPU ms per scored window (V8's sampling profiler on the event loop, " +
        'the kernel for thread CPU) and the event-loop lag; written to its own section, instead of the capacity table (default: off)',
    )
    .option('--no-write', 'print the table without updating BENCHMARKS.md')
    .action(
      async (o: {
        sensors: number[];
        rates: number[];
        mixed?: boolean;
        seconds: number;
        warmup: number;
        chunkMs: number;
        all?: boolean;
        profile?: boolean;
        config?: Record<string, unknown>;
        dataset?: string;
        write: boolean;
      }) => {
        const sound = o.dataset
          ? `the groups of the dataset \`${o.dataset}\`, each group's normal sound looped`
          : 'synthetic pump / fan / gearbox, looped';
        const steps = await runPipelineBench({
          ...o,
          mixed: !!o.mixed,
          all: !!o.all,
          profile: !!o.profile,
          log: (l) => console.log(l),
        });
        const table = pipelineTable(steps);
        const stages = profileTable(steps);
        const summary = pipelineSummary(steps, o.rates, !!o.mixed);
        console.log(`\n${table}\n\n${summary}`);
        if (stages) console.log(`\n${stages}`);
        for (const s of steps.filter((x) => x.profile)) {
          console.log(
            `\nBusiest functions on the event loop, ${s.sensors} sensors (own ms per scored window):`,
          );
          for (const h of s.profile!.hot.slice(0, 15))
            console.log(
              `  ${(h.ms / s.profile!.windows).toFixed(2).padStart(6)}  ${h.stage.padEnd(38)} ${h.functionName} ${h.where}`,
            );
        }
        if (o.write && stages) {
          const body =
            `${stages}\n\n` +
            "Per measured span of each step: the event loop is sampled by V8's CPU profiler (500 us) and every sample " +
            'is charged to the innermost frame a rule of `apps/cli/src/bench/stage-profile.ts` recognises; the shares ' +
            "are scaled to the event loop thread's CPU time from `/proc`. The backbone's worker thread (where the " +
            'server runs its ONNX session unless HARK_BACKBONE_WORKER=0) is read from `/proc` by its thread id. ' +
            '"Off the event loop" is the rest of the ' +
            "process's CPU: FAISS searches of the method and the context memory on libuv's pool, and V8's helper " +
            'threads. Sensors and the dashboard run in a child process and are not counted. Shares are of the ' +
            `process's CPU. FAISS searches on ${getNumThreads()} thread(s) (the server's setting). Sound: ${sound}. Models: ` +
            (o.config ? `detector \`--config '${JSON.stringify(o.config)}'\`` : 'the default detector') +
            '. Load average (1, 5, 15 min) at the end: ' +
            `${loadavg()
              .map((x) => x.toFixed(2))
              .join(', ')} on ${cpus().length} cores.`;
          console.log(
            `written to ${writeBenchmarkSection('pipeline-profile', 'Pipeline: CPU per stage of a live window (`hark bench pipeline --profile`)', body)}`,
          );
        }
        // A profiled run writes only its stage table: the sampler's own cost would bias the capacity figures.
        if (o.write && !stages) {
          const body =
            `${summary}\n\n${table}\n\n` +
            `Each sensor streams s16le at the rate in the table (a mixed fleet, "16000 + 48000": sensors split evenly) in ${o.chunkMs} ms chunks in real time` +
            ` (${sound}) ` +
            'through `SensorClient`; one model per sensor, fitted on the machine it plays (' +
            (o.config ? `detector \`--config '${JSON.stringify(o.config)}'\`` : 'the default detector') +
            ': PatchCore, MobileNetV2, 1 s windows every 0.5 s unless the configuration says otherwise). ' +
            'Latency: from the arrival at the server of the chunk completing a window to the `score` event at a dashboard ' +
            'subscribed to every sensor (same machine). Sensors and dashboard run in a child process on the same machine; ' +
            "RSS is the server process's at the end of the step; CPU, cores: each process's CPU seconds per second over " +
            "the measured span (the sensors' is what a plant's microphones would spend elsewhere). " +
            `The server's FAISS searches ran on ${getNumThreads()} thread(s) of ${cpus().length} cores.`;
          console.log(
            `written to ${writeBenchmarkSection('pipeline', 'Pipeline: concurrent live sensors per server process', body)}`,
          );
        }
      },
    );
}
