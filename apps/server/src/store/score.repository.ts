import type Database from 'better-sqlite3';
import type { ScorePoint } from '@hark/protocol';
import type { HarkDatabase } from './database.js';
import { InvalidArgumentError, checkInt } from './errors.js';

/**
 * Default retention of the score history: 30 days, ms, the trends' default span (`TRENDS_DEFAULT_DAYS`), so the
 * score line reaches as far back as the trends chart shows. Whole days are rolled up into `score_days` before
 * their points go, so the trends reach further back than this.
 */
export const DEFAULT_SCORE_RETENTION_MS = 30 * 24 * 3600 * 1000;
/** Default and largest number of points `range()` returns. */
export const DEFAULT_SCORE_LIMIT = 2000;
export const MAX_SCORE_LIMIT = 20_000;

export interface ScoreRepositoryOptions {
  /** Points older than this are pruned, ms (default 30 days). */
  retentionMs?: number;
  /** `append` flushes by itself once this many points wait (default 5000). */
  maxBuffered?: number;
}

/**
 * The normalised score history (~2 points per second per sensor). `append` only buffers; `flush` writes every
 * buffered point in one transaction. Call `flush` on a timer (the runtime does, about once a second) and at
 * shutdown: buffered points are lost if the process dies, which the history tolerates. Two points of one sensor
 * at the same ms keep the later one.
 */
export class ScoreRepository {
  readonly retentionMs: number;
  private readonly db: Database.Database;
  private readonly maxBuffered: number;
  private buffer: { sensorId: string; t: number; score: number }[] = [];
  private readonly insert: Database.Statement;

  constructor(database: HarkDatabase, options: ScoreRepositoryOptions = {}) {
    this.db = database.db;
    this.retentionMs = options.retentionMs ?? DEFAULT_SCORE_RETENTION_MS;
    this.maxBuffered = options.maxBuffered ?? 5000;
    if (!(this.retentionMs > 0)) throw new RangeError(`retentionMs (${this.retentionMs}) must be > 0`);
    checkInt('maxBuffered', this.maxBuffered, 1, 10_000_000);
    this.insert = this.db.prepare('INSERT OR REPLACE INTO scores (sensor_id, t, score) VALUES (?, ?, ?)');
  }

  /**
   * Buffers one point (`t` is rounded to whole ms; non-finite scores are skipped), flushing when `maxBuffered`
   * wait; that flush's error is thrown after the point was buffered.
   */
  append(sensorId: string, t: number, score: number): void {
    if (!Number.isFinite(score) || !Number.isFinite(t)) return;
    this.buffer.push({ sensorId, t: Math.round(t), score });
    if (this.buffer.length >= this.maxBuffered) this.flush();
  }

  /** Points waiting for `flush`. */
  get buffered(): number {
    return this.buffer.length;
  }

  /**
   * Writes the buffered points in one transaction; returns how many. When the write fails the points stay
   * buffered (the newest `maxBuffered`) and the error is thrown.
   */
  flush(): number {
    if (this.buffer.length === 0 || !this.db.open) return 0;
    const points = this.buffer;
    this.buffer = [];
    try {
      this.db.transaction(() => {
        for (const p of points) this.insert.run(p.sensorId, p.t, p.score);
      })();
    } catch (err) {
      // Kept for the next flush (a full disk may free up), the newest `maxBuffered` points at most.
      this.buffer = [...points, ...this.buffer].slice(-this.maxBuffered);
      throw err;
    }
    return points.length;
  }

