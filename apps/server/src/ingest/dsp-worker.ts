/**
 * The live streams' DSP off the event loop: one worker thread (`workers/dsp-worker.mjs`) resamples every
 * stream to the analysis rate and computes its streaming log-mel, so that the event loop keeps the sockets,
 * the rings and the scoring (issue 16: at 64 sensors at 48 kHz these two took about a fifth of the loop,
 * whatever the scoring hop).
 *
 * Each {@link SensorStream} segment opens a {@link DspPipe} (its resampler and extractor live in the worker).
 * Audio goes in with `push`; the worker answers every push and flush, in order, with the resampled samples
 * and the columns they completed, and the pipe's handler puts them in the stream's rings. Everything goes
 * through one message channel, so replies keep the order of the requests.
 *
 * **Draining.** A segment's end (a new stream, format or model, an idle stream's release) needs every reply
 * before it in the rings. {@link DspWorker.drain} waits for them synchronously: the worker counts its replies
 * in shared memory (`Atomics.wait` sleeps on it) and the main thread takes them off the port with
 * `receiveMessageOnPort`. That happens at a segment's end only, a few times in a stream's life.
 *
 * **If the worker stops** (a crash, or a drain that waits longer than {@link DRAIN_TIMEOUT_MS}), every pipe is
 * told it is lost: its stream starts a new segment and resamples on the event loop from then on. The audio of
 * the requests still in flight is lost, and said so in the log. Nothing else is.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import type { MelParams } from '@hark/dsp';
import { startWorker } from '../worker-thread.js';

/** What the worker returns for one push or flush. */
export interface DspResult {
  /** Resampled audio at the analysis rate. */
  samples: Float32Array;
  /** The log-mel columns it completed, frame-major `[n, nMels]`. */
  columns: Float32Array;
  /** The segment frame number of the first column. */
  k0: number;
}

export interface DspPipeHandler {
  /** A reply, in request order. */
  result(r: DspResult): void;
  /** The worker stopped: this pipe's requests not answered yet are lost. */
  lost(reason: string): void;
}

interface Reply {
  pipe: number;
  samples?: Float32Array;
  columns?: Float32Array;
  k0?: number;
  error?: string;
}

/** The longest a drain waits for the worker before counting it stopped, ms. */
export const DRAIN_TIMEOUT_MS = 10_000;

export class DspWorker {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  /** Replies the worker has posted (written by the worker). */
  readonly #posted: Int32Array;
  /** Replies asked for (pushes and flushes sent) and replies handled. */
  #asked = 0;
  #handled = 0;
  readonly #pipes = new Map<number, DspPipe>();
  #nextPipe = 1;
  #failed: string | null = null;
  #closing = false;

