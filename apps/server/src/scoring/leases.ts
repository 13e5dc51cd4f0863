/**
 * Model leases: a scoring call holds its detector until it releases it, so that a model swapped out (or
 * removed) under a running score is freed only once the last call using it is done.
 */
import type { Detector } from '@hark/detection';

/** What a scoring call holds while it uses a detector; release it when done (twice is harmless). */
export interface DetectorLease {
  detector: Detector;
  release(): void;
}

export class DetectorLeases {
  /** Scoring calls using each detector now. */
  readonly #users = new Map<Detector, number>();
  /** Detectors retired while in use: freed by their last release. */
  readonly #retired = new Set<Detector>();

  acquire(detector: Detector): DetectorLease {
    this.#users.set(detector, (this.#users.get(detector) ?? 0) + 1);
    let done = false;
    return {
      detector,
      release: () => {
        if (done) return;
        done = true;
        const left = (this.#users.get(detector) ?? 1) - 1;
        if (left > 0) this.#users.set(detector, left);
        else {
          this.#users.delete(detector);
          if (this.#retired.delete(detector)) void detector.release();
        }
      },
    };
  }

  /** Frees `detector` now when no call uses it, else when the last lease is released. */
  async retire(detector: Detector): Promise<void> {
    if (this.#users.has(detector)) this.#retired.add(detector);
    else await detector.release();
  }

  /** Calls using `detector` now. */
  users(detector: Detector): number {
    return this.#users.get(detector) ?? 0;
  }
}
