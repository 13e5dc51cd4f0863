import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { chooseCoretype, cpuFlags } from '../scripts/cpu.mjs';
import type { Addon } from './addon.js';

/**
 * Loads the compiled addon once, after choosing OpenBLAS's kernels: Debian's OpenBLAS 0.3.21 does not
 * recognise recent Xeons and falls back to slow SSE3 kernels; OPENBLAS_CORETYPE, read when the library
 * is loaded, fixes it. A value the user set is kept. `HARK_NATIVE_BACKEND=typescript` skips the addon.
 */

const ADDON_PATH = '../build/Release/hark_faiss.node';

export interface LoadResult {
  addon: Addon | null;
  /** Why the addon is not in use (null when it is). */
  reason: string | null;
  /** The OPENBLAS_CORETYPE this module set, or null when it left the environment alone. */
  coretypeSet: string | null;
}

/**
 * The CPU rule (`cpuFlags`, `chooseCoretype`) is plain JavaScript in scripts/cpu.mjs, shared with the
 * kernel-family matrix of `make test`, which runs before this file is built.
 */
export { chooseCoretype, cpuFlags };

function setCoretype(): string | null {
  if (process.env.OPENBLAS_CORETYPE !== undefined || process.arch !== 'x64') return null;
  const coretype = chooseCoretype(cpuFlags());
  if (coretype) process.env.OPENBLAS_CORETYPE = coretype;
  return coretype;
}

/**
 * The FAISS thread count the environment asks for: HARK_FAISS_THREADS, else OMP_NUM_THREADS (its first
 * level); null when neither is set or neither is a thread count (that one is named in a warning).
 */
export function requestedThreads(env: NodeJS.ProcessEnv = process.env): number | null {
  for (const name of ['HARK_FAISS_THREADS', 'OMP_NUM_THREADS'] as const) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const n = Number(value.split(',')[0]);
    if (Number.isInteger(n) && n >= 1 && n <= 1024) return n;
    console.warn(`hark: ${name}='${value}' is not a thread count (an integer >= 1); ignoring it`);
  }
  return null;
}

/**
 * FAISS's OpenMP thread count when nothing else is said: `requestedThreads`, else every core. One search
 * job runs at a time by default (see jobs.ts), so on 2 cores FAISS gets both. The server lowers it when
 * nothing is requested (apps/server/src/scoring/search-threads.ts).
 */
export function defaultThreads(env: NodeJS.ProcessEnv = process.env): number {
  return requestedThreads(env) ?? availableParallelism();
}

function load(): LoadResult {
  if (process.env.HARK_NATIVE_BACKEND === 'typescript')
    return { addon: null, reason: 'HARK_NATIVE_BACKEND=typescript', coretypeSet: null };
  const coretypeSet = setCoretype();
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
    addon.setNumThreads(defaultThreads());
    return { addon, reason: null, coretypeSet };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { addon: null, reason: `${message} (build it with \`make build-native\`)`, coretypeSet };
  }
}

export const loaded: LoadResult = load();

if (!loaded.addon) {
  console.warn(
    `hark: the FAISS addon is not available (${loaded.reason}); using the exact TypeScript k-NN fallback, 50-100x slower`,
  );
}
