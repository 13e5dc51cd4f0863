import type { BlasBlocking, BlasInfo, SgemmTiming } from './addon.js';
import { ErrorCode, nativeError } from './errors.js';
import { loaded } from './load.js';

/** Below this, exact search is starved: a reference BLAS, or OpenBLAS on the wrong kernels. */
export const MIN_GFLOPS_PER_CORE = 30;

export interface BlasReport extends BlasInfo {
  /** OPENBLAS_CORETYPE as the process sees it, and whether hark chose it (false: the user's value). */
  coretype: string | null;
  coretypeSetByHark: boolean;
}

export interface SelfTest {
  gflopsPerCore: number;
  ok: boolean;
}

function addon() {
  if (!loaded.addon)
    throw nativeError(ErrorCode.UNSUPPORTED, `the FAISS addon is not available (${loaded.reason})`);
  return loaded.addon;
}

/** Which BLAS FAISS uses, and its OpenBLAS kernel family. */
export function blasInfo(): BlasReport {
  return {
    ...addon().blasInfo(),
    coretype: process.env.OPENBLAS_CORETYPE ?? null,
    coretypeSetByHark: loaded.coretypeSet !== null,
  };
}

/**
 * Times the sgemm exact search makes for `m` queries against `n` database vectors of dimension `k`, with
 * the same BLAS and thread count as FAISS: the physical ceiling for exact search of that shape.
 */
export function benchSgemm(m: number, n: number, k: number, repeats = 3): SgemmTiming {
  return addon().benchSgemm(m, n, k, repeats);
}

/** FAISS's exact-search tiling (read, or set some fields). */
export function blasBlocking(set?: Partial<BlasBlocking>): BlasBlocking {
  return addon().blasBlocking(set);
}

/** One-thread sgemm of 512^3, best of 3 (about 10 ms): GFLOP/s per core and whether it is plausible. */
export function blasSelfTest(): SelfTest {
  const a = addon();
  const threads = a.getNumThreads();
  a.setNumThreads(1);
  try {
    const { gflops } = a.benchSgemm(512, 512, 512, 3);
    return { gflopsPerCore: gflops, ok: gflops >= MIN_GFLOPS_PER_CORE };
  } finally {
    a.setNumThreads(threads);
  }
}

let checked = false;

/** Runs the self-test once per process, before the first FAISS index, and warns when BLAS is slow. */
export function checkBlasOnce(): void {
  if (checked || !loaded.addon) return;
  checked = true;
  const { gflopsPerCore, ok } = blasSelfTest();
  if (ok) return;
  const info = blasInfo();
  console.warn(
    `hark: sgemm runs at ${gflopsPerCore.toFixed(1)} GFLOP/s per core (< ${MIN_GFLOPS_PER_CORE}) with ${info.library ?? 'an unknown BLAS'}` +
      `${info.corename ? ` (OpenBLAS kernels: ${info.corename})` : ''}; exact search will be slow. Install libopenblas0-openmp ` +
      'and check `update-alternatives --display libblas.so.3-x86_64-linux-gnu`, or set OPENBLAS_CORETYPE (Haswell, SkylakeX).',
  );
}
