import { setTimeout as sleep } from 'node:timers/promises';

/** A monotonic clock for pacing; tests pass a fake one. */
export interface Clock {
  /** Monotonic milliseconds (any origin). */
  now(): number;
  /** Resolves after `ms`, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const monotonicClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }).catch(() => undefined),
};
