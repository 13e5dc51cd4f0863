/**
 * Log-mel context memory: a second opinion next to the backbone, on the same levelled, per-bin standardised
 * window the backbone sees (input-scaling.ts).
 *
 * Each frame of a window with its neighbours (`frames` columns of `nMels` values, the frame in the middle) is a
 * vector; the memory holds the vectors of the normal windows, and a frame's score is its root-mean-square
 * distance to the nearest one (exact search in the native flat index). A cell's map value is the squared
 * difference between the cell and the same cell of that nearest normal context, blurred. It is the 1-NN
 * baseline of the development corpus's README made frequency-resolved: it sees what an image backbone's
 * receptive field averages away (a one-bin change, a 20 ms click), and the fusion (fusion.ts) keeps what each
 * sees best. The window score is the largest frame score.
 */
import { FlatIndex, principalAxes } from '@hark/native';
import { gaussianBlur2d } from '../components/gaussian-blur.js';
import { kCenterGreedy } from '../components/kcenter-greedy.js';
import { SearchedIndexes } from '../components/searched-indexes.js';

/** Blur of the context map in cells (mel bins and frames): a cell's residual is noisy on its own. */
export const CONTEXT_BLUR = 2;
/**
 * Most context vectors the memory keeps (at the defaults, 128 x 5 values each: 51 MB, about 3 minutes of
 * training sound at the fitting windows' overlap); longer training sets are thinned evenly.
 */
export const MAX_CONTEXT_ROWS = 20_000;

/**
 * Memories of at least this many rows get a bounded search (`FlatIndex.setProjection` on their leading
 * principal axes): the same answers, about half the search's CPU on the development corpus's memories
 * (BENCHMARKS.md, issue 16 lever 3). The axes cost about 0.2 s of CPU once (an eigendecomposition of the d x d
 * covariance, whatever the rows); below this size a window's flat search costs under 3 ms, and paying the
 * axes back would take minutes of live sound.
 */
export const MIN_BOUND_ROWS = 2048;

/**
 * Axes of the bounded search for contexts of `dim` values: 0.3 of the dimension (192 at the default 640).
 * The projected pass costs r / dim of the flat product and a larger r prunes more rows; on four groups of the
 * development corpus (8496-row memories, every window of their test clips) 0.3 was the best of 0.15-0.5
 * (search CPU 0.39-0.90 of the flat search's; 0.2 gave 0.36-1.06).
 */
export function boundRank(dim: number): number {
  return Math.max(1, Math.min(dim, Math.round(0.3 * dim)));
}

export interface ContextMemoryOptions {
  /**
   * Build the bounded search (for a memory that will score many windows: a fitted model's, a loaded one's);
   * memories scored once, such as calibration folds', skip its fixed cost. Only from MIN_BOUND_ROWS rows.
   */
  bound?: boolean;
  /** The axes of the bounded search, as `axes` gave them (a saved model's), instead of computing them. */
  axes?: Float32Array;
}

export interface ContextScores {
  /** Largest frame score of the window (RMS distance to the nearest normal context, standardised dB). */
  windowScore: number;
  /** `[nMels, windowFrames]` blurred squared residual of each cell against its nearest context. */
  map: Float32Array;
}

export class ContextMemory {
  readonly dim: number;
  readonly #half: number;
  #base: Float32Array;
  #bank: Float32Array;
  #index: FlatIndex;
  readonly #indexes = new SearchedIndexes();
  /** The fitted memory's leading principal axes, `[r, dim]`, when its search is bounded. */
  readonly #axes: Float32Array | null;

  /**
   * @param nMels - rows of a window.
   * @param frames - context length in frames, odd (the scored frame in the middle).
   * @param bank - normal context vectors `[rows, nMels * frames]` (from `contexts`).
   */
  constructor(
    readonly nMels: number,
    readonly frames: number,
    bank: Float32Array,
    options: ContextMemoryOptions = {},
  ) {
    if (!Number.isInteger(frames) || frames < 1 || frames % 2 === 0)
      throw new RangeError(`contextFrames (${frames}) must be an odd whole number >= 1`);
    this.dim = nMels * frames;
    this.#half = (frames - 1) / 2;
    if (bank.length === 0 || bank.length % this.dim !== 0)
      throw new RangeError(`context bank has ${bank.length} values, not whole rows of ${this.dim}`);
    const rows = bank.length / this.dim;
    this.#axes =
      options.axes ??
      (options.bound && rows >= MIN_BOUND_ROWS ? principalAxes(bank, this.dim, boundRank(this.dim)) : null);
    this.#index = this.#indexOf(bank);
    // The index's own storage, viewed without a copy: the memory is held once (`bank` can be collected).
    this.#base = this.#index.vectors();
    this.#bank = this.#base;
  }

  /** Whether searches go through the bounded search (the same answers as the flat one). */
  get bounded(): boolean {
    return this.#axes !== null;
  }

  /** The bounded search's axes, `[r, dim]` (what a model directory saves), or null. */
  get axes(): Float32Array | null {
    return this.#axes;
  }

  /**
   * A memory of the contexts of `windows` (each `[nMels, windowFrames]`, standardised), thinned to the cap,
   * then reduced to a greedy k-center coreset of `coreset` of its rows (1: all; see `contextCoreset`).
   */
  static fit(
    windows: readonly Float32Array[],
    nMels: number,
    frames: number,
    coreset = 1,
    options: ContextMemoryOptions = {},
  ): ContextMemory {
    const dim = nMels * frames;
    return new ContextMemory(
      nMels,
      frames,
      coresetOf(thin(contextsOf(windows, nMels, frames), dim), dim, coreset),
      options,
    );
  }

