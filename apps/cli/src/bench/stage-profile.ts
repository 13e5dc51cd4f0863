/**
 * `hark bench pipeline --profile`: where a live window's CPU goes, stage by stage, measured without touching
 * the code under test.
 *
 * - **The event loop's thread** is sampled by V8's own CPU profiler (`node:inspector`, `Profiler` domain).
 *   Every sample is charged to a stage by walking from the running function up its call stack to the first
 *   frame whose script (or name) a rule below recognises: a `Float32Array.from` inside the fusion counts as
 *   fusion, ONNX Runtime's synchronous `run` as the backbone. The sampled shares are then scaled to the
 *   thread's real CPU time, read from the kernel (`/proc/self/task/<pid>/stat`), so time the process spent
 *   descheduled is not counted.
 * - **The backbone's worker threads** (`@hark/detection` `backboneWorkerThreads`, where the server runs its
 *   ONNX sessions by default) are read from the kernel the same way, by thread id, as one row.
 * - **Off the event loop** the process's other threads are FAISS searches (the method's and the context
 *   memory's `searchAsync`, on libuv's pool, OpenMP threads inside) and V8's helper threads (concurrent GC).
 *   Linux names them all `node`, so they are reported as one row: the process's CPU (`process.cpuUsage`) less
 *   the event loop's and the backbone workers'. Sensors and dashboard must therefore run in another process
 *   (they do: `pipeline-clients`).
 * - **Event-loop lag** is `perf_hooks.monitorEventLoopDelay` over the same span.
 */
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** The stages a window passes, in data-path order (`hark bench pipeline --profile` rows). */
export const PROFILE_STAGES = [
  'decode and resample',
  'log-mel',
  'window standardisation',
  'backbone (ONNX) and patch features',
  'method scoring',
  'k-NN search binding (event-loop part)',
  'context memory',
  'tonal envelope',
  'fusion and map',
  'column quantisation and emit',
  'alert tracking',
  'SQLite writes',
  'socket.io and transport',
  'garbage collection (event loop)',
  'other (event loop)',
] as const;
export type ProfileStage = (typeof PROFILE_STAGES)[number];

/** The row for the backbone's worker threads (ONNX Runtime's inference, when it runs there). */
export const BACKBONE_WORKER_STAGE = 'backbone (ONNX) in its worker thread';

/** The row for the rest of the CPU off the event loop (FAISS searches in libuv's pool, V8 helper threads). */
export const OFF_LOOP_STAGE = 'off the event loop (FAISS searches, V8 helpers)';

interface Rule {
  stage: ProfileStage;
  /** Matches a frame's script URL. */
  url?: RegExp;
  /** Matches a frame's function name (with `url` when both are given). */
  fn?: RegExp;
}

/**
 * First match wins, so specific rules come before the library they sit in. URLs are those of the built
 * workspaces (`libs/<lib>/dist/...`, `apps/server/dist/...`), of their sources (under test), or of
 * `node_modules`.
 */
