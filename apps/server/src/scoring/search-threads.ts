/**
 * FAISS's threads in the server. The native library's default is every core, right for `hark evaluate` and
 * `hark fit`, which do one thing at a time. The server's live path is never one thing: its event loop takes
 * every sensor's audio, log-mel, fusion and emit, and with `scoringConcurrency` 2 one window's backbone runs
 * beside another's searches. On 2 cores a search on both then waits at OpenMP's barriers for a thread the OS
 * gave to the others, and its window's latency grows past its CPU: at 64 sensors x 48 kHz, 5 settled runs with
 * 2 search threads gave p99 694-3516 ms (one dropped 26 windows), 5 with 1 gave 279-680 ms, and the searches
 * took 1.5 ms less CPU per window (BENCHMARKS.md, issue 16, session 24). So, unless the environment asks for a
 * number (HARK_FAISS_THREADS, else OMP_NUM_THREADS), the server leaves a core to the event loop: `cores - 1`,
 * at least 1.
 */
import { availableParallelism } from 'node:os';
import { requestedThreads, setNumThreads } from '@hark/native';

export interface SearchThreads {
  threads: number;
  /** 'environment': HARK_FAISS_THREADS or OMP_NUM_THREADS; 'server': a core left to the event loop. */
  source: 'environment' | 'server';
}

/** The server's FAISS thread count on `cores` cores, with the environment's request (if any) first. */
export function serverSearchThreads(
  cores: number = availableParallelism(),
  env: NodeJS.ProcessEnv = process.env,
): SearchThreads {
  const requested = requestedThreads(env);
  if (requested !== null) return { threads: requested, source: 'environment' };
  return { threads: Math.max(1, cores - 1), source: 'server' };
}

/** Applies `serverSearchThreads` to every later FAISS call of this process (its fit workers follow it). */
export function applySearchThreads(cores?: number, env?: NodeJS.ProcessEnv): SearchThreads {
  const chosen = serverSearchThreads(cores, env);
  setNumThreads(chosen.threads);
  return chosen;
}
