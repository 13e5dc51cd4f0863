/**
 * Scoring: every window a sensor's stream cuts is scored by the sensor's model off the event loop, under the
 * scheduler's bounds, holding a lease on the model so that a swap never frees it mid-score. Each outcome goes on
 * to one place, the sensor's {@link ScoreSink}: scored, or dropped (no model, overload, failure).
 */
import type { Detector } from '@hark/detection';
import type { ReadyWindow } from '../ingest/sensor-stream.js';
import type { HarkMetrics } from '../metrics/hark.metrics.js';
import type { DetectorLease } from './leases.js';
import { ScoringScheduler, type SensorSchedulerStats } from './scheduler.js';

/** Where the scorer takes each sensor's current model from (the model registry). */
export interface DetectorSource {
  detector(sensorId: string): Detector | null;
  /** The current detector, held until `release()`; null when the sensor has no model (any more). */
  acquire(sensorId: string): DetectorLease | null;
}

/** One scored window: the normalised score (1 = threshold), the raw score, the anomaly map and patches. */
export interface WindowResult {
  normalised: number;
  raw: number;
  /** `[nMels, windowFrames]` anomaly map. */
  map: Float32Array;
  /** The map before time-share mixing (detection's `WindowResult.localMap`): a box's frequency extent. */
  localMap: Float32Array;
  /** The method's patch embeddings (what feedback teaches). */
  embeddings: Float32Array;
}

/** Why a window was not scored: no model, the sensor's queue overflowed (or was removed), or scoring failed. */
export type DropCause = 'no-model' | 'overload' | 'failed';

/** The next step after scoring, one per sensor. */
export interface ScoreSink {
  scored(w: ReadyWindow, r: WindowResult, latencyMs: number): void;
  dropped(w: ReadyWindow, cause: DropCause): void;
}

export interface WindowScorerOptions {
  concurrency: number;
  queuePerSensor: number;
  models: DetectorSource;
  metrics: HarkMetrics;
  log: (line: string) => void;
}

export class WindowScorer {
  readonly scheduler: ScoringScheduler;
  #closing = false;

  constructor(private readonly o: WindowScorerOptions) {
    this.scheduler = new ScoringScheduler({ concurrency: o.concurrency, queuePerSensor: o.queuePerSensor });
  }

  /** Queues `w` for scoring; its outcome goes to `sink` (never after `close`). */
  submit(sensorId: string, w: ReadyWindow, sink: ScoreSink): void {
    if (!this.o.models.detector(sensorId)) {
      sink.dropped(w, 'no-model');
      return;
    }
    this.scheduler.submit<WindowResult | null>(sensorId, () => this.#score(sensorId, w), {
      onDone: (r, latencyMs) => {
        if (this.#closing) return;
        if (!r) return sink.dropped(w, 'no-model');
        this.o.metrics.windowScored(sensorId, latencyMs / 1000);
        sink.scored(w, r, latencyMs);
      },
      onDrop: () => {
        this.o.metrics.windowsDropped.inc({ sensor: sensorId });
        sink.dropped(w, 'overload');
      },
      onError: (err) => {
        this.o.log(`sensor ${sensorId}: scoring a window failed: ${(err as Error).message}`);
        this.o.metrics.windowsDropped.inc({ sensor: sensorId });
        sink.dropped(w, 'failed');
      },
    });
  }

  stats(sensorId: string): SensorSchedulerStats {
    return this.scheduler.stats(sensorId);
  }

  /** Stops handing results on, drops what waits, and resolves when running jobs have finished. */
  async close(sensorIds: Iterable<string>): Promise<void> {
    this.#closing = true;
    for (const id of sensorIds) this.scheduler.removeSensor(id);
    await this.scheduler.idle();
  }

  async #score(sensorId: string, w: ReadyWindow): Promise<WindowResult | null> {
    const lease = this.o.models.acquire(sensorId);
    if (!lease) return null;
    try {
      const r = await lease.detector.scoreWindow(w.data);
      return {
        normalised: r.normalised,
        raw: r.windowScore,
        map: r.map,
        localMap: r.localMap,
        embeddings: r.embeddings,
      };
    } finally {
      lease.release();
    }
  }
}