const RULES: readonly Rule[] = [
  { stage: 'decode and resample', url: /\/ingest\/pcm\.|\/dsp\/(dist|src)\/resample|^wasm:/ },
  { stage: 'decode and resample', url: /\/ingest\/sensor-stream\./, fn: /^(audio|decodePcm)$/ },
  { stage: 'log-mel', url: /\/dsp\/(dist|src)\/(extractor|spectrogram|stft|mel|window|params)\./ },
  { stage: 'window standardisation', url: /\/input-scaling\./ },
  { stage: 'window standardisation', url: /\/feature-extractor\./, fn: /^standardise/ },
  {
    stage: 'backbone (ONNX) and patch features',
    url: /onnxruntime|\/backbones\/|\/feature-extractor\.|\/feature-maps\./,
  },
  { stage: 'context memory', url: /\/context-memory\./ },
  { stage: 'tonal envelope', url: /\/tonal-envelope\./ },
  { stage: 'method scoring', url: /\/(patchcore|padim|spade)\/|\/frequency-position\./ },
  // The binding's own work on the loop (copying queries in, results out): for the method and the context
  // memory alike, since a search's completion runs from the loop with no caller on the stack.
  { stage: 'k-NN search binding (event-loop part)', url: /\/native\/(dist|src)\/|\/searched-indexes\./ },
  {
    stage: 'fusion and map',
    url: /\/pipeline\/(fusion|anomaly-map|row-calibration|boxes|detector)\.|\/gaussian-blur\.|\/calibration\//,
  },
  { stage: 'column quantisation and emit', url: /\/server\/(dist|src)\/live\// },
  { stage: 'alert tracking', url: /\/server\/(dist|src)\/alerts\// },
  // Kysely too: a query's statement runs from the driver's continuation, with no store frame on the stack.
  { stage: 'SQLite writes', url: /better-sqlite3|\/node_modules\/kysely\/|\/server\/(dist|src)\/store\// },
  {
    stage: 'socket.io and transport',
    url: /socket\.io|engine\.io|\/ws\/|node:net|node:internal\/stream_base/,
  },
];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber?: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * Milliseconds of samples per stage (idle samples left out). Each sample is charged to the first frame, from
 * the running one outwards, that a rule recognises; `(garbage collector)` to GC; the rest to "other".
 */
export function attributeSamples(profile: CpuProfile): Map<ProfileStage, number> {
  return attribute(profile).byStage;
}

/** A function's own sampled time and the stage it was charged to. */
export interface HotFunction {
  stage: ProfileStage;
  functionName: string;
  /** Script path and line (1-based); for built-ins and native code, the nearest caller's (or ''). */
  where: string;
  ms: number;
}

function attribute(profile: CpuProfile): { byStage: Map<ProfileStage, number>; hot: HotFunction[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map<number, ProfileStage | null>();
  const classify = (id: number): ProfileStage | null => {
    if (stageOf.has(id)) return stageOf.get(id)!;
    const { functionName, url } = byId.get(id)!.callFrame;
    let stage: ProfileStage | null = null;
    if (functionName === '(idle)') stage = null;
    else if (functionName === '(garbage collector)') stage = 'garbage collection (event loop)';
    else {
      const rule = RULES.find((r) => (!r.url || r.url.test(url)) && (!r.fn || r.fn.test(functionName)));
      if (rule) stage = rule.stage;
      else {
        const up = parent.get(id);
        stage = up === undefined ? 'other (event loop)' : (classify(up) ?? 'other (event loop)');
      }
    }
    stageOf.set(id, stage);
    return stage;
  };
  const at = (url: string, line: number | undefined) =>
    `${url.replace(/^file:\/\//, '')}:${(line ?? -1) + 1}`;
  // Native and built-in frames have no script: name the nearest caller that has one.
  const calledFrom = (id: number): string => {
    for (let up = parent.get(id); up !== undefined; up = parent.get(up)) {
      const f = byId.get(up)!.callFrame;
      if (f.url) return `called from ${f.functionName || '(anonymous)'} ${at(f.url, f.lineNumber)}`;
    }
    return '';
  };
  // The profiler's own work (collecting the profile at the end) is not the server's.
  const profilerOwn = (id: number): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
      if (byId.get(at)!.callFrame.url.startsWith('node:inspector')) return true;
    return false;
  };
  const ms = new Map<ProfileStage, number>();
  const self = new Map<string, HotFunction>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // A sample's delta is the time since the previous sample: it belongs to the sample that follows it.
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]);
    if (!node || node.callFrame.functionName === '(idle)' || profilerOwn(samples[i])) continue;
    const stage = classify(samples[i]);
    if (!stage) continue;
    const d = Math.max(0, deltas[i] ?? 0) / 1000;
    ms.set(stage, (ms.get(stage) ?? 0) + d);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? at(url, lineNumber) : calledFrom(samples[i]);
    const key = `${stage}|${functionName}|${where}`;
    const hot = self.get(key) ?? { stage, functionName: functionName || '(anonymous)', where, ms: 0 };
    hot.ms += d;
    self.set(key, hot);
  }
  return { byStage: ms, hot: [...self.values()].sort((a, b) => b.ms - a.ms) };
}

/** CPU ms (user + system) of the event loop's thread, from the kernel. */
export function eventLoopThreadCpuMs(): number {
  const ms = threadCpuMs(process.pid);
  if (ms === null)
    throw new Error('no /proc/self/task entry for the event loop: the stage profile needs Linux');
  return ms;
}

/** CPU ms (user + system) of this process's thread `tid`, from the kernel; null if there is no such thread. */
export function threadCpuMs(tid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  // Fields after the command (which may hold spaces) start after the last ')'; utime and stime are 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return (ticks * 1000) / clockTicksPerSecond();
}

/** `getconf CLK_TCK`: 100 on every Linux that Node supports. */
const clockTicksPerSecond = () => 100;

export interface StageRow {
  stage: ProfileStage | typeof BACKBONE_WORKER_STAGE | typeof OFF_LOOP_STAGE;
  /** CPU ms per scored window. */
  msPerWindow: number;
  /** Share of the process's CPU. */
  share: number;
}