  /**
   * The sensor's points with `from <= t <= to` (defaults: everything), oldest first. When more than `limit`
   * points fall in the range, the range is cut into `limit` equal time buckets and each non-empty bucket
   * gives its highest point, so peaks survive downsampling. Flushes first.
   */
  range(sensorId: string, query: { from?: number; to?: number; limit?: number } = {}): ScorePoint[] {
    const limit = checkInt('limit', query.limit ?? DEFAULT_SCORE_LIMIT, 1, MAX_SCORE_LIMIT);
    const from = query.from ?? -Number.MAX_SAFE_INTEGER;
    const to = query.to ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isFinite(from) || !Number.isFinite(to)) {
      throw new InvalidArgumentError(`from (${query.from}) and to (${query.to}) must be times in ms`);
    }
    if (from > to) throw new InvalidArgumentError(`from (${from}) must not be after to (${to})`);
    this.flush();
    const stats = this.db
      .prepare(
        'SELECT COUNT(*) AS n, MIN(t) AS lo, MAX(t) AS hi FROM scores WHERE sensor_id = ? AND t BETWEEN ? AND ?',
      )
      .get(sensorId, from, to) as { n: number; lo: number | null; hi: number | null };
    if (stats.n <= limit) {
      return this.db
        .prepare('SELECT t, score FROM scores WHERE sensor_id = ? AND t BETWEEN ? AND ? ORDER BY t')
        .all(sensorId, from, to) as ScorePoint[];
    }
    const lo = stats.lo as number;
    const span = (stats.hi as number) - lo + 1;
    // SQLite returns the other columns of the row holding MAX() (a documented bare-column rule).
    return this.db
      .prepare(
        `SELECT t, MAX(score) AS score FROM scores
         WHERE sensor_id = @sensorId AND t BETWEEN @from AND @to
         GROUP BY CAST((t - @lo) * @limit / @span AS INTEGER)
         ORDER BY t`,
      )
      .all({ sensorId, from: lo, to: stats.hi, lo, limit, span }) as ScorePoint[];
  }

  /** Deletes points older than `now - retentionMs`; returns how many. Flushes first. One transaction: see `pruneBatch`. */
  prune(now = Date.now()): number {
    this.flush();
    const cutoff = now - this.retentionMs;
    const del = this.db.prepare('DELETE FROM scores WHERE sensor_id = ? AND t < ?');
    return this.db.transaction(() =>
      this.sensorIds().reduce((n, id) => n + del.run(id, cutoff).changes, 0),
    )();
  }

  /** The sensors that have points, by id. */
  sensorIds(): string[] {
    // Distinct sensors by skipping through the primary key, without scanning the table.
    const rows = this.db
      .prepare(
        `WITH RECURSIVE ids (id) AS (
           SELECT MIN(sensor_id) FROM scores
           UNION ALL SELECT (SELECT MIN(sensor_id) FROM scores WHERE sensor_id > ids.id) FROM ids WHERE ids.id IS NOT NULL
         ) SELECT id FROM ids WHERE id IS NOT NULL`,
      )
      .all() as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Time of the sensor's oldest stored point (ms), null when it has none. */
  oldest(sensorId: string): number | null {
    const row = this.db.prepare('SELECT MIN(t) AS t FROM scores WHERE sensor_id = ?').get(sensorId) as {
      t: number | null;
    };
    return row.t;
  }

  /**
   * The sensor's points with `after < t < before`, oldest first, at most `limit` (no downsampling): a page of a
   * walk through a long span (the next page starts after the last `t`). Does not flush.
   */
  page(sensorId: string, after: number, before: number, limit: number): ScorePoint[] {
    checkInt('limit', limit, 1, 10_000_000);
    return this.db
      .prepare('SELECT t, score FROM scores WHERE sensor_id = ? AND t > ? AND t < ? ORDER BY t LIMIT ?')
      .all(sensorId, after, before, limit) as ScorePoint[];
  }

  /**
   * Deletes the sensor's oldest points before `before` (ms), at most `limit` of them; returns how many. A bounded
   * delete for pruning a large backlog a slice at a time (the caller yields between slices).
   */
  pruneBatch(sensorId: string, before: number, limit: number): number {
    checkInt('limit', limit, 1, 10_000_000);
    // The primary key (sensor_id, t) orders the points: the limit-th oldest one bounds the slice.
    const last = this.db
      .prepare('SELECT t FROM scores WHERE sensor_id = ? AND t < ? ORDER BY t LIMIT 1 OFFSET ?')
      .get(sensorId, before, limit - 1) as { t: number } | undefined;
    const bound = last ? last.t + 1 : before;
    return this.db.prepare('DELETE FROM scores WHERE sensor_id = ? AND t < ?').run(sensorId, bound).changes;
  }
}
