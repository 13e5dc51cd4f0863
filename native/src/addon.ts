// Hand-written typings of the compiled addon (build/Release/hark_faiss.node, sources in src/addon/): a
// types-only module, so the emitted dist/addon.d.ts keeps the public declarations self-contained.
// The TypeScript fallback (fallback/ts-index.ts) implements the same `NativeIndex` surface.

import type { IndexKind, Metric, ProjectionInfo, SearchResult, Storage } from './types.js';

/** The spec `new Index(spec)` accepts; absent optional fields take FAISS's defaults. */
export interface IndexSpec {
  kind: 'flat' | 'hnsw' | 'ivf' | 'factory';
  dim: number;
  metric?: Metric;
  /** Flat only: how the vectors are held, 'float32' (default) or 'uint8' (FAISS's SQ8 layout, types.ts). */
  storage?: Storage;
  M?: number;
  efConstruction?: number;
  efSearch?: number;
  nlist?: number;
  nprobe?: number;
  description?: string;
}

/** Tunable parameters: efSearch, efConstruction (HNSW); nprobe (IVF). Read-only: M (HNSW), nlist (IVF). */
export type ParamName = 'efSearch' | 'efConstruction' | 'M' | 'nprobe' | 'nlist';

/** One FAISS index. Synchronous methods throw ERR_HARK_FAISS_BUSY while async work holds the index. */
export interface NativeIndex {
  readonly dim: number;
  readonly ntotal: number;
  readonly isTrained: boolean;
  readonly metric: Metric | 'other';
  readonly kind: IndexKind;
  /** Flat indexes: how the vectors are held; null for other kinds. */
  readonly storage: Storage | null;
  readonly disposed: boolean;
  getParam(name: ParamName): number | undefined;
  setParam(name: ParamName, value: number): void;
  add(vectors: Float32Array): void;
  train(vectors: Float32Array): void;
  search(queries: Float32Array, k: number): SearchResult;
  removeIds(ids: BigInt64Array): number;
  reset(): void;
  dispose(): void;
  /** Flat only: the stored vectors without a copy; pins the index (see KnnIndex.vectors). */
  vectors(): Float32Array;
  /** Flat only: the stored rows with these labels, `[ids.length, dim]`, decoded (see KnnIndex.reconstruct). */
  reconstruct(ids: BigInt64Array): Float32Array;
  /** Flat L2 only: axes `[r, dim]` for the bounded exact 1-NN search, or null (see FlatIndex.setProjection). */
  setProjection(axes: Float32Array | null): void;
  /** Flat L2 with axes: the bounded search's state, or null (see FlatIndex.projectionInfo). */
  projectionInfo(): ProjectionInfo | null;
  addAsync(vectors: Float32Array): Promise<void>;
  trainAsync(vectors: Float32Array): Promise<void>;
  searchAsync(queries: Float32Array, k: number): Promise<SearchResult>;
  toBuffer(): Uint8Array;
  save(path: string): void;
  saveAsync(path: string): Promise<void>;
}

export interface SgemmTiming {
  /** Best wall time of the repeats. */
  seconds: number;
  /** Smallest process CPU time of one repeat (all threads): near the work done even on a loaded machine. */
  cpuSeconds: number;
  /** 2 m n k / seconds / 1e9. */
  gflops: number;
  threads: number;
}

export interface BlasInfo {
  /** The file providing sgemm_ (Debian resolves libblas.so.3 through update-alternatives). */
  library: string | null;
  /** OpenBLAS only: the kernel family in use ('SkylakeX', 'Haswell', 'Prescott', ...). */
  corename: string | null;
  config: string | null;
  parallel: 'sequential' | 'pthreads' | 'openmp' | null;
}

export interface BlasBlocking {
  /** Searches with at least this many queries go through sgemm (FAISS default 20). */
  threshold: number;
  queryBlock: number;
  databaseBlock: number;
}

/** contextSearch's arguments: the memory's columns, its shape, starts and norms, then the window. */
type ContextSearchArgs = [
  columns: Float32Array,
  nMels: number,
  frames: number,
  starts: Int32Array,
  norms: Float32Array,
  window: Float32Array,
  windowFrames: number,
];
type ContextSearchAnswer = { distances: Float32Array; labels: Int32Array };
/** contextSearchAsync's with the residual map's blur kernels: along the frames, then along the bins. */
type ContextMapArgs = [...ContextSearchArgs, alongFrames: Float32Array, alongBins: Float32Array];

export interface Addon {
  Index: new (spec: IndexSpec) => NativeIndex;
  fromBuffer(buffer: Uint8Array): NativeIndex;
  load(path: string): NativeIndex;
  loadAsync(path: string): Promise<NativeIndex>;
  setNumThreads(threads: number): void;
  getNumThreads(): number;
  /** Times C[n x m] = Y[n x k] X[m x k]^T, the product exact search makes (m queries, n database rows). */
  benchSgemm(m: number, n: number, k: number, repeats?: number): SgemmTiming;
  blasInfo(): BlasInfo;
  blasBlocking(set?: Partial<BlasBlocking>): BlasBlocking;
  /** Greedy k-center: `count` row indices of `features` (`[n, dim]`) in selection order, from row `first`. */
  kCenterGreedy(features: Float32Array, dim: number, count: number, first: number): Int32Array;
  /** The `count` leading principal axes of `vectors` (`[n, dim]`), `[count, dim]`, largest variance first. */
  principalAxes(vectors: Float32Array, dim: number, count: number): Float32Array;
  /** Squared norms of a column memory's contexts (context-search.ts). */
  contextNorms(columns: Float32Array, nMels: number, frames: number, starts: Int32Array): Float32Array;
  /** Exact nearest context of each full context of a window (context-search.ts). */
  contextSearch(...args: ContextSearchArgs): ContextSearchAnswer;
  contextSearchAsync(...args: ContextSearchArgs): Promise<ContextSearchAnswer>;
  /** The same, and the context memory's blurred residual map, built on the same pool thread. */
  contextSearchAsync(...args: ContextMapArgs): Promise<ContextSearchAnswer & { map: Float32Array }>;
  faissVersion: string;
}