export interface StageProfileResult {
  rows: StageRow[];
  /** Windows scored in the span (what the per-window figures divide by). */
  windows: number;
  /** Process CPU ms per scored window (all threads). */
  cpuMsPerWindow: number;
  /** Event-loop thread CPU as a share of one core over the span. */
  eventLoopBusy: number;
  lagMs: { p50: number; p99: number; max: number };
  /** Sampled ms of the event loop (for the reader: how much the shares rest on). */
  sampledMs: number;
  /** The functions with the most own time on the event loop (CPU ms, scaled as the rows), most first (<= 25). */
  hot: HotFunction[];
  seconds: number;
}

/** CPU ms of each of `tids` now (threads that have ended left out). */
function threadsCpuMs(tids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of tids) {
    const ms = threadCpuMs(tid);
    if (ms !== null) out.set(tid, ms);
  }
  return out;
}

/**
 * A profiling span: start, run the load, then `stop(windowsScored)`. One at a time per process.
 * `workerThreads` lists the backbone's worker threads (default none); a worker that ends within the span
 * loses its CPU from the row (a restart after a crash: rare, and logged by the server).
 */
export class StageProfiler {
  constructor(private readonly workerThreads: () => readonly number[] = () => []) {}
  #session: Session | null = null;
  #workers0 = new Map<number, number>();
  #lag: IntervalHistogram | null = null;
  #cpu0 = process.cpuUsage();
  #loop0 = 0;
  #t0 = 0;

  async start(samplingIntervalUs = 500): Promise<void> {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
    await session.post('Profiler.start');
    this.#session = session;
    this.#lag = monitorEventLoopDelay({ resolution: 10 });
    this.#lag.enable();
    this.#cpu0 = process.cpuUsage();
    this.#loop0 = eventLoopThreadCpuMs();
    this.#workers0 = threadsCpuMs(this.workerThreads());
    this.#t0 = performance.now();
  }

  async stop(windowsScored: number): Promise<StageProfileResult> {
    const session = this.#session;
    if (!session || !this.#lag) throw new Error('the profiler was not started');
    const seconds = (performance.now() - this.#t0) / 1000;
    const cpu = process.cpuUsage(this.#cpu0);
    const loopMs = eventLoopThreadCpuMs() - this.#loop0;
    let workerMs = 0;
    for (const [tid, ms] of threadsCpuMs(this.workerThreads()))
      workerMs += ms - (this.#workers0.get(tid) ?? 0);
    const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
    await session.post('Profiler.disable');
    session.disconnect();
    this.#session = null;
    this.#lag.disable();
    const lag = this.#lag;
    this.#lag = null;
    const processMs = (cpu.user + cpu.system) / 1000;
    const { byStage, hot } = attribute(profile);
    return summarise(byStage, hot.slice(0, 25), {
      processMs,
      loopMs,
      workerMs,
      windows: windowsScored,
      seconds,
      lagMs: { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
    });
  }
}

/** Scales sampled shares to the event loop's CPU and adds the backbone worker's and the off-loop rows. */
export function summarise(
  sampled: Map<ProfileStage, number>,
  hot: HotFunction[],
  m: {
    processMs: number;
    loopMs: number;
    /** CPU ms of the backbone's worker threads (0 when it runs on the loop). */
    workerMs?: number;
    windows: number;
    seconds: number;
    lagMs: StageProfileResult['lagMs'];
  },
): StageProfileResult {
  const sampledMs = [...sampled.values()].reduce((a, b) => a + b, 0);
  const per = (ms: number) => (m.windows > 0 ? ms / m.windows : NaN);
  // Samples count wall time on the thread; the kernel's CPU time is what they are scaled to.
  const scale = sampledMs > 0 ? m.loopMs / sampledMs : 0;
  const workerMs = Math.max(0, m.workerMs ?? 0);
  const offLoop = Math.max(0, m.processMs - m.loopMs - workerMs);
  const rows: StageRow[] = PROFILE_STAGES.map((stage) => {
    const ms = (sampled.get(stage) ?? 0) * scale;
    return { stage, msPerWindow: per(ms), share: m.processMs > 0 ? ms / m.processMs : 0 };
  });
  rows.push({
    stage: BACKBONE_WORKER_STAGE,
    msPerWindow: per(workerMs),
    share: m.processMs > 0 ? workerMs / m.processMs : 0,
  });
  rows.push({
    stage: OFF_LOOP_STAGE,
    msPerWindow: per(offLoop),
    share: m.processMs > 0 ? offLoop / m.processMs : 0,
  });
  return {
    rows,
    cpuMsPerWindow: per(m.processMs),
    eventLoopBusy: m.seconds > 0 ? m.loopMs / 1000 / m.seconds : 0,
    lagMs: m.lagMs,
    sampledMs,
    hot: hot.map((h) => ({ ...h, ms: h.ms * scale })),
    windows: m.windows,
    seconds: m.seconds,
  };
}
