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
 *
 * The memory is held at one byte per value (the flat index's 'uint8' storage: each of the `nMels * frames`
 * dimensions on 255 steps between its smallest and largest normal value), a quarter of float32's memory: the
 * context memory was most of a server's memory (about 16 of a default model's 17 MB). Scores are exact over the
 * stored vectors, which lie within half a step of the normal contexts: 0.013-0.019 of a dimension's standard
 * deviation on the development corpus, where every figure of `hark evaluate --by-kind` was the same with
 * float32, float16 and 8-bit memories (BENCHMARKS.md, issue 16, session 17). A difference that small is far
 * below the spread of normal contexts that the memory's distances measure.
 *
 * Memories fitted since issue 16's session 30 hold their windows as columns instead (`layout` 'columns', the
 * default): each fitted window's `windowFrames` columns of `nMels` values once, in float32, and its contexts as
 * the runs of `frames` columns inside it (`ContextColumnsBank`). Neighbouring contexts share all but one column,
 * so this holds a window in `frames` times fewer values (4.6 MB of float32 for an 8496-context memory, against
 * 5.4 MB at one byte per context value), and the search (`contextSearch` in the addon) multiplies the window's
 * columns by the memory's columns once and sums each context's products along a diagonal: about a quarter of
 * the flat search's multiply-adds, with the same exact answers as a flat float32 search of the assembled
 * contexts (the addon ranks its shortlist with the flat search's exact distance). No quantisation: the
 * contexts are the normal ones as fitted. Models saved with a flat index (`layout` 'index') load and score as
 * before.
 */
import {
  contextNorms,
  contextSearchAsync,
  FlatIndex,
  principalAxes,
  type ContextColumns,
  type KnnIndex,
  type ResidualMapBlur,
  type Storage,
} from '@hark/native';
import { gaussianBlur2d, gaussianKernel } from '../components/gaussian-blur.js';
import { kCenterGreedy } from '../components/kcenter-greedy.js';
import { SearchedIndexes } from '../components/searched-indexes.js';

/** Blur of the context map in cells (mel bins and frames): a cell's residual is noisy on its own. */
export const CONTEXT_BLUR = 2;

/** The residual map's blur as the addon takes it (`ContextMemory.score`): `CONTEXT_BLUR` along both axes. */
const residualBlur: ResidualMapBlur = {
  alongFrames: gaussianKernel(CONTEXT_BLUR),
  alongBins: gaussianKernel(CONTEXT_BLUR),
};

/**
 * Most contexts the memory keeps: about 3 minutes of training sound at the fitting windows' overlap (at the
 * defaults, 339 fitted windows' columns, 10.9 MB of float32; in the 'index' layout 128 x 5 values per context,
 * 13 MB at one byte per value). Longer training sets keep evenly strided windows ('index': contexts).
 */
export const MAX_CONTEXT_ROWS = 20_000;

/**
 * Flat-index memories ('index' layout: models saved before issue 16's session 30) of at least this many rows
 * get a bounded search (`FlatIndex.setProjection` on their leading principal axes): the same answers, about
 * half the search's CPU on the development corpus's memories (BENCHMARKS.md, issue 16 lever 3). The axes cost
 * about 0.2 s of CPU once (an eigendecomposition of the d x d covariance, whatever the rows); below this size
 * a window's flat search costs under 3 ms, and paying the axes back would take minutes of live sound.
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
  /** How an 'index' memory holds its vectors: 'uint8' (default, see above) or 'float32' (for comparisons). */
  storage?: Storage;
  /**
   * How `fit` holds the memory: 'columns' (default: the windows' columns, searched by `contextSearch`) or
   * 'index' (a flat index of the assembled contexts, as models saved before session 30 hold it; `bound`,
   * `axes` and `storage` apply to it only).
   */
  layout?: 'columns' | 'index';
}

/**
 * A memory held as columns: `columns` `[n, nMels]` (each column's values together) and the first column of each
 * context, ascending (`ContextColumns` in the addon, without the norms it computes).
 */
export interface ContextColumnsBank {
  columns: Float32Array;
  starts: Int32Array;
}

export interface ContextScores {
  /** Largest frame score of the window (RMS distance to the nearest normal context, standardised dB). */
  windowScore: number;
  /** `[nMels, windowFrames]` blurred squared residual of each cell against its nearest context. */
  map: Float32Array;
}

