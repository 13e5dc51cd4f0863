/**
 * Where a backbone's onnxruntime session runs.
 *
 * - `'caller'`: on the thread that asks. onnxruntime-node's `run` defers by one `setImmediate`, then infers
 *   synchronously: it holds the caller's event loop for the whole inference (about 2.5 ms per window of the
 *   default backbone on this project's 2-core machines).
 * - `'worker'`: in a worker thread of its own (`workers/backbone-worker.mjs`). The caller's event loop only
 *   posts the input and takes the outputs; a live server keeps it for its sockets and the rest of the scoring.
 *
 * Both give the same outputs to the bit: the same model bytes, session options and onnxruntime build.
 */
import { Worker } from 'node:worker_threads';
import { startWorker } from '@hark/dsp';
import * as ort from 'onnxruntime-node';

export type BackboneThread = 'caller' | 'worker';

/** One output of a run: NCHW. */
export interface RunOutput {
  data: Float32Array;
  dims: number[];
}

export interface SessionRunner {
  readonly thread: BackboneThread;
  /** Runs the model on `x` (the input `x`, shape `dims`); every output of the model by name. */
  run(x: Float32Array, dims: readonly number[]): Promise<Record<string, RunOutput>>;
  /** Frees the session (and ends its worker). */
  release(): Promise<void>;
}

let defaultThread: BackboneThread = 'caller';

/**
 * Where backbones loaded from now on run their sessions (default `'caller'`). A live server sets `'worker'`
 * (`HARK_BACKBONE_WORKER`); a batch job (fitting, `hark evaluate`) has nothing else for its event loop to do.
 */
export function setBackboneThread(thread: BackboneThread): void {
  if (thread !== 'caller' && thread !== 'worker')
    throw new Error(`backbone thread must be 'caller' or 'worker', not ${String(thread)}`);
  defaultThread = thread;
}

export function backboneThread(): BackboneThread {
  return defaultThread;
}

/** Opens a session of `model` with `options` on `thread`. */
export async function openSessionRunner(
  model: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
  thread: BackboneThread,
): Promise<SessionRunner> {
  if (thread === 'worker') return WorkerRunner.open(model, options);
  return new CallerRunner(await ort.InferenceSession.create(model, options));
}

function outputsOf(out: ort.InferenceSession.ReturnType): Record<string, RunOutput> {
  const outputs: Record<string, RunOutput> = {};
  for (const [name, t] of Object.entries(out))
    outputs[name] = { data: t.data as Float32Array, dims: t.dims.map(Number) };
  return outputs;
}

class CallerRunner implements SessionRunner {
  readonly thread = 'caller';
  constructor(private readonly session: ort.InferenceSession) {}

  async run(x: Float32Array, dims: readonly number[]): Promise<Record<string, RunOutput>> {
    return outputsOf(await this.session.run({ x: new ort.Tensor('float32', x, [...dims]) }));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

const WORKER_URL = new URL('../../workers/backbone-worker.mjs', import.meta.url);

interface Pending {
  resolve: (outputs: Record<string, RunOutput>) => void;
  reject: (err: Error) => void;
}

/** The worker runners open now (for `backboneWorkerThreads`). */
const liveRunners = new Set<WorkerRunner>();

/**
 * The kernel's thread ids of the backbone worker threads running now (Linux; empty elsewhere), so a profiler
 * can read their CPU time apart from the event loop's (`/proc/self/task/<tid>/stat`).
 */
export function backboneWorkerThreads(): number[] {
  const tids: number[] = [];
  for (const r of liveRunners) if (r.tid !== null) tids.push(r.tid);
  return tids;
}

type Answer = { id: number; outputs: Record<string, RunOutput> } | { id: number; error: string };

/**
 * The session in a worker thread. Runs are answered in the order they were asked. If the worker dies (an error
 * thrown in it, or it was terminated), the runs it held fail with an error that says so, and the next run starts
 * a new worker from the same model bytes: the windows in flight are lost, not the sensors. The worker keeps the process
 * alive only while it starts or holds a run.
 */
export class WorkerRunner implements SessionRunner {
  readonly thread = 'worker';
  #worker: Worker | null = null;
  #ready: Promise<Worker> | null = null;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #released = false;
  /** Workers started, the first one included (a restart after a worker died adds one). */
  starts = 0;
  /** The running worker's kernel thread id (null: none running, or not Linux). */
  tid: number | null = null;

  private constructor(
    private readonly model: Uint8Array,
    private readonly options: ort.InferenceSession.SessionOptions,
  ) {}

  static async open(model: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<WorkerRunner> {
    const runner = new WorkerRunner(model, options);
    await runner.#start();
    return runner;
  }

  /** The worker now running (null: none; the next run starts one). For tests. */
  get worker(): Worker | null {
    return this.#worker;
  }

  #start(): Promise<Worker> {
    if (this.#ready) return this.#ready;
    this.starts++;
    const worker = startWorker(WORKER_URL, { workerData: { model: this.model, options: this.options } });
    this.#worker = worker;
    const ready = new Promise<Worker>((resolve, reject) => {
      let opened = false;
      worker.on('message', (m: { op?: string; error?: string; tid?: number | null } & Partial<Answer>) => {
        if (opened) return this.#answer(worker, m as Answer);
        if (m.op === 'ready') {
          opened = true;
          this.tid = m.tid ?? null;
          liveRunners.add(this);
          if (this.#pending.size === 0) worker.unref();
          resolve(worker);
        } else if (m.op === 'failed') {
          reject(new Error(`the backbone's session did not open in its worker thread: ${m.error}`));
        }
      });
      const stopped = (why: string) => {
        if (!opened)
          reject(new Error(`the backbone's worker thread stopped while opening its session: ${why}`));
        this.#stopped(worker, why);
      };
      worker.on('error', (err) => stopped(err.message));
      worker.on('exit', (code) => stopped(`it exited with code ${code}`));
    });
    this.#ready = ready;
    ready.catch(() => undefined);
    return ready;
  }

  #answer(worker: Worker, m: Answer): void {
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if (this.#pending.size === 0 && this.#worker === worker) worker.unref();
    if ('error' in m) p.reject(new Error(`backbone run failed: ${m.error}`));
    else p.resolve(m.outputs);
  }

  #stopped(worker: Worker, why: string): void {
    if (this.#worker !== worker) return;
    this.#worker = null;
    this.#ready = null;
    this.tid = null;
    liveRunners.delete(this);
    const lost = [...this.#pending.values()];
    this.#pending.clear();
    const restart = this.#released ? '' : '; the next run starts a new worker';
    for (const p of lost)
      p.reject(new Error(`the backbone's worker thread stopped before answering (${why})${restart}`));
  }

  async run(x: Float32Array, dims: readonly number[]): Promise<Record<string, RunOutput>> {
    if (this.#released) throw new Error('the backbone session was released');
    const worker = await this.#start();
    if (this.#worker !== worker || this.#released)
      throw new Error("the backbone's worker thread stopped before the run was sent; run it again");
    // The input goes over as its own buffer, moved, not shared: the caller keeps its array.
    const input = x.slice();
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) worker.ref();
      worker.postMessage({ op: 'run', id, x: input, dims: [...dims] }, [input.buffer]);
    });
  }

  /** Ends the worker after the runs it holds (they are answered first). */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    const worker = this.#worker;
    if (!worker) return;
    await this.#ready?.catch(() => undefined);
    if (this.#worker !== worker) return;
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.ref();
      worker.postMessage({ op: 'release' });
      setTimeout(() => void worker.terminate(), 5000).unref();
    });
  }
}