  /** Rows in the memory. */
  get size(): number {
    return this.#bank.length / this.dim;
  }

  /** The fitted vectors (what a model directory saves). */
  get baseBank(): Float32Array {
    return this.#base;
  }

  /** Adds the contexts of `windows` (taught as normal) to the fitted memory; `[]` restores the fitted one. */
  teach(windows: readonly Float32Array[]): void {
    const extra = contextsOf(windows, this.nMels, this.frames);
    const bank = new Float32Array(this.#base.length + extra.length);
    bank.set(this.#base);
    bank.set(extra, this.#base.length);
    const old = this.#index;
    // The fitted memory's axes serve the taught one too: any axes keep the answers exact, and these still
    // hold most of its spread.
    this.#index = this.#indexOf(bank);
    this.#bank = this.#index.vectors();
    // Nothing taught: the new index is the fitted memory, and the old one's storage can go.
    if (extra.length === 0) this.#base = this.#bank;
    this.#indexes.retire(old);
  }

  /** Scores one standardised window `[nMels, windowFrames]`. */
  async score(window: Float32Array): Promise<ContextScores> {
    const { nMels, frames } = this;
    const wf = window.length / nMels;
    if (!Number.isInteger(wf) || wf < frames)
      throw new RangeError(`window has ${window.length} values; need nMels (${nMels}) x >= ${frames} frames`);
    const [index, bank, h, d] = [this.#index, this.#bank, this.#half, this.dim];
    const n = wf - 2 * h;
    const queries = new Float32Array(n * d);
    writeContexts(window, nMels, wf, frames, queries, 0);
    const { distances, labels } = await this.#indexes.search(index, queries, 1);
    const map = new Float32Array(nMels * wf);
    let windowScore = 0;
    for (let j = 0; j < n; j++) {
      const t = j + h;
      const row = Number(labels[j]) * d;
      windowScore = Math.max(windowScore, Math.sqrt(Math.max(0, distances[j]) / d));
      for (let m = 0; m < nMels; m++)
        map[m * wf + t] = (window[m * wf + t] - bank[row + m * frames + h]) ** 2;
    }
    // The first and last h frames have no full context: they take their nearest scored frame's residual.
    for (let m = 0; m < nMels; m++) {
      for (let t = 0; t < h; t++) {
        map[m * wf + t] = map[m * wf + h];
        map[m * wf + wf - 1 - t] = map[m * wf + wf - 1 - h];
      }
    }
    return { windowScore, map: gaussianBlur2d(map, nMels, wf, CONTEXT_BLUR, CONTEXT_BLUR) };
  }

  /** Frees the index (once searches in flight have finished). */
  dispose(): void {
    this.#indexes.retire(this.#index);
  }

  #indexOf(bank: Float32Array): FlatIndex {
    const index = new FlatIndex(this.dim);
    index.add(bank);
    if (this.#axes) index.setProjection(this.#axes);
    return index;
  }
}

/** Context vectors of every full-context frame of `windows`, `[rows, nMels * frames]`, bin-major. */
export function contextsOf(windows: readonly Float32Array[], nMels: number, frames: number): Float32Array {
  const per = (w: Float32Array) => Math.max(0, w.length / nMels - frames + 1);
  const out = new Float32Array(windows.reduce((n, w) => n + per(w), 0) * nMels * frames);
  let at = 0;
  for (const w of windows) at += writeContexts(w, nMels, w.length / nMels, frames, out, at);
  return out;
}

/** Writes the contexts of one window at `out[at]`; returns the values written. */
function writeContexts(
  w: Float32Array,
  nMels: number,
  wf: number,
  frames: number,
  out: Float32Array,
  at: number,
): number {
  const start = at;
  for (let t = 0; t + frames <= wf; t++)
    for (let m = 0; m < nMels; m++) for (let c = 0; c < frames; c++) out[at++] = w[m * wf + t + c];
  return at - start;
}

/** At most `MAX_CONTEXT_ROWS` rows of `bank`, evenly strided. */
function thin(bank: Float32Array, dim: number): Float32Array {
  const rows = bank.length / dim;
  if (rows <= MAX_CONTEXT_ROWS) return bank;
  const out = new Float32Array(MAX_CONTEXT_ROWS * dim);
  for (let i = 0; i < MAX_CONTEXT_ROWS; i++) {
    const r = Math.floor((i * rows) / MAX_CONTEXT_ROWS);
    out.set(bank.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return out;
}

/**
 * The rows of `bank` a greedy k-center coreset keeps (PatchCore's, in a 128-dimensional random projection),
 * `ratio` of them, in bank order. Its bound: every dropped context lies within the coreset's covering radius
 * r of a kept one, so a query's distance to the nearest kept context exceeds its exact nearest distance by at
 * most r (triangle inequality), and the search costs `ratio` of the exact one.
 */
export function coresetOf(bank: Float32Array, dim: number, ratio: number): Float32Array {
  if (!(ratio > 0 && ratio <= 1)) throw new RangeError(`contextCoreset (${ratio}) must be in (0, 1]`);
  const rows = bank.length / dim;
  const count = Math.max(1, Math.round(ratio * rows));
  if (count >= rows) return bank;
  const kept = kCenterGreedy(bank, rows, dim, count).sort();
  const out = new Float32Array(count * dim);
  kept.forEach((r, i) => out.set(bank.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}
