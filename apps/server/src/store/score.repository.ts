import type { ScorePoint } from '@hark/protocol';
import { sql } from 'kysely';
import type { HarkDatabase } from './database.js';
import { bucketMaxima } from './dialect.js';
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
  /**
   * Points kept while writes fail (PostgreSQL unreachable, a full disk); the oldest are dropped beyond it
   * (default {@link DEFAULT_MAX_QUEUED_SCORES}). At least `maxBuffered`.
   */
  maxQueued?: number;
  /** `n` points were dropped from a full queue (counted; the caller logs). */
  onDropped?: (n: number) => void;
}

/**
 * Default bound of the points kept while writes fail: 100,000 points of about 100 bytes each in memory (10 MB)
 * hold 16 sensors' points (2 per second each) for 52 minutes, long enough for a database restart or a failover;
 * the score line of a longer outage keeps its last 52 minutes, and its alerts are kept regardless.
 */
export const DEFAULT_MAX_QUEUED_SCORES = 100_000;

/** Points per INSERT statement (3 parameters each: well inside SQLite's and PostgreSQL's limits). */
const INSERT_ROWS = 1000;

/**
 * The normalised score history (~2 points per second per sensor). `append` only buffers; `flush` writes every
 * buffered point in one transaction. Call `flush` on a timer (the runtime does, about once a second) and at
 * shutdown: buffered points are lost if the process dies, which the history tolerates. Two points of one sensor
 * at the same ms keep the later one.
 */
export class ScoreRepository {
  readonly retentionMs: number;
  private readonly maxBuffered: number;
  readonly maxQueued: number;
  readonly #onDropped: (n: number) => void;
  /** Points dropped from a full queue since start. */
  dropped = 0;
  private buffer: { sensorId: string; t: number; score: number }[] = [];
  /** The flush in progress: flushes run one after another, so points are written in order. */
  #flushing: Promise<unknown> = Promise.resolve();
  /**
   * A flush queued behind the one in progress, not started yet: later calls share it (a failing store is not
   * asked once per point).
   */
  #next: Promise<number> | null = null;
  /** Points appended since `append` last asked for a flush. */
  #appended = 0;

  constructor(
    private readonly database: HarkDatabase,
    options: ScoreRepositoryOptions = {},
  ) {
    this.retentionMs = options.retentionMs ?? DEFAULT_SCORE_RETENTION_MS;
    this.maxBuffered = options.maxBuffered ?? 5000;
    this.maxQueued = options.maxQueued ?? Math.max(DEFAULT_MAX_QUEUED_SCORES, this.maxBuffered);
    this.#onDropped = options.onDropped ?? (() => {});
    if (!(this.retentionMs > 0)) throw new RangeError(`retentionMs (${this.retentionMs}) must be > 0`);
    checkInt('maxBuffered', this.maxBuffered, 1, 10_000_000);
    checkInt('maxQueued', this.maxQueued, this.maxBuffered, 100_000_000);
  }

  /**
   * Buffers one point (`t` is rounded to whole ms; non-finite scores are skipped), flushing when `maxBuffered`
   * wait; that flush's error rejects the promise after the point was buffered.
   */
  async append(sensorId: string, t: number, score: number): Promise<void> {
    if (!Number.isFinite(score) || !Number.isFinite(t)) return;
    this.buffer.push({ sensorId, t: Math.round(t), score });
    // Past the bound the oldest 1 % go at once, so that a full queue is not copied again for every point.
    if (this.buffer.length > this.maxQueued)
      this.#drop(this.buffer.length - this.maxQueued + Math.floor(this.maxQueued / 100));
    // Each `maxBuffered` points appended (not on every point past it: while writes fail the points pile up).
    if (++this.#appended >= this.maxBuffered) {
      this.#appended = 0;
      await this.flush();
    }
  }

