import type Database from 'better-sqlite3';
import type { HarkDatabase } from './database.js';

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
  private readonly db: Database.Database;

  constructor(database: HarkDatabase) {
    this.db = database.db;
  }

  /**
   * The days of `[fromDay, toDay]` (UTC midnights) that have points, oldest first: stored rollups, else rolled
   * up now from `scores` (whole days before `now` are stored, the current one is not).
   */
  days(sensorId: string, fromDay: number, toDay: number, now: number): ScoreDay[] {
    const stored = new Map(
      (
        this.db
          .prepare(
            'SELECT day, n, p50, p90, p99, max FROM score_days WHERE sensor_id = ? AND day BETWEEN ? AND ?',
          )
          .all(sensorId, fromDay, toDay) as ScoreDay[]
      ).map((d) => [d.day, d]),
    );
    const points = this.db.prepare(
      'SELECT score FROM scores WHERE sensor_id = ? AND t >= ? AND t < ? ORDER BY score',
    );
    const save = this.db.prepare(
      'INSERT OR REPLACE INTO score_days (sensor_id, day, n, p50, p90, p99, max) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const out: ScoreDay[] = [];
    for (let day = fromDay; day <= toDay; day += DAY_MS) {
      const known = stored.get(day);
      if (known) {
        out.push(known);
        continue;
      }
      const scores = Float64Array.from(
        (points.raw().all(sensorId, day, day + DAY_MS) as [number][]).map((r) => r[0]),
      );
      const d = summariseDay(day, scores);
      if (!d) continue;
      if (day + DAY_MS <= now) save.run(sensorId, d.day, d.n, d.p50, d.p90, d.p99, d.max);
      out.push(d);
    }
    return out;
  }

  /** Whether the sensor's day (UTC midnight) is rolled up already. */
  has(sensorId: string, day: number): boolean {
    return (
      this.db.prepare('SELECT 1 FROM score_days WHERE sensor_id = ? AND day = ?').get(sensorId, day) !==
      undefined
    );
  }

  /** Stores a whole day's rollup (replacing one stored before). */
  save(sensorId: string, d: ScoreDay): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO score_days (sensor_id, day, n, p50, p90, p99, max) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(sensorId, d.day, d.n, d.p50, d.p90, d.p99, d.max);
  }

  /** Alerts of the sensor started in each day of `[fromDay, toDay]`, by day (UTC midnight). */
  alertsPerDay(sensorId: string, fromDay: number, toDay: number): Map<number, number> {
    const rows = this.db
      .prepare(
        `SELECT CAST(start_at / ${DAY_MS} AS INTEGER) * ${DAY_MS} AS day, COUNT(*) AS n FROM alerts
         WHERE sensor_id = ? AND start_at >= ? AND start_at < ? GROUP BY day`,
      )
      .all(sensorId, fromDay, toDay + DAY_MS) as { day: number; n: number }[];
    return new Map(rows.map((r) => [r.day, r.n]));
  }
}
