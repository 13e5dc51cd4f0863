/**
 * Enforces the score history's retention (`scores`, about two points per second per sensor): points older
 * than `ScoreRepository.retentionMs` are deleted a slice at a time, yielding to the event loop between slices,
 * so a backlog (a first start after an upgrade, a retention shortened) never holds the live path for long.
 * A day's points are rolled up into the trends (`score_days`, read a slice at a time too) before the first of
 * them goes, so the trends still show days whose points are gone.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { HarkMetrics } from '../metrics/hark.metrics.js';
import type { HarkStore } from '../store/store.js';
import { DAY_MS, summariseDay } from '../store/trend.repository.js';

/**
 * Points deleted per slice: a slice of one sensor's oldest points is a range of the primary key, deleted in a
 * few milliseconds, while a day of one sensor is about 170 000 points.
 */
export const SCORE_PRUNE_BATCH = 5000;
/** Retention is enforced this often, ms: a small part of the shortest retention allowed (a day). */
export const SCORE_PRUNE_EVERY_MS = 10 * 60_000;

export interface ScoreRetentionDeps {
  store: HarkStore;
  metrics: HarkMetrics;
  /** Points deleted per slice (default `SCORE_PRUNE_BATCH`). */
  batch?: number;
}

export class ScoreRetention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(private readonly d: ScoreRetentionDeps) {
    d.metrics.scoreRetention.set(d.store.scores.retentionMs / 1000);
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => void this.run(Date.now()), SCORE_PRUNE_EVERY_MS);
    this.timer.unref();
    void this.run(Date.now());
  }

  /** Stops the timer and waits for a run in progress to end (it ends after its current slice). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /**
   * Deletes every point older than `now - retentionMs`; resolves to how many. A run already in progress is
   * joined rather than started twice. Failed writes are reported to the store's health and end the run (the
   * next one retries).
   */
  run(now: number): Promise<number> {
    this.running ??= this.#run(now).finally(() => (this.running = null));
    return this.running;
  }

  async #run(now: number): Promise<number> {
    const { store, metrics } = this.d;
    const batch = this.d.batch ?? SCORE_PRUNE_BATCH;
    const cutoff = now - store.scores.retentionMs;
    let deleted = 0;
    const ids = store.health.attempt('scores', () => store.scores.sensorIds()) ?? [];
    for (const id of ids) {
      for (;;) {
        if (this.stopped) return deleted;
        const oldest = store.health.attempt('scores', () => store.scores.oldest(id));
        if (oldest === undefined) return deleted;
        if (oldest === null || oldest >= cutoff) break;
        // The oldest point's day is rolled up (stored once whole: the retention is at least a day, so every
        // day with points before the cutoff is over) before any of its points is deleted.
        const day = Math.floor(oldest / DAY_MS) * DAY_MS;
        if (!(await this.#rollUp(id, day, batch))) return deleted;
        const n = store.health.attempt('scores', () =>
          store.scores.pruneBatch(id, Math.min(cutoff, day + DAY_MS), batch),
        );
        if (n === undefined) return deleted;
        if (n === 0) break;
        deleted += n;
        metrics.scoresPruned.inc(n);
        await yieldToLoop();
      }
    }
    return deleted;
  }

  /**
   * Stores the percentiles of the sensor's whole `day` unless they are stored already, reading its points a
   * page at a time (a day is about 170 000 points: one read and sort in SQL held the loop for 0.8 s on a loaded
   * machine). False when a read or the write failed (reported to the store's health).
   */
  async #rollUp(id: string, day: number, page: number): Promise<boolean> {
    const { store } = this.d;
    const known = store.health.attempt('scores', () => store.trends.has(id, day));
    if (known !== false) return known === true;
    const scores: number[] = [];
    let after = day - 1;
    for (;;) {
      const points = store.health.attempt('scores', () => store.scores.page(id, after, day + DAY_MS, page));
      if (points === undefined) return false;
      for (const p of points) scores.push(p.score);
      if (points.length < page) break;
      after = points[points.length - 1].t;
      await yieldToLoop();
    }
    const d = summariseDay(day, Float64Array.from(scores).sort());
    return !d || store.health.attempt('scores', () => (store.trends.save(id, d), true)) === true;
  }
}
