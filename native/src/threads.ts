import { checkInt } from './fallback/checks.js';
import { loaded } from './load.js';

/**
 * FAISS's OpenMP thread count for every later call, in any thread (the addon applies it on the thread
 * that calls FAISS, as omp_set_num_threads only affects its caller). It also bounds OpenBLAS (OpenMP
 * build), which follows the caller's OpenMP setting. No effect on the TypeScript fallback (one thread).
 */
export function setNumThreads(threads: number): void {
  checkInt(threads, 'threads', 1, 1024);
  loaded.addon?.setNumThreads(threads);
}

export function getNumThreads(): number {
  return loaded.addon ? loaded.addon.getNumThreads() : 1;
}
