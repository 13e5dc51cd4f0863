import type { Backend } from './types.js';
import { ErrorCode, nativeError } from './errors.js';
import { exactSearch } from './fallback/exact.js';
import { schedule } from './jobs.js';
import { backend as defaultBackend } from './knn-index.js';
import { loaded } from './load.js';

/**
 * A memory of contexts held as columns (libs/detection's log-mel context memory): context j is the `frames`
 * columns of `nMels` floats from column `starts[j]` on, read bin-major (value (m, c) at `m * frames + c`) as
 * one vector of `nMels * frames` floats. Overlapping contexts share their columns, so a memory of whole
 * windows holds each column once instead of `frames` times, and its search multiplies columns, not contexts
 * (`contextSearch`).
 */
export interface ContextColumns {
  /** `[columns, nMels]`: each column's `nMels` values together. */
  columns: Float32Array;
  nMels: number;
  frames: number;
  /** Each context's first column, ascending. */
  starts: Int32Array;
  /** `contextNorms` of the same memory. */
  norms: Float32Array;
}

export interface ContextSearchResult {
  /** Squared L2 distance of each query context to its nearest memory context. */
  distances: Float32Array;
  /** That context's index in the memory. */
  labels: Int32Array;
  /**
   * `contextSearchAsync` given a `ResidualMapBlur`, on the addon: the context memory's blurred residual map
   * (native/src/addon/residual_map.h), `[nMels, windowFrames]`. Absent otherwise: the TypeScript backend leaves
   * it to its caller (libs/detection builds the same map, to the bit).
   */
  map?: Float32Array;
}

/**
 * The blur of the residual map `contextSearchAsync` builds on the addon's pool thread: the Gaussian kernels'
 * taps (odd lengths; libs/detection's `gaussianKernel`), along the window's frames, then along its bins.
 * Each window's map is then built off the event loop: the squared difference of every frame with a full
 * context and the middle column of its nearest memory context (the first and last frames take their nearest
 * such frame's), blurred as libs/detection's `gaussianBlur2d` (reflect padding, rows first, in double).
 */
export interface ResidualMapBlur {
  alongFrames: Float32Array;
  alongBins: Float32Array;
}

function fail(message: string, code: ErrorCode = ErrorCode.ARG): never {
  throw nativeError(code, message, 'range');
}

function checkMemory(columns: Float32Array, nMels: number, frames: number, starts: Int32Array): void {
  if (!(columns instanceof Float32Array))
    throw nativeError(ErrorCode.ARG, 'columns must be a Float32Array', 'type');
  if (!(starts instanceof Int32Array))
    throw nativeError(ErrorCode.ARG, 'starts must be an Int32Array', 'type');
  if (!Number.isInteger(nMels) || nMels < 1) fail(`nMels (${nMels}) must be an integer >= 1`);
  if (!Number.isInteger(frames) || frames < 1) fail(`frames (${frames}) must be an integer >= 1`);
  if (columns.length % nMels !== 0)
    fail(`columns length (${columns.length}) is not a multiple of dim (${nMels})`, ErrorCode.DIM);
  const nCols = columns.length / nMels;
  if (starts.length < 1) fail('starts must hold at least one context');
  for (let j = 0; j < starts.length; j++) {
    if (starts[j] < 0 || starts[j] + frames > nCols)
      fail(
        `starts[${j}] (${starts[j]}) must be in [0, ${nCols - frames}] (${nCols} columns of ${frames}-column contexts)`,
      );
    if (j > 0 && starts[j] <= starts[j - 1])
      fail(`starts must be ascending (starts[${j}] <= starts[${j - 1}])`);
  }
}

/** Writes context j of the memory, bin-major, into `out` at `offset`. */
function assemble(
  columns: Float32Array,
  nMels: number,
  frames: number,
  start: number,
  out: Float32Array,
  offset: number,
): void {
  const base = start * nMels;
  for (let c = 0; c < frames; c++)
    for (let m = 0; m < nMels; m++) out[offset + m * frames + c] = columns[base + c * nMels + m];
}

/** The contexts' squared norms, for `contextSearch`'s shortlists. */
export function contextNorms(
  columns: Float32Array,
  nMels: number,
  frames: number,
  starts: Int32Array,
): Float32Array {
  checkMemory(columns, nMels, frames, starts);
  if (loaded.addon) return loaded.addon.contextNorms(columns, nMels, frames, starts);
  // As the addon: each column's squared norm once (in double), summed per context, rounded once to float.
  const nCols = starts[starts.length - 1] + frames;
  const col = new Float64Array(nCols);
  for (let i = 0; i < nCols; i++) {
    let sq = 0;
    for (let m = 0; m < nMels; m++) sq += columns[i * nMels + m] * columns[i * nMels + m];
    col[i] = sq;
  }
  return Float32Array.from(starts, (s) => {
    let sq = 0;
    for (let c = 0; c < frames; c++) sq += col[s + c];
    return sq;
  });
}