  #drop(n: number): void {
    this.buffer = this.buffer.slice(n);
    this.dropped += n;
    this.#onDropped(n);
  }

  /** Points waiting for `flush`. */
  get buffered(): number {
    return this.buffer.length;
  }

  /**
   * Writes the buffered points in one transaction; resolves to how many. When the write fails the points stay
   * buffered (the newest `maxQueued`) and the promise rejects.
   */
  flush(): Promise<number> {
    if (this.#next) return this.#next;
    const run = this.#flushing.then(
      () => ((this.#next = null), this.#flush()),
      () => ((this.#next = null), this.#flush()),
    );
    this.#next = run;
    this.#flushing = run.catch(() => {});
    return run;
  }

  async #flush(): Promise<number> {
    if (this.buffer.length === 0 || !this.database.open) return 0;
    const points = this.buffer;
    this.buffer = [];
    // One row per sensor and ms, the later point winning (PostgreSQL refuses one statement that would
    // update a row twice).
    const rows = [...new Map(points.map((p) => [`${p.sensorId}\0${p.t}`, p])).values()].map((p) => ({
      sensor_id: p.sensorId,
      t: p.t,
      score: p.score,
    }));
    try {
      await this.database.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += INSERT_ROWS) {
          await trx
            .insertInto('scores')
            .values(rows.slice(i, i + INSERT_ROWS))
            .onConflict((oc) =>
              oc.columns(['sensor_id', 't']).doUpdateSet((eb) => ({ score: eb.ref('excluded.score') })),
            )
            .execute();
        }
      });
    } catch (err) {
      // Kept, in order, for the next flush (a full disk may free up, PostgreSQL come back), the newest
      // `maxQueued` points at most.
      this.buffer = [...points, ...this.buffer];
      if (this.buffer.length > this.maxQueued) this.#drop(this.buffer.length - this.maxQueued);
      throw err;
    }
    return points.length;
  }

  /**
   * The sensor's points with `from <= t <= to` (defaults: everything), oldest first. When more than `limit`
   * points fall in the range, the range is cut into `limit` equal time buckets and each non-empty bucket
   * gives its highest point, so peaks survive downsampling. Flushes first.
   */
  async range(
    sensorId: string,
    query: { from?: number; to?: number; limit?: number } = {},
  ): Promise<ScorePoint[]> {
    const limit = checkInt('limit', query.limit ?? DEFAULT_SCORE_LIMIT, 1, MAX_SCORE_LIMIT);
    const from = query.from ?? -Number.MAX_SAFE_INTEGER;
    const to = query.to ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isFinite(from) || !Number.isFinite(to)) {
      throw new InvalidArgumentError(`from (${query.from}) and to (${query.to}) must be times in ms`);
    }
    if (from > to) throw new InvalidArgumentError(`from (${from}) must not be after to (${to})`);
    await this.flush();
    const db = this.database.db;
    const lo = from;
    const hi = to;
    const stats = await db
      .selectFrom('scores')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('t').as('lo'), eb.fn.max('t').as('hi')])
      .where('sensor_id', '=', sensorId)
      .where('t', '>=', lo)
      .where('t', '<=', hi)
      .executeTakeFirstOrThrow();
    if (Number(stats.n) <= limit) {
      return db
        .selectFrom('scores')
        .select(['t', 'score'])
        .where('sensor_id', '=', sensorId)
        .where('t', '>=', lo)
        .where('t', '<=', hi)
        .orderBy('t')
        .execute();
    }
    return bucketMaxima(this.database.engine, db, {
      sensorId,
      from: stats.lo as number,
      to: stats.hi as number,
      limit,
    });
  }

  /** Deletes points older than `now - retentionMs`; returns how many. Flushes first. One transaction: see `pruneBatch`. */
  async prune(now = Date.now()): Promise<number> {
    await this.flush();
    const cutoff = now - this.retentionMs;
    const sensors = await this.sensorIds();
    return this.database.db.transaction().execute(async (trx) => {
      let n = 0;
      for (const id of sensors) {
        const r = await trx
          .deleteFrom('scores')
          .where('sensor_id', '=', id)
          .where('t', '<', cutoff)
          .executeTakeFirst();
        n += Number(r.numDeletedRows);
      }
      return n;
    });
  }

  /** The sensors that have points, by id. */
  async sensorIds(): Promise<string[]> {
    // Distinct sensors by skipping through the primary key, without scanning the table.
    const { rows } = await sql<{ id: string }>`WITH RECURSIVE ids (id) AS (
        SELECT MIN(sensor_id) FROM scores
        UNION ALL SELECT (SELECT MIN(sensor_id) FROM scores WHERE sensor_id > ids.id) FROM ids WHERE ids.id IS NOT NULL
      ) SELECT id FROM ids WHERE id IS NOT NULL`.execute(this.database.db);
    return rows.map((r) => r.id);
  }

  /** Time of the sensor's oldest stored point (ms), null when it has none. */
  async oldest(sensorId: string): Promise<number | null> {
    const row = await this.database.db
      .selectFrom('scores')
      .select((eb) => eb.fn.min('t').as('t'))
      .where('sensor_id', '=', sensorId)
      .executeTakeFirst();
    return row?.t ?? null;
  }

  /**
   * The sensor's points with `after < t < before`, oldest first, at most `limit` (no downsampling): a page of a
   * walk through a long span (the next page starts after the last `t`). Does not flush.
   */
  async page(sensorId: string, after: number, before: number, limit: number): Promise<ScorePoint[]> {
    checkInt('limit', limit, 1, 10_000_000);
    return this.database.db
      .selectFrom('scores')
      .select(['t', 'score'])
      .where('sensor_id', '=', sensorId)
      .where('t', '>', after)
      .where('t', '<', before)
      .orderBy('t')
      .limit(limit)
      .execute();
  }

  /**
   * Deletes the sensor's oldest points before `before` (ms), at most `limit` of them; returns how many. A bounded
   * delete for pruning a large backlog a slice at a time (the caller yields between slices).
   */
  async pruneBatch(sensorId: string, before: number, limit: number): Promise<number> {
    checkInt('limit', limit, 1, 10_000_000);
    const db = this.database.db;
    // The primary key (sensor_id, t) orders the points: the limit-th oldest one bounds the slice.
    const last = await db
      .selectFrom('scores')
      .select('t')
      .where('sensor_id', '=', sensorId)
      .where('t', '<', before)
      .orderBy('t')
      .limit(1)
      .offset(limit - 1)
      .executeTakeFirst();
    const bound = last ? last.t + 1 : before;
    const r = await db
      .deleteFrom('scores')
      .where('sensor_id', '=', sensorId)
      .where('t', '<', bound)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
