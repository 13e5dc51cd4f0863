import type { BlasBlocking, BlasInfo, SgemmTiming } from './addon.js';
import { ErrorCode, nativeError } from './errors.js';
import { chooseCoretype, cpuFlags, loaded } from './load.js';

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

/** One timed product: wall-clock seconds and the process's CPU seconds over the same call. */
export interface SgemmTry {
  wall: number;
  cpu: number;
}

/** 2 m n k of the self-test's 512^3 product. */
const SELF_TEST_FLOP = 2 * 512 ** 3;

/**
 * The self-test's rate from timed products (`tries`), stopping at the first plausible one. Each try
 * counts the shorter of its wall-clock and CPU time: on a loaded machine the wall clock also counts the time
 * other processes held the core (one-shot readings of 7-29 GFLOP/s here with OpenBLAS SkylakeX, whose quiet
 * rate is about 100), and CPU time also counts our other threads, but neither misses any of the product's own
 * time, so the rate is never overstated. A slow BLAS is slow on every try; a busy machine is not.
 */
export function selfTestRate(tries: Iterable<SgemmTry>): SelfTest {
  let best = 0;
  for (const { wall, cpu } of tries) {
    const seconds = cpu > 0 ? Math.min(wall, cpu) : wall;
    best = Math.max(best, SELF_TEST_FLOP / seconds / 1e9);
    if (best >= MIN_GFLOPS_PER_CORE) break;
  }
  return { gflopsPerCore: best, ok: best >= MIN_GFLOPS_PER_CORE };
}

/** One-thread sgemm of 512^3 (about 3 ms a try), up to `maxTries` times: GFLOP/s per core and whether it is plausible. */
export function blasSelfTest(maxTries = 8): SelfTest {
  const a = addon();
  const threads = a.getNumThreads();
  a.setNumThreads(1);
  function* tries(): Generator<SgemmTry> {
    for (let i = 0; i < maxTries; i++) {
      const before = process.cpuUsage();
      const { seconds } = a.benchSgemm(512, 512, 512, 1);
      const { user, system } = process.cpuUsage(before);
      yield { wall: seconds, cpu: (user + system) / 1e6 };
    }
  }
  try {
    return selfTestRate(tries());
  } finally {
    a.setNumThreads(threads);
  }
}

/** Debian's reference (netlib) BLAS, about 10x slower than OpenBLAS; update-alternatives puts it in .../blas/. */
export function isReferenceBlas(library: string | null): boolean {
  return library !== null && /(^|\/)blas\/libblas\.so/.test(library);
}

const FIX =
  'Install libopenblas0-openmp and check `update-alternatives --display libblas.so.3-x86_64-linux-gnu`, ' +
  'or set OPENBLAS_CORETYPE (Haswell, SkylakeX).';

/** OpenBLAS kernel families with AVX2 and FMA or better; the others (Prescott, Nehalem, Sandybridge...) lack them. */
const WIDE_KERNELS = new Set(['haswell', 'zen', 'skylakex', 'cooperlake', 'sapphirerapids']);

/**
 * What is wrong with the BLAS under FAISS's exact search, or null when nothing is, judged by what it is before
 * how fast it ran: the reference BLAS (known by its path); OpenBLAS on kernels without AVX2 on a CPU that has
 * it (`best`, from its flags: several times slower, e.g. Prescott kernels when OPENBLAS_CORETYPE says so);
 * else a self-test rate below MIN_GFLOPS_PER_CORE on every try. `selfTest` runs only in that last case.
 */
export function blasProblem(
  info: BlasInfo & Partial<Pick<BlasReport, 'coretype' | 'coretypeSetByHark'>>,
  selfTest: () => SelfTest,
  best: string | null = chooseCoretype(cpuFlags()),
): string | null {
  if (isReferenceBlas(info.library))
    return `hark: FAISS uses the reference BLAS (${info.library}), about 10x slower than OpenBLAS; exact search will be slow. ${FIX}`;
  if (info.corename && best && !WIDE_KERNELS.has(info.corename.toLowerCase())) {
    const set =
      info.coretype && !info.coretypeSetByHark
        ? ` (OPENBLAS_CORETYPE=${info.coretype} in the environment)`
        : '';
    return (
      `hark: OpenBLAS uses its ${info.corename} kernels${set} on a CPU that runs ${best}'s, several times faster; ` +
      `exact search will be slow. Set OPENBLAS_CORETYPE=${best}, or unset it and hark chooses.`
    );
  }
  const { gflopsPerCore, ok } = selfTest();
  if (ok) return null;
  return (
    `hark: sgemm runs at ${gflopsPerCore.toFixed(1)} GFLOP/s per core (< ${MIN_GFLOPS_PER_CORE}) with ${info.library ?? 'an unknown BLAS'}` +
    `${info.corename ? ` (OpenBLAS kernels: ${info.corename})` : ''}; exact search will be slow. ${FIX}`
  );
}

let checked = false;

/** Runs the check once per process, before the first FAISS index, and warns when BLAS is really slow. */
export function checkBlasOnce(): void {
  if (checked || !loaded.addon) return;
  checked = true;
  const problem = blasProblem(blasInfo(), blasSelfTest);
  if (problem) console.warn(problem);
}