function checkSearch(memory: ContextColumns, window: Float32Array, windowFrames: number): void {
  const { columns, nMels, frames, starts, norms } = memory;
  checkMemory(columns, nMels, frames, starts);
  if (!(norms instanceof Float32Array) || norms.length !== starts.length)
    fail(`norms must be a Float32Array of ${starts.length} values (one per context)`);
  if (!(window instanceof Float32Array))
    throw nativeError(ErrorCode.ARG, 'window must be a Float32Array', 'type');
  if (!Number.isInteger(windowFrames) || windowFrames < frames)
    fail(`windowFrames (${windowFrames}) must be an integer >= frames (${frames})`);
  if (window.length !== nMels * windowFrames)
    fail(
      `window holds ${window.length} values, not nMels (${nMels}) x windowFrames (${windowFrames})`,
      ErrorCode.DIM,
    );
}

/** The TypeScript backend: ExactDistance over the assembled contexts, as a flat index's fallback searches. */
function searchTs(memory: ContextColumns, window: Float32Array, windowFrames: number): ContextSearchResult {
  const { columns, nMels, frames, starts } = memory;
  const d = nMels * frames;
  const n = windowFrames - frames + 1;
  const queries = new Float32Array(n * d);
  for (let t = 0; t < n; t++)
    for (let m = 0; m < nMels; m++)
      for (let c = 0; c < frames; c++) queries[t * d + m * frames + c] = window[m * windowFrames + t + c];
  const distances = new Float32Array(n);
  const labels = new BigInt64Array(n);
  const decode = (row: number, out: Float32Array, offset: number) =>
    assemble(columns, nMels, frames, starts[row], out, offset);
  exactSearch(decode, starts.length, d, false, queries, 0, n, 1, null, distances, labels);
  return { distances, labels: Int32Array.from(labels, Number) };
}

/**
 * The exact nearest memory context of each full context of `window` (`[nMels, windowFrames]`, bin-major:
 * query t is the context of frames t .. t + frames - 1): squared L2 distances and context indexes, the same to
 * the bit as a flat float32 index of the assembled contexts answers (the smaller index wins a tie), on both
 * backends. The addon computes every context product from one product of the window's columns by the
 * memory's columns (native/src/addon/flat_search.h, ContextSearch).
 */
export function contextSearch(
  memory: ContextColumns,
  window: Float32Array,
  windowFrames: number,
  backend: Backend = defaultBackend,
): ContextSearchResult {
  checkSearch(memory, window, windowFrames);
  if (backend === 'faiss' && loaded.addon) {
    const { columns, nMels, frames, starts, norms } = memory;
    return loaded.addon.contextSearch(columns, nMels, frames, starts, norms, window, windowFrames);
  }
  return searchTs(memory, window, windowFrames);
}

/**
 * `contextSearch` on a libuv pool thread (through the process's queue of FAISS jobs); with `blur`, on the
 * addon, the answer's `map` too (`ResidualMapBlur`).
 */
export async function contextSearchAsync(
  memory: ContextColumns,
  window: Float32Array,
  windowFrames: number,
  backend: Backend = defaultBackend,
  blur?: ResidualMapBlur,
): Promise<ContextSearchResult> {
  checkSearch(memory, window, windowFrames);
  if (blur) checkBlur(memory, blur);
  if (backend === 'faiss' && loaded.addon) {
    const addon = loaded.addon;
    const { columns, nMels, frames, starts, norms } = memory;
    return schedule(() =>
      blur
        ? addon.contextSearchAsync(
            columns,
            nMels,
            frames,
            starts,
            norms,
            window,
            windowFrames,
            blur.alongFrames,
            blur.alongBins,
          )
        : addon.contextSearchAsync(columns, nMels, frames, starts, norms, window, windowFrames),
    );
  }
  return searchTs(memory, window, windowFrames);
}

function checkBlur(memory: ContextColumns, blur: ResidualMapBlur): void {
  if (memory.frames % 2 === 0)
    fail(`the residual map needs an odd frames (${memory.frames}): the context's middle column`);
  for (const [name, k] of [
    ['alongFrames', blur.alongFrames],
    ['alongBins', blur.alongBins],
  ] as const) {
    if (!(k instanceof Float32Array))
      throw nativeError(ErrorCode.ARG, `blur.${name} must be a Float32Array`, 'type');
    if (k.length % 2 === 0) fail(`blur.${name} must hold an odd number of taps, got ${k.length}`);
  }
}
