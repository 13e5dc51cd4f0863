/**
 * @hark/native: k-nearest-neighbour search for PatchCore scoring, through hark's own FAISS binding
 * (src/addon, FAISS 1.7.3 + OpenBLAS), with an exact TypeScript fallback when the addon cannot load.
 * See README.md for threads, error codes and the fallback.
 */
export type { Backend, IndexKind, Metric, ProjectionInfo, SearchResult, Storage } from './types.js';
export { ErrorCode, isNativeError, type HarkNativeError } from './errors.js';
export {
  backend,
  FlatIndex,
  HNSWIndex,
  IVFIndex,
  KnnIndex,
  type FlatOptions,
  type HNSWOptions,
  type IndexOptions,
  type IVFOptions,
} from './knn-index.js';
export { nativeKCenterGreedy, principalAxes } from './coreset.js';
export {
  contextNorms,
  contextSearch,
  contextSearchAsync,
  type ContextColumns,
  type ContextSearchResult,
  type ResidualMapBlur,
} from './context-search.js';
export { getMaxConcurrentJobs, setMaxConcurrentJobs } from './jobs.js';
export { getNumThreads, setNumThreads } from './threads.js';
export {
  benchSgemm,
  blasBlocking,
  blasInfo,
  blasSelfTest,
  MIN_GFLOPS_PER_CORE,
  type BlasReport,
  type SelfTest,
} from './blas.js';
export type { BlasBlocking, BlasInfo, SgemmTiming } from './addon.js';
export { chooseCoretype, cpuFlags, defaultThreads, requestedThreads } from './load.js';

import { loaded } from './load.js';
/** Why the FAISS addon is not in use, or null when it is. */
export const fallbackReason: string | null = loaded.reason;
/** FAISS's version ('1.7.3'), or null with the fallback. */
export const faissVersion: string | null = loaded.addon?.faissVersion ?? null;
