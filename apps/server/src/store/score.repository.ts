import type { ScorePoint } from '@hark/protocol';
import { sql } from 'kysely';
import type { HarkDatabase } from './database.js';
import { bucketMaxima } from './dialect.js';
import { InvalidArgumentError, checkInt } from './errors.js';

/** Default retention of the score history: 7 days, ms. */
export const DEFAULT_SCORE_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** Default and largest number of points `range()` returns. */
export const DEFAULT_SCORE_LIMIT = 2000;
export const MAX_SCORE_LIMIT = 20_000;

export interface ScoreRepositoryOptions {
  /** Points older than this are pruned, ms (default 7 days). */
  retentionMs?: number;
  /** `append` flushes by itself once this many points wait (default 5000). */
  maxBuffered?: number;
}

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
  private buffer: { sensorId: string; t: number; score: number }[] = [];
  /** The flush in progress: flushes run one after another, so points are written in order. */
  #flushing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly database: HarkDatabase,
    options: ScoreRepositoryOptions = {},
  ) {
    this.retentionMs = options.retentionMs ?? DEFAULT_SCORE_RETENTION_MS;
    this.maxBuffered = options.maxBuffered ?? 5000;
    if (!(this.retentionMs > 0)) throw new RangeError(`retentionMs (${this.retentionMs}) must be > 0`);
    checkInt('maxBuffered', this.maxBuffered, 1, 10_000_000);
  }

  /**
   * Buffers one point (`t` is rounded to whole ms; non-finite scores are skipped), flushing when `maxBuffered`
   * wait; that flush's error rejects the promise after the point was buffered.
   */
  async append(sensorId: string, t: number, score: number): Promise<void> {
    if (!Number.isFinite(score) || !Number.isFinite(t)) return;
    this.buffer.push({ sensorId, t: Math.round(t), score });
    if (this.buffer.length >= this.maxBuffered) await this.flush();
  }

  /** Points waiting for `flush`. */
  get buffered(): number {
    return this.buffer.length;
  }

  /**
   * Writes the buffered points in one transaction; resolves to how many. When the write fails the points stay
   * buffered (the newest `maxBuffered`) and the promise rejects.
   */
  flush(): Promise<number> {
    const run = this.#flushing.then(
      () => this.#flush(),
      () => this.#flush(),
    );
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

  /** Deletes points older than `now - retentionMs`; returns how many. Flushes first. */
  async prune(now = Date.now()): Promise<number> {
    await this.flush();
    const cutoff = now - this.retentionMs;
    const db = this.database.db;
    // Distinct sensors by skipping through the primary key, without scanning the table.
    const { rows: sensors } = await sql<{ id: string }>`WITH RECURSIVE ids (id) AS (
        SELECT MIN(sensor_id) FROM scores
        UNION ALL SELECT (SELECT MIN(sensor_id) FROM scores WHERE sensor_id > ids.id) FROM ids WHERE ids.id IS NOT NULL
      ) SELECT id FROM ids WHERE id IS NOT NULL`.execute(db);
    return db.transaction().execute(async (trx) => {
      let n = 0;
      for (const s of sensors) {
        const r = await trx
          .deleteFrom('scores')
          .where('sensor_id', '=', s.id)
          .where('t', '<', cutoff)
          .executeTakeFirst();
        n += Number(r.numDeletedRows);
      }
      return n;
    });
  }
}
