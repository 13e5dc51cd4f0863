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
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Expression,
  type Kysely,
  type QueryResult,
  type RawBuilder,
  type SelectQueryBuilder,
} from 'kysely';
import type { Schema } from './schema.js';

/** The database engines the store runs on. */
export type Engine = 'sqlite' | 'postgres';

/** A connection or an open transaction: repositories run their queries on either. */
export type Db = Kysely<Schema>;

/**
 * Prepared statements kept per SQL text on the SQLite connection. Kysely's SQLite connection prepares every
 * statement anew (the live server runs the same few dozen texts many times a second: parsing and planning them
 * was a fifth of its SQLite time at 16 sensors); texts that vary (IN lists, multi-row inserts of a given
 * length) come and go, least recently used first.
 */
export const SQLITE_STATEMENT_CACHE = 256;

/**
 * Kysely's SQLite connection with its statements prepared once per text ({@link SQLITE_STATEMENT_CACHE}): the
 * same results as Kysely's own `executeQuery` (rows of a reader, else changes and the last rowid). Streams are
 * Kysely's: an iterating statement is busy until it ends, so it is never one another query could take.
 */
export class CachedSqliteConnection implements DatabaseConnection {
  readonly #db: Database.Database;
  readonly #inner: DatabaseConnection;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database, inner: DatabaseConnection) {
    this.#db = db;
    this.#inner = inner;
  }

  /** Statements held now. */
  get cachedStatements(): number {
    return this.#statements.size;
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.#statement(query.sql);
    const parameters = query.parameters as unknown[];
    if (stmt.reader) return Promise.resolve({ rows: stmt.all(parameters) as R[] });
    const { changes, lastInsertRowid } = stmt.run(parameters);
    return Promise.resolve({
      numAffectedRows: BigInt(changes),
      insertId: BigInt(lastInsertRowid),
      rows: [],
    });
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.#inner.streamQuery<R>(query, chunkSize);
  }

  #statement(sql: string): Database.Statement {
    const cached = this.#statements.get(sql);
    if (cached) {
      // Most recently used last: the Map's order is the eviction order.
      this.#statements.delete(sql);
      this.#statements.set(sql, cached);
      return cached;
    }
    const stmt = this.#db.prepare(sql); // a text that does not prepare throws here and is not kept
    this.#statements.set(sql, stmt);
    if (this.#statements.size > SQLITE_STATEMENT_CACHE)
      this.#statements.delete(this.#statements.keys().next().value as string);
    return stmt;
  }
}

/**
 * SQLite rolls a transaction back by itself when a statement in it fails for a full disk or an I/O error
 * (SQLITE_FULL, SQLITE_IOERR); Kysely's ROLLBACK after it then fails with "no transaction is active" and would
 * hide the error that says what happened. This driver lets the first error through. Its one connection keeps
 * its prepared statements ({@link CachedSqliteConnection}).
 */
class SqliteFaultDriver extends SqliteDriver {
  readonly #database: Database.Database;
  #connection: CachedSqliteConnection | null = null;

  constructor(database: Database.Database) {
    super({ database });
    this.#database = database;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await super.acquireConnection();
    return (this.#connection ??= new CachedSqliteConnection(this.#database, inner));
  }

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
    createDriver: () => new SqliteFaultDriver(database),
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
