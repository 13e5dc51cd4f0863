/**
 * The few places where SQLite and PostgreSQL SQL differ, in one spot: every repository is written once over
 * Kysely and asks here when the engines disagree. Everything else (upserts with ON CONFLICT, RETURNING,
 * integer division of integers, recursive CTEs, partial indexes) is written the same for both.
 */
import type Database from 'better-sqlite3';
import {
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
  type DatabaseConnection,
  type Dialect,
  type Expression,
  type Kysely,
  type RawBuilder,
  type SelectQueryBuilder,
} from 'kysely';
import type { Schema } from './schema.js';

/** The database engines the store runs on. */
export type Engine = 'sqlite' | 'postgres';

/** A connection or an open transaction: repositories run their queries on either. */
export type Db = Kysely<Schema>;

/**
 * SQLite rolls a transaction back by itself when a statement in it fails for a full disk or an I/O error
 * (SQLITE_FULL, SQLITE_IOERR); Kysely's ROLLBACK after it then fails with "no transaction is active" and would
 * hide the error that says what happened. This driver lets the first error through.
 */
class SqliteFaultDriver extends SqliteDriver {
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await super.rollbackTransaction(connection);
    } catch (err) {
      if (!/no transaction is active/.test((err as Error).message)) throw err;
    }
  }
}

/** Kysely's SQLite dialect over one better-sqlite3 connection, with {@link SqliteFaultDriver}. */
export function sqliteDialect(database: Database.Database): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new SqliteFaultDriver({ database }),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}

/** The larger of two non-null values: SQLite's two-argument `MAX`, PostgreSQL's `GREATEST`. */
export function greatest<T>(engine: Engine, a: Expression<T>, b: Expression<T>): RawBuilder<T> {
  return engine === 'sqlite' ? sql<T>`MAX(${a}, ${b})` : sql<T>`GREATEST(${a}, ${b})`;
}

/**
 * Locks the selected rows until the transaction ends (PostgreSQL `FOR UPDATE`), so two instances changing
 * one alert at once take turns. SQLite has one writer per file and no row locks: the query is unchanged.
 */
export function forUpdate<QB extends SelectQueryBuilder<Schema, keyof Schema, object>>(
  engine: Engine,
  query: QB,
): QB {
  return engine === 'postgres' ? (query.forUpdate() as QB) : query;
}

/**
 * Each of `limit` equal time buckets of `[from, to]` gives its highest point (ties: the earliest), oldest
 * first. SQLite returns the other columns of the row holding `MAX()` (its documented bare-column rule);
 * PostgreSQL has no such rule and picks the row with `DISTINCT ON`.
 */
export async function bucketMaxima(
  engine: Engine,
  db: Db,
  q: { sensorId: string; from: number; to: number; limit: number },
): Promise<{ t: number; score: number }[]> {
  const span = q.to - q.from + 1;
  const query =
    engine === 'sqlite'
      ? sql<{ t: number; score: number }>`SELECT t, MAX(score) AS score FROM scores
          WHERE sensor_id = ${q.sensorId} AND t BETWEEN ${q.from} AND ${q.to}
          GROUP BY CAST((t - ${q.from}) * ${q.limit} / ${span} AS INTEGER) ORDER BY t`
      : sql<{ t: number; score: number }>`SELECT t, score FROM (
            SELECT DISTINCT ON (b) t, score FROM (
              SELECT t, score, FLOOR((t - ${q.from}) * ${q.limit} / ${span}) AS b FROM scores
              WHERE sensor_id = ${q.sensorId} AND t BETWEEN ${q.from} AND ${q.to}
            ) s ORDER BY b, score DESC, t
          ) m ORDER BY t`;
  return (await query.execute(db)).rows;
}