  /**
   * @param log where the worker's failure is said
   * @param onRunning told false when the worker stops (a crash or a drain that timed out), for `/metrics`
   */
  constructor(
    private readonly log: (line: string) => void = () => {},
    private readonly onRunning: (running: boolean) => void = () => {},
  ) {
    const replies = new SharedArrayBuffer(4);
    this.#posted = new Int32Array(replies);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = startWorker(new URL('../../workers/dsp-worker.mjs', import.meta.url), {
      workerData: { port: port2, replies },
      transferList: [port2],
    });
    port1.on('message', (m: Reply) => this.#reply(m));
    this.#worker.on('error', (err) => this.#fail(`it failed: ${err.message}`));
    this.#worker.on('exit', (code) => {
      if (!this.#closing) this.#fail(`it exited with code ${code}`);
    });
    // Neither keeps the process alive: the server closes the worker at shutdown, a test may not.
    this.#worker.unref();
    port1.unref();
  }

  /** False once the worker has stopped: streams then resample on the event loop. */
  get running(): boolean {
    return this.#failed === null && !this.#closing;
  }

  /** Requests not answered yet. */
  get pending(): number {
    return this.#asked - this.#handled;
  }

  /**
   * A resampler from `inRate` to the analysis rate and a log-mel extractor of `mel` in the worker, or null
   * when the worker has stopped. The caller validates both first: the worker cannot refuse them.
   */
  open(inRate: number, mel: MelParams, handler: DspPipeHandler): DspPipe | null {
    if (!this.running) return null;
    const pipe = new DspPipe(this, this.#nextPipe++, handler);
    this.#pipes.set(pipe.id, pipe);
    this.#port.postMessage({ op: 'open', pipe: pipe.id, inRate, mel });
    return pipe;
  }

  /** Sends `mono`'s buffer to the worker (the array is unusable after). */
  push(pipe: DspPipe, mono: Float32Array): void {
    this.#asked++;
    this.#port.postMessage({ op: 'push', pipe: pipe.id, mono }, [mono.buffer as ArrayBuffer]);
  }

  flush(pipe: DspPipe): void {
    this.#asked++;
    this.#port.postMessage({ op: 'flush', pipe: pipe.id });
  }

  reset(pipe: DspPipe): void {
    this.#port.postMessage({ op: 'reset', pipe: pipe.id });
  }

  close(pipe: DspPipe): void {
    this.#pipes.delete(pipe.id);
    if (this.running) this.#port.postMessage({ op: 'close', pipe: pipe.id });
  }

  /**
   * Handles every reply asked for so far (any stream's), waiting for the worker as long as it takes, up to
   * {@link DRAIN_TIMEOUT_MS}; past that the worker counts as stopped.
   */
  drain(): void {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (this.#handled < this.#asked && this.#failed === null) {
      const got = receiveMessageOnPort(this.#port);
      if (got) {
        this.#reply(got.message as Reply);
        continue;
      }
      // Every reply up to `posted` is on the port already; wait for the next one.
      const posted = Atomics.load(this.#posted, 0);
      const left = deadline - Date.now();
      if (left <= 0) {
        this.#fail(`it did not answer ${this.#asked - this.#handled} requests in ${DRAIN_TIMEOUT_MS} ms`);
        break;
      }
      if (posted <= this.#handled) Atomics.wait(this.#posted, 0, posted, left);
    }
  }

  /** Stops the worker (server shutdown). Pipes still open are told they are lost. */
  async stop(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#lose('the server is stopping');
    await this.#worker.terminate();
  }

  #reply(m: Reply): void {
    if (this.#failed !== null || this.#closing) return; // given up with the worker
    this.#handled++;
    const pipe = this.#pipes.get(m.pipe);
    if (!pipe) return; // closed, or lost: its requests were given up
    if (m.error !== undefined) {
      this.log(`DSP worker: a request of pipe ${m.pipe} failed: ${m.error}`);
      pipe.handler.result({ samples: new Float32Array(0), columns: new Float32Array(0), k0: 0 });
      return;
    }
    pipe.handler.result({ samples: m.samples!, columns: m.columns!, k0: m.k0! });
  }

  #fail(reason: string): void {
    if (this.#failed !== null || this.#closing) return;
    this.#failed = reason;
    const lost = this.#asked - this.#handled;
    this.log(
      `the streams' DSP worker stopped (${reason}): streams resample and compute their log-mel on the event ` +
        `loop from now on; ${lost} chunk${lost === 1 ? '' : 's'} in flight were lost`,
    );
    this.#lose(reason);
    this.onRunning(false);
    void this.#worker.terminate();
  }

  #lose(reason: string): void {
    const pipes = [...this.#pipes.values()];
    this.#pipes.clear();
    this.#handled = this.#asked;
    for (const pipe of pipes) pipe.handler.lost(reason);
  }
}

/** One segment's resampler and extractor in the worker. */
export class DspPipe {
  constructor(
    private readonly worker: DspWorker,
    readonly id: number,
    readonly handler: DspPipeHandler,
  ) {}

  push(mono: Float32Array): void {
    this.worker.push(this, mono);
  }
  flush(): void {
    this.worker.flush(this);
  }
  reset(): void {
    this.worker.reset(this);
  }
  drain(): void {
    this.worker.drain();
  }
  close(): void {
    this.worker.close(this);
  }
}
