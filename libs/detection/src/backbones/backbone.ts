/**
 * Loading a backbone: build (or read from the cache) its ONNX model and open an onnxruntime-node CPU session.
 */
import { showValue } from '@hark/dsp';
import { buildKey, cachedBuild, defaultCacheDir } from './cache.js';
import type { TapInfo } from './convert/convert-keras.js';
import { backboneSpec, type BackboneId, type BackboneSpec } from './registry.js';
import {
  backboneThread,
  openSessionRunner,
  type BackboneThread,
  type SessionRunner,
} from './session-runner.js';

/** A feature map the backbone returns. */
export type BackboneTap = TapInfo;

/** One tap's output for a batch: NCHW `[n, channels, h', w']`. */
export interface TapOutput {
  data: Float32Array;
  dims: number[];
}

export interface Backbone {
  readonly id: BackboneId;
  /** Cache key of the built model: sha256 of builder version, weight files and taps. */
  readonly hash: string;
  readonly taps: readonly BackboneTap[];
  /** What `x` must hold (value range, required height). */
  readonly inputDoc: string;
  /** The model file in the cache (`null` when the cache was not writable). */
  readonly modelPath: string | null;
  /** Whether the model was read from the cache rather than built. */
  readonly fromCache: boolean;
  /** Where its session runs (`setBackboneThread`, `LoadBackboneOptions.thread`). */
  readonly thread: BackboneThread;
  /**
   * Runs a batch (on the caller's event loop unless {@link Backbone.thread} is `'worker'`). `x`: `[n, 1, h, w]`
   * float32, h = frequency, w = time, already scaled to the net's input (see {@link Backbone.inputDoc}). Returns
   * one NCHW tensor per tap, in tap order.
   */
  run(x: Float32Array, n: number, h: number, w: number): Promise<TapOutput[]>;
  /** Frees the session; `run` afterwards is an error. */
  release(): Promise<void>;
}

export interface LoadBackboneOptions {
  /** Layers to expose (default: the backbone's default pair); see `BACKBONES[id].tapNames()`. */
  taps?: string[];
  /** Default `HARK_CACHE_DIR` or `~/.cache/hark/backbones`. */
  cacheDir?: string;
  /** onnxruntime intra-op threads, default 1 (fastest per core on small machines; scale with workers). */
  intraOpNumThreads?: number;
  /** Where the session runs: default `backboneThread()` (`'caller'` unless set). */
  thread?: BackboneThread;
}

/** Checks `taps` against the backbone's valid taps, naming them all in the error. */
export function resolveTaps(spec: BackboneSpec, taps: readonly string[] | undefined): string[] {
  const chosen = [...(taps ?? spec.defaultTaps)];
  if (chosen.length === 0)
    throw new Error(`taps for ${spec.id} is empty; default: ${spec.defaultTaps.join(', ')}`);
  const valid = spec.tapNames();
  for (const t of chosen) {
    if (!valid.includes(t))
      throw new Error(`unknown tap ${showValue(t)} for backbone ${spec.id}; valid taps: ${valid.join(', ')}`);
  }
  if (new Set(chosen).size !== chosen.length)
    throw new Error(`taps for ${spec.id} repeat a layer: ${chosen.join(', ')}`);
  return chosen;
}

/**
 * Open sessions by built model, thread count and where they run (caller or worker), shared by every backbone
 * loaded with them: a server holds one model per sensor, nearly all on the same backbone, and each session costs
 * about 10 MB (weights, optimised graph, arenas; measured with 8 sessions of MobileNetV2's default taps);
 * onnxruntime's `Run` may be called concurrently on one session. The session is released with the last backbone
 * that holds it.
 */
const sessions = new Map<string, { session: Promise<SessionRunner>; holders: number }>();

/** Sessions open now (a shared one counted once). */
export function openBackboneSessions(): number {
  return sessions.size;
}

/** Builds or loads the backbone `id` and opens its session (or shares the one open for the same model). */
export async function loadBackbone(id: BackboneId, opts: LoadBackboneOptions = {}): Promise<Backbone> {
  const spec = backboneSpec(id);
  const taps = resolveTaps(spec, opts.taps);
  const threads = opts.intraOpNumThreads ?? 1;
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`intraOpNumThreads (${threads}) must be an integer >= 1`);
  const dir = opts.cacheDir ?? defaultCacheDir();
  const hash = await buildKey(spec.builderVersion, spec.id, spec.files(), taps);
  // The model is read (and checked, rebuilt if corrupt) on every load; only the session is shared, keyed by the
  // hash of what was built, so a shared session always runs the same graph a new one would.
  const built = await cachedBuild(dir, spec.id, hash, () => spec.build(taps));
  const thread = opts.thread ?? backboneThread();
  const key = `${hash}:${threads}:${thread}`;
  let entry = sessions.get(key);
  if (!entry) {
    const options = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    } as const;
    const created = {
      session: openSessionRunner(built.model.bytes, options, thread),
      holders: 0,
    };
    sessions.set(key, created);
    // A failed open is not kept: the next load tries again.
    created.session.catch(() => sessions.get(key) === created && sessions.delete(key));
    entry = created;
  }
  const held = entry;
  held.holders++;
  let session: SessionRunner;
  try {
    session = await held.session;
  } catch (err) {
    held.holders--;
    throw err;
  }
  const release = async () => {
    if (--held.holders > 0) return;
    if (sessions.get(key) === held) sessions.delete(key);
    await session.release();
  };
  return new OnnxBackbone(spec, hash, built.model.taps, built.path, built.hit, session, release);
}

class OnnxBackbone implements Backbone {
  readonly id: BackboneId;
  readonly inputDoc: string;
  readonly thread: BackboneThread;
  private session: SessionRunner | null;

  constructor(
    private readonly spec: BackboneSpec,
    readonly hash: string,
    readonly taps: readonly BackboneTap[],
    readonly modelPath: string | null,
    readonly fromCache: boolean,
    session: SessionRunner,
    /** Gives back this backbone's hold on the shared session (released with the last holder). */
    private readonly releaseSession: () => Promise<void>,
  ) {
    this.id = spec.id;
    this.inputDoc = spec.inputDoc;
    this.session = session;
    this.thread = session.thread;
  }

  async run(x: Float32Array, n: number, h: number, w: number): Promise<TapOutput[]> {
    if (!this.session) throw new Error(`backbone ${this.id} was released; load it again`);
    for (const [name, v] of [
      ['n', n],
      ['h', h],
      ['w', w],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`${name} (${v}) must be an integer >= 1`);
    }
    if (!(x instanceof Float32Array)) throw new TypeError('x must be a Float32Array [n, 1, h, w]');
    if (x.length !== n * h * w)
      throw new Error(`x has ${x.length} values but [${n}, 1, ${h}, ${w}] needs ${n * h * w}`);
    const bad = this.spec.checkSize(
      h,
      w,
      this.taps.map((t) => t.name),
    );
    if (bad) throw new Error(bad);
    const out = await this.session.run(x, [n, 1, h, w]);
    return this.taps.map((t) => out[t.name]);
  }

  async release(): Promise<void> {
    if (!this.session) return;
    this.session = null;
    await this.releaseSession();
  }
}
