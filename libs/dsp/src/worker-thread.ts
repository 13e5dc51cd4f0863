/** How hark starts its worker threads (the server's fitting and DSP workers, a backbone's session). */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `argv` without `--conditions X` / `--conditions=X` / `-C X` pairs. */
export function withoutConditions(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--conditions' || a === '-C') i++;
    else if (!a.startsWith('--conditions=')) out.push(a);
  }
  return out;
}

/**
 * A worker thread that runs the built libraries, so the `source` export condition a test runner may set is
 * dropped from the process's flags. Flags a worker refuses (per-process V8 flags such as `--single-threaded-gc`,
 * which `hark bench pipeline` and a tuned `hark serve` may run with) leave it with none: the workers' code needs
 * none of them.
 */
export function startWorker(url: URL, options: Omit<WorkerOptions, 'execArgv'>): Worker {
  try {
    return new Worker(url, { ...options, execArgv: withoutConditions(process.execArgv) });
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    return new Worker(url, { ...options, execArgv: [] });
  }
}