export class ContextMemory {
  readonly dim: number;
  readonly storage: Storage;
  readonly layout: 'columns' | 'index';
  readonly #half: number;
  /** The fitted memory; `#index` is it, or it with taught contexts ('index' layout). */
  readonly #fitted: FlatIndex | null;
  #index: FlatIndex | null;
  readonly #indexes = new SearchedIndexes();
  /** The fitted columns; `#columns` is them, or them with taught windows' ('columns' layout). */
  readonly #fittedColumns: ContextColumns | null;
  #columns: ContextColumns | null;
  /** The fitted memory's leading principal axes, `[r, dim]`, when its search is bounded. */
  readonly #axes: Float32Array | null;

  /**
   * @param nMels - rows of a window.
   * @param frames - context length in frames, odd (the scored frame in the middle).
   * @param bank - the memory as columns (`ContextColumnsBank`: what `fit` builds, and a saved model holds), or
   *   normal context vectors `[rows, nMels * frames]` (from `contexts`) for a flat index, or a trained flat L2
   *   index of them (a saved model's), which the memory then owns.
   */
  constructor(
    readonly nMels: number,
    readonly frames: number,
    bank: Float32Array | KnnIndex | ContextColumnsBank,
    options: ContextMemoryOptions = {},
  ) {
    if (!Number.isInteger(frames) || frames < 1 || frames % 2 === 0)
      throw new RangeError(`contextFrames (${frames}) must be an odd whole number >= 1`);
    this.dim = nMels * frames;
    this.#half = (frames - 1) / 2;
    if (isColumns(bank)) {
      const { columns, starts } = bank;
      if (columns.length === 0 || columns.length % nMels !== 0)
        throw new RangeError(`context columns hold ${columns.length} values, not whole columns of ${nMels}`);
      this.layout = 'columns';
      this.storage = 'float32';
      this.#axes = null;
      this.#fitted = this.#index = null;
      this.#fittedColumns = this.#columns = {
        columns,
        starts,
        norms: contextNorms(columns, nMels, frames, starts),
        nMels,
        frames,
      };
      return;
    }
    this.layout = 'index';
    this.#fittedColumns = this.#columns = null;
    let rows: number;
    if (bank instanceof Float32Array) {
      rows = bank.length / this.dim;
      if (bank.length === 0 || !Number.isInteger(rows))
        throw new RangeError(`context bank has ${bank.length} values, not whole rows of ${this.dim}`);
    } else {
      rows = bank.ntotal;
      if (!(bank instanceof FlatIndex) || bank.metric !== 'l2' || !bank.isTrained)
        throw new RangeError(
          `a context index must be a trained flat L2 index, not a ${bank.kind} ${bank.metric} one`,
        );
      if (bank.dim !== this.dim || rows === 0)
        throw new RangeError(
          `context index holds ${rows} rows of ${bank.dim} values, not rows of ${this.dim}`,
        );
    }
    const vectors = () => (bank instanceof Float32Array ? bank : bank.reconstruct(allRows(rows)));
    this.#axes =
      options.axes ??
      (options.bound && rows >= MIN_BOUND_ROWS
        ? principalAxes(vectors(), this.dim, boundRank(this.dim))
        : null);
    if (bank instanceof FlatIndex) {
      this.#fitted = bank;
      if (this.#axes) bank.setProjection(this.#axes);
    } else {
      this.#fitted = this.#indexOf(bank as Float32Array, options.storage ?? 'uint8');
    }
    this.storage = this.#fitted.storage ?? 'float32';
    this.#index = this.#fitted;
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
    if (options.layout === 'index')
      return new ContextMemory(
        nMels,
        frames,
        coresetOf(thin(contextsOf(windows, nMels, frames), dim), dim, coreset),
        options,
      );
    const kept = thinWindows(windows, nMels, frames);
    if (coreset >= 1 || !(coreset > 0)) {
      if (!(coreset > 0 && coreset <= 1))
        throw new RangeError(`contextCoreset (${coreset}) must be in (0, 1]`);
      return new ContextMemory(nMels, frames, columnsOf(kept, nMels, frames), options);
    }
    // A coreset keeps contexts, not windows: each kept context is a run of its own `frames` columns.
    const contexts = contextsOf(kept, nMels, frames);
    const rows = coresetRows(contexts, dim, coreset);
    const columns = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => {
      for (let m = 0; m < nMels; m++)
        for (let c = 0; c < frames; c++)
          columns[(i * frames + c) * nMels + m] = contexts[r * dim + m * frames + c];
    });
    const starts = Int32Array.from(rows, (_, i) => i * frames);
    return new ContextMemory(nMels, frames, { columns, starts }, options);
  }

  /** Contexts in the memory. */
  get size(): number {
    return this.#columns ? this.#columns.starts.length : this.#index!.ntotal;
  }

  /** The fitted memory's index ('index' layout: what a model directory saves, with `toBuffer`). */
  get fittedIndex(): FlatIndex {
    if (!this.#fitted)
      throw new Error('this context memory is held as columns (fittedColumns), not an index');
    return this.#fitted;
  }

  /** The fitted memory's columns ('columns' layout: what a model directory saves), or null. */
  get fittedColumns(): ContextColumnsBank | null {
    return (
      this.#fittedColumns && { columns: this.#fittedColumns.columns, starts: this.#fittedColumns.starts }
    );
  }

  /** The fitted context vectors as the memory holds them, `[size, dim]` (decoded or assembled: a copy). */
  get baseBank(): Float32Array {
    const c = this.#fittedColumns;
    if (!c) return this.#fitted!.reconstruct(allRows(this.#fitted!.ntotal));
    const { nMels, frames, dim } = this;
    const out = new Float32Array(c.starts.length * dim);
    c.starts.forEach((s, j) => {
      for (let m = 0; m < nMels; m++)
        for (let f = 0; f < frames; f++) out[j * dim + m * frames + f] = c.columns[(s + f) * nMels + m];
    });
    return out;
  }

  /**
   * Adds the contexts of `windows` (taught as normal) to the fitted memory; `[]` restores the fitted one. A
   * uint8 memory takes its ranges again from the fitted vectors (as held) and the taught ones together, so that
   * taught sound outside the fitted ranges is held as it is, not clipped to them.
   */
  teach(windows: readonly Float32Array[]): void {
    if (this.#fittedColumns) {
      this.#columns = windows.length === 0 ? this.#fittedColumns : this.#taught(windows);
      return;
    }
    const extra = contextsOf(windows, this.nMels, this.frames);
    const old = this.#index!;
    if (extra.length === 0) {
      this.#index = this.#fitted;
    } else {
      const base = this.baseBank;
      const bank = new Float32Array(base.length + extra.length);
      bank.set(base);
      bank.set(extra, base.length);
      // The fitted memory's axes serve the taught one too: any axes keep the answers exact, and these still
      // hold most of its spread.
      this.#index = this.#indexOf(bank, this.storage);
    }
    if (old !== this.#fitted && old !== this.#index) this.#indexes.retire(old);
  }

  /** Scores one standardised window `[nMels, windowFrames]`. */
  async score(window: Float32Array): Promise<ContextScores> {
    const { nMels, frames } = this;
    const wf = window.length / nMels;
    if (!Number.isInteger(wf) || wf < frames)
      throw new RangeError(`window has ${window.length} values; need nMels (${nMels}) x >= ${frames} frames`);
    const [h, d] = [this.#half, this.dim];
    const n = wf - 2 * h;
    let windowScore = 0;
    let map: Float32Array;
    const held = this.#columns;
    if (held) {
      // The memory's arrays are never changed (a teach replaces them), so this search's stay valid. On the
      // addon, the search's pool thread builds the map below too, to the bit (`ResidualMapBlur`): its
      // residuals and blur then cost the event loop nothing.
      const found = await contextSearchAsync(held, window, wf, undefined, residualBlur);
      const { distances, labels } = found;
      for (let j = 0; j < n; j++)
        windowScore = Math.max(windowScore, Math.sqrt(Math.max(0, distances[j]) / d));
      if (found.map) return { windowScore, map: found.map };
      map = new Float32Array(nMels * wf);
      const { columns, starts } = held;
      for (let j = 0; j < n; j++) {
        const t = j + h;
        const middle = (starts[labels[j]] + h) * nMels;
        for (let m = 0; m < nMels; m++) map[m * wf + t] = (window[m * wf + t] - columns[middle + m]) ** 2;
      }
    } else {
      map = new Float32Array(nMels * wf);
      const index = this.#index!;
      const queries = new Float32Array(n * d);
      writeContexts(window, nMels, wf, frames, queries, 0);
      // The nearest contexts are read while the search still holds the index (a teach may retire it).
      const { distances, nearest } = await this.#indexes.search(index, queries, 1, (r) => ({
        distances: r.distances,
        nearest: index.reconstruct(r.labels),
      }));
      for (let j = 0; j < n; j++) {
        const t = j + h;
        const row = j * d;
        windowScore = Math.max(windowScore, Math.sqrt(Math.max(0, distances[j]) / d));
        for (let m = 0; m < nMels; m++)
          map[m * wf + t] = (window[m * wf + t] - nearest[row + m * frames + h]) ** 2;
      }
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
    if (!this.#fitted) return;
    if (this.#index !== this.#fitted) this.#indexes.retire(this.#index!);
    this.#indexes.retire(this.#fitted);
  }

  /** The fitted columns with those of `windows` after them. */
  #taught(windows: readonly Float32Array[]): ContextColumns {
    const base = this.#fittedColumns!;
    const extra = columnsOf(windows, this.nMels, this.frames);
    const offset = base.columns.length / this.nMels;
    const columns = new Float32Array(base.columns.length + extra.columns.length);
    columns.set(base.columns);
    columns.set(extra.columns, base.columns.length);
    const starts = new Int32Array(base.starts.length + extra.starts.length);
    starts.set(base.starts);
    starts.set(
      extra.starts.map((s) => s + offset),
      base.starts.length,
    );
    const norms = new Float32Array(starts.length);
    norms.set(base.norms);
    if (extra.starts.length > 0)
      norms.set(contextNorms(extra.columns, this.nMels, this.frames, extra.starts), base.norms.length);
    return { columns, starts, norms, nMels: this.nMels, frames: this.frames };
  }

  #indexOf(bank: Float32Array, storage: Storage): FlatIndex {
    const index = new FlatIndex(this.dim, { storage });
    if (storage === 'uint8') index.train(bank);
    index.add(bank);
    if (this.#axes) index.setProjection(this.#axes);
    return index;
  }
}

function isColumns(bank: Float32Array | KnnIndex | ContextColumnsBank): bank is ContextColumnsBank {
  return !(bank instanceof Float32Array) && 'columns' in bank && 'starts' in bank;
}

/**
 * The columns of `windows` (each `[nMels, windowFrames]`), one window after another, and the first column of
 * each full context inside a window (a context never spans two windows).
 */
export function columnsOf(
  windows: readonly Float32Array[],
  nMels: number,
  frames: number,
): ContextColumnsBank {
  const total = windows.reduce((n, w) => n + w.length / nMels, 0);
  const contexts = windows.reduce((n, w) => n + Math.max(0, w.length / nMels - frames + 1), 0);
  const columns = new Float32Array(total * nMels);
  const starts = new Int32Array(contexts);
  let [col, ctx] = [0, 0];
  for (const w of windows) {
    const wf = w.length / nMels;
    for (let t = 0; t < wf; t++)
      for (let m = 0; m < nMels; m++) columns[(col + t) * nMels + m] = w[m * wf + t];
    for (let t = 0; t + frames <= wf; t++) starts[ctx++] = col + t;
    col += wf;
  }
  return { columns, starts };
}

/** The windows whose contexts `fit` keeps: all, or at most `MAX_CONTEXT_ROWS` contexts' worth, evenly strided. */
function thinWindows(windows: readonly Float32Array[], nMels: number, frames: number): Float32Array[] {
  const full = windows.filter((w) => w.length / nMels >= frames);
  const contexts = full.reduce((n, w) => n + w.length / nMels - frames + 1, 0);
  if (contexts <= MAX_CONTEXT_ROWS) return full;
  const keep = Math.max(1, Math.floor((full.length * MAX_CONTEXT_ROWS) / contexts));
  return Array.from({ length: keep }, (_, i) => full[Math.floor((i * full.length) / keep)]);
}

/** Labels 0 .. rows - 1. */
function allRows(rows: number): BigInt64Array {
  return BigInt64Array.from({ length: rows }, (_, i) => BigInt(i));
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
  const kept = coresetRows(bank, dim, ratio);
  if (kept.length === bank.length / dim) return bank;
  const out = new Float32Array(kept.length * dim);
  kept.forEach((r, i) => out.set(bank.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}

/** The rows of `bank` that `coresetOf` keeps, ascending (all of them at `ratio` 1). */
export function coresetRows(bank: Float32Array, dim: number, ratio: number): Int32Array {
  if (!(ratio > 0 && ratio <= 1)) throw new RangeError(`contextCoreset (${ratio}) must be in (0, 1]`);
  const rows = bank.length / dim;
  const count = Math.max(1, Math.round(ratio * rows));
  if (count >= rows) return Int32Array.from({ length: rows }, (_, i) => i);
  return Int32Array.from(kCenterGreedy(bank, rows, dim, count)).sort();
}
