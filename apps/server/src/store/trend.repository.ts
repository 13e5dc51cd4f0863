import { sql } from 'kysely';
import type { HarkDatabase } from './database.js';
import type { Db } from './dialect.js';

export const DAY_MS = 24 * 3600_000;

/** Percentiles of one sensor's normalised score over one UTC day. */
export interface ScoreDay {
  /** Midnight (UTC) starting the day, ms. */
  day: number;
  /** Points the percentiles were taken over. */
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The `q` quantile of ascending `sorted` (nearest rank: a value that occurred). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The percentiles of one day's scores, ascending (`sorted`); null for a day without points. */
export function summariseDay(day: number, sorted: Float64Array): ScoreDay | null {
  if (sorted.length === 0) return null;
  return {
    day,
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1],
  };
}

/**
 * Daily score percentiles (`score_days`): a whole day is rolled up once from the score history, while its points
 * are still kept, and read from here afterwards; the day in progress is computed on each read and not stored.
 */
export class TrendRepository {
  private readonly db: Db;

  constructor(database: HarkDatabase) {
    this.db = database.db;
  }

  /**
   * The days of `[fromDay, toDay]` (UTC midnights) that have points, oldest first: stored rollups, else rolled
   * up now from `scores` (whole days before `now` are stored, the current one is not).
   */
  async days(sensorId: string, fromDay: number, toDay: number, now: number): Promise<ScoreDay[]> {
    const stored = new Map(
      (
        await this.db
          .selectFrom('score_days')
          .select(['day', 'n', 'p50', 'p90', 'p99', 'max'])
          .where('sensor_id', '=', sensorId)
          .where('day', '>=', fromDay)
          .where('day', '<=', toDay)
          .execute()
      ).map((d) => [d.day, d]),
    );
    const out: ScoreDay[] = [];
    for (let day = fromDay; day <= toDay; day += DAY_MS) {
      const known = stored.get(day);
      if (known) {
        out.push(known);
        continue;
      }
      const rows = await this.db
        .selectFrom('scores')
        .select('score')
        .where('sensor_id', '=', sensorId)
        .where('t', '>=', day)
        .where('t', '<', day + DAY_MS)
        .orderBy('score')
        .execute();
      const scores = Float64Array.from(rows, (r) => r.score);
      if (scores.length === 0) continue;
      const d: ScoreDay = {
        day,
        n: scores.length,
        p50: quantile(scores, 0.5),
        p90: quantile(scores, 0.9),
        p99: quantile(scores, 0.99),
        max: scores[scores.length - 1],
      };
      if (day + DAY_MS <= now) {
        const { day: _day, ...values } = d;
        await this.db
          .insertInto('score_days')
          .values({ sensor_id: sensorId, ...d })
          .onConflict((oc) => oc.columns(['sensor_id', 'day']).doUpdateSet(values))
          .execute();
      }
      out.push(d);
    }
    return out;
  }

  /** Whether the sensor's day (UTC midnight) is rolled up already. */
  async has(sensorId: string, day: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('score_days')
      .select('day')
      .where('sensor_id', '=', sensorId)
      .where('day', '=', day)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Stores a whole day's rollup (replacing one stored before). */
  async save(sensorId: string, d: ScoreDay): Promise<void> {
    const { day: _day, ...values } = d;
    await this.db
      .insertInto('score_days')
      .values({ sensor_id: sensorId, ...d })
      .onConflict((oc) => oc.columns(['sensor_id', 'day']).doUpdateSet(values))
      .execute();
  }

  /** Alerts of the sensor started in each day of `[fromDay, toDay]`, by day (UTC midnight). */
  async alertsPerDay(sensorId: string, fromDay: number, toDay: number): Promise<Map<number, number>> {
    const day = sql<number>`FLOOR(start_at / ${sql.lit(DAY_MS)}) * ${sql.lit(DAY_MS)}`;
    const rows = await this.db
      .selectFrom('alerts')
      .select((eb) => [day.as('day'), eb.fn.countAll<number>().as('n')])
      .where('sensor_id', '=', sensorId)
      .where('start_at', '>=', fromDay)
      .where('start_at', '<', toDay + DAY_MS)
      .groupBy(day)
      .execute();
    return new Map(rows.map((r) => [Number(r.day), Number(r.n)]));
  }
}
