/**
 * Asynchronous index work goes through one queue for the whole process. Each job occupies a libuv pool
 * thread (4 by default, shared with fs, dns and zlib) and, inside it, FAISS's OpenMP threads; running
 * jobs one at a time (the default) keeps three pool threads free and lets each job use every core.
 * Jobs start in call order; with more than one in flight, jobs on the same index still never overlap a
 * write (the addon holds a reader-writer lock per index), but their order is no longer guaranteed.
 */

let limit = 1;
let running = 0;
const waiting: (() => void)[] = [];

/** How many asynchronous FAISS calls may run at once (default 1). */
export function setMaxConcurrentJobs(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw Object.assign(new RangeError(`maxConcurrentJobs (${n}) must be an integer in [1, 64]`), {
      code: 'ERR_HARK_FAISS_ARG',
    });
  limit = n;
  drain();
}

export function getMaxConcurrentJobs(): number {
  return limit;
}

function drain(): void {
  while (running < limit && waiting.length > 0) {
    running++;
    waiting.shift()!();
  }
}

/** Runs `job` when a slot is free; the slot is released when its promise settles. */
export async function schedule<T>(job: () => Promise<T>): Promise<T> {
  await new Promise<void>((resolve) => {
    waiting.push(resolve);
    drain();
  });
  try {
    return await job();
  } finally {
    running--;
    drain();
  }
}
