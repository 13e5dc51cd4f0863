/**
 * Shadow scoring: a sensor's shadow model (a new version on trial) scores the same live windows as its active
 * model, after the active one, on the same scheduler. Its cost is bounded so that live scoring never waits
 * for it: a shadow window starts only when the scheduler has a free slot and no live window waiting
 * (`ScoringScheduler.behind`); otherwise it is skipped and counted. So with spare CPU the shadow sees every
 * window, and under load it takes only the slack (at most one window in flight per sensor, started when
 * nothing waits: a live window that arrives meanwhile waits at most one shadow score). How many sensors may
 * run a shadow at once (memory: each holds a second model) is the registry's bound (`maxShadowModels`).
 */
import type { ReadyWindow } from '../ingest/sensor-stream.js';
import type { ShadowTrial } from '../models/shadow-trial.js';
import type { DetectorLease } from './leases.js';
import type { ScoringScheduler } from './scheduler.js';
import type { WindowResult } from './window-scorer.js';

/** Where the shadow scorer takes a sensor's shadow from (the model registry). */
export interface ShadowSource {
  /** The sensor's shadow detector, held until `release()`, and its trial; null when it has none. */
  acquireShadow(sensorId: string): { lease: DetectorLease; trial: ShadowTrial } | null;
}

/** The scheduler key of a sensor's shadow jobs (':' is not a sensor-id character: no clash). */
export const shadowKey = (sensorId: string): string => `shadow:${sensorId}`;

export class ShadowScorer {
  constructor(
    private readonly scheduler: ScoringScheduler,
    private readonly source: ShadowSource,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * The active model scored `w` as `active`: the shadow scores it too, if the scheduler has slack. Called from
   * the active job's outcome, while that job still counts as running: the check waits for the next turn of
   * the event loop, when it no longer does.
   */
  offer(sensorId: string, w: ReadyWindow, active: WindowResult): void {
    setImmediate(() => this.#offer(sensorId, w, active));
  }

  #offer(sensorId: string, w: ReadyWindow, active: WindowResult): void {
    const held = this.source.acquireShadow(sensorId);
    if (!held) return;
    const { lease, trial } = held;
    if (this.scheduler.behind || this.scheduler.stats(shadowKey(sensorId)).running > 0) {
      lease.release();
      trial.skipped();
      return;
    }
    this.scheduler.submit(
      shadowKey(sensorId),
      async () => {
        try {
          return await lease.detector.scoreWindow(w.data);
        } finally {
          lease.release();
        }
      },
      {
        onDone: (r) => trial.observe(w, r, active),
        onDrop: () => {
          lease.release();
          trial.skipped();
        },
        onError: (err) => {
          this.log(`sensor ${sensorId}: the shadow model failed on a window: ${(err as Error).message}`);
          trial.skipped();
        },
      },
    );
  }
}
