import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { listBackups } from './backup.js';
import { redactUrl } from './url.js';
import { sqliteDialect, type Db, type Engine } from './dialect.js';
import { BACKUP_DIR, DATABASE_FILE } from './files.js';
import { MIGRATIONS, checkMigrations, migratePostgres, type Migration } from './migrations.js';
import type { Schema } from './schema.js';
import { isStorageFailure } from './storage-health.js';

export { DATABASE_FILE };

/** SQLite's codes for a file that is damaged or not a database at all. */
const CORRUPT_CODES = /^SQLITE_(CORRUPT|NOTADB)/;

/**
 * `hark.db` is damaged: the start stops here, naming the file and the way back (the newest backup, or an
 * empty database).
 */
export class CorruptDatabaseError extends Error {
  readonly code = 'ERR_HARK_CORRUPT_DATABASE';

  constructor(
    readonly path: string,
    dataDir: string,
    cause: string,
  ) {
    const newest = listBackups(dataDir)[0];
    const restore = newest
      ? `restore the newest backup with \`hark restore --data ${dataDir} ${newest}\` (it checks the copy first; ` +
        `older ones are in ${dirname(newest)})`
      : `no backup is in ${join(dataDir, BACKUP_DIR)}: restore one kept elsewhere with \`hark restore --data ${dataDir} FILE\``;
    super(
      `the database ${path} is damaged (${cause}). Stop and ${restore}; or move ${path} aside (with its -wal ` +
        `and -shm) to start with an empty database (tokens, sensors and alerts are then gone; models and clips stay).`,
    );
    this.name = 'CorruptDatabaseError';
  }
}

function corruptCause(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CORRUPT_CODES.test(code) ? `${code}: ${(err as Error).message}` : null;
}

/** Default time a statement waits for a lock held by another connection, ms. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * The pragmas every connection runs, in order. Exported so a second process (a backup script, the
 * crash-safety test) opens the file exactly as the server does.
 *
 * - `journal_mode = WAL`: readers never block the writer.
 * - `synchronous = FULL`: a commit is fsynced before it returns, so an acknowledged operator action survives
 *   a killed process and a power cut.
 * - `foreign_keys = ON`: annotations and feedback cannot point at missing alerts.
 */
export const SQLITE_PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON'] as const;

export interface HarkDatabaseOptions {
  /** Busy timeout, ms (default 5000). */
  busyTimeoutMs?: number;
  /** Migrations to apply (default the server's); tests pass their own lists. */
  migrations?: readonly Migration[];
}

/** Where the store lives: `DATA/hark.db` (the embedded default) or a PostgreSQL database. */
export type DatabaseLocation = { engine: 'sqlite'; dataDir: string } | { engine: 'postgres'; url: string };

/** Largest number of connections one server opens to PostgreSQL. */
export const POSTGRES_POOL_SIZE = 10;

/**
 * How long a new connection to PostgreSQL may take, ms. A reachable server on a LAN answers in milliseconds,
 * a loaded one in well under a second; without a limit a host that drops packets (gone without a reset) holds
 * each connect for the kernel's SYN retries (~2 min) while writes wait behind it.
 */
export const POSTGRES_CONNECT_TIMEOUT_MS = 5000;

/**
 * How long a query may go without an answer, ms, before it counts as a storage failure (and the data path's
 * writes queue). It is far above any query hark makes (the longest, a migration or a month's export, take
 * seconds) and far below TCP's own give-up on a silent peer (~15 min).
 */
export const POSTGRES_QUERY_TIMEOUT_MS = 60_000;

/**
 * PostgreSQL returns BIGINT (COUNT, ms times, ids) and NUMERIC (SUM of BIGINT) as strings, because they can
 * exceed 2^53; hark's values never do (ms times reach 2^53 in the year 287396), so they are read as numbers.
 */
const PG_TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 || oid === 1700
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * The server's database behind one Kysely instance (`db`): SQLite in `<dataDir>/hark.db` (the constructor:
 * opens, creating the directory, sets the pragmas and migrates to the latest schema version), or PostgreSQL
 * ({@link HarkDatabase.open} with a `postgres://` location: migrates under an advisory lock). Repositories take
 * it in their constructors and are written once for both engines.
 */
export class HarkDatabase {
  /** The query layer every repository uses. */
  readonly db: Db;
  readonly engine: Engine;
  /** The file's path (SQLite), or the URL without its password (PostgreSQL). */
  readonly path: string;
  readonly #sqlite: Database.Database | null;
  #open = true;
  /**
   * Set when the file could not be opened for writing (a full disk): the connection reads, its writes fail
   * until space returns. Null otherwise.
   */
  readonly readOnlyReason: string | null = null;

  /** Opens the database at `location` (SQLite or PostgreSQL) and migrates it. */
  static async open(location: DatabaseLocation, options: HarkDatabaseOptions = {}): Promise<HarkDatabase> {
    if (location.engine === 'sqlite') return new HarkDatabase(location.dataDir, options);
    const pool = new pg.Pool({
      connectionString: location.url,
      max: POSTGRES_POOL_SIZE,
      types: PG_TYPES,
      connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS,
      query_timeout: POSTGRES_QUERY_TIMEOUT_MS,
      // TCP keepalives find a dead peer under an idle connection, so the pool drops it before it is used.
      keepAlive: true,
    });
    // An idle connection that the server drops (a restart of PostgreSQL) must not crash the process: the pool
    // removes it and opens new ones on demand, so writes resume by themselves once PostgreSQL answers again.
    pool.on('error', () => {});
    // Nor one in use: the pool takes its own error listener off a client it hands out, and a client whose
    // connection ends emits 'error' (besides failing its query), which with no listener is an uncaught
    // exception. The query's own rejection reports the failure; the pool drops the client when released.
    pool.on('connect', (client) => client.on('error', () => {}));
    const database = new HarkDatabase({ url: location.url, pool }, options);
    try {
      await migratePostgres(pool, options.migrations ?? MIGRATIONS, database.path);
    } catch (err) {
      await database.close();
      throw err;
    }
    return database;
  }

  /** SQLite in `<dataDir>/hark.db` (synchronous: the file is opened and migrated before this returns). */
  constructor(dataDir: string, options?: HarkDatabaseOptions);
  constructor(postgres: { url: string; pool: pg.Pool }, options?: HarkDatabaseOptions);
  constructor(source: string | { url: string; pool: pg.Pool }, options: HarkDatabaseOptions = {}) {
    if (typeof source !== 'string') {
      this.engine = 'postgres';
      this.path = redactUrl(source.url);
      this.#sqlite = null;
      this.db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: source.pool }) });
      return;
    }
    const dataDir = source;
    this.engine = 'sqlite';
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new RangeError(`busyTimeoutMs (${busyTimeoutMs}) must be an integer >= 0`);
    }
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      throw new Error(`cannot create the data directory ${dataDir}: ${(err as Error).message}`);
    }
    this.path = join(dataDir, DATABASE_FILE);
    let db: Database.Database;
    try {
      db = this.#connect(busyTimeoutMs, false);
    } catch (err) {
      const corrupt = corruptCause(err);
      if (corrupt) throw new CorruptDatabaseError(this.path, dataDir, corrupt);
      if (!isStorageFailure(err)) throw err;
      // A full disk cannot hold the shared-memory index (`hark.db-shm`) a WAL reader needs. In exclusive
      // locking mode SQLite keeps that index in memory instead, so the server can start and serve what is
      // stored; its writes fail until space returns, then succeed on the same connection.
      db = this.#connect(busyTimeoutMs, true);
      this.readOnlyReason = `${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}`;
    }
    try {
      // Damage anywhere in the file (not only in the pages the start reads) stops the start here, with a
      // message, rather than as a malformed-image error in the middle of serving. quick_check reads every page
      // once (about a second per GB).
      const check = (db.pragma('quick_check(3)') as { quick_check: string }[]).map((r) => r.quick_check);
      if (check.join() !== 'ok') throw Object.assign(new Error(check.join('; ')), { code: 'SQLITE_CORRUPT' });
      migrate(db, options.migrations ?? MIGRATIONS, this.path);
    } catch (err) {
      db.close();
      const corrupt = corruptCause(err);
      if (corrupt) throw new CorruptDatabaseError(this.path, dataDir, corrupt);
      if (!isStorageFailure(err)) throw err;
      throw new Error(
        `cannot bring ${this.path} to schema version ${(options.migrations ?? MIGRATIONS).length}: ` +
          `${(err as Error).message}; free space on the disk of ${dataDir} and start again`,
      );
    }
    this.#sqlite = db;
    this.db = new Kysely<Schema>({ dialect: sqliteDialect(db) });
  }

  /**
   * The better-sqlite3 connection, for what only SQLite has (online backup, pragmas, checkpoints). On
   * PostgreSQL this is an error that says to use PostgreSQL's own tools.
   */
  get sqlite(): Database.Database {
    if (!this.#sqlite) {
      throw new Error(
        `this is SQLite-only; the store is PostgreSQL (${this.path}): use PostgreSQL's own tools (pg_dump, pg_restore)`,
      );
    }
    return this.#sqlite;
  }

  #connect(busyTimeoutMs: number, exclusive: boolean): Database.Database {
    let db: Database.Database;
    try {
      db = new Database(this.path, { timeout: busyTimeoutMs });
    } catch (err) {
      throw Object.assign(new Error(`cannot open the database ${this.path}: ${(err as Error).message}`), {
        code: (err as { code?: unknown }).code,
      });
    }
    try {
      if (exclusive) db.pragma('locking_mode = EXCLUSIVE');
      for (const pragma of SQLITE_PRAGMAS) db.pragma(pragma);
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      const mode = db.pragma('journal_mode', { simple: true });
      if (mode !== 'wal') {
        throw new Error(
          `${this.path}: cannot switch to WAL (journal_mode is '${String(mode)}'); is it on a network share?`,
        );
      }
    } catch (err) {
      db.close();
      throw err;
    }
    return db;
  }

  /** A small write that proves the database takes writes (the storage health's probe while degraded). */
  async probe(at: number): Promise<void> {
    await this.db
      .insertInto('storage_probe')
      .values({ id: 1, at })
      .onConflict((oc) => oc.column('id').doUpdateSet({ at }))
      .execute();
  }

  /** The schema version the database is at. */
  async schemaVersion(): Promise<number> {
    const row = await this.db
      .selectFrom('schema_version')
      .select((eb) => eb.fn.max('version').as('v'))
      .executeTakeFirst();
    return row?.v ?? 0;
  }

  /** True until `close()`. */
  get open(): boolean {
    return this.#open;
  }

  /**
   * Closes the connection (SQLite: checkpoints the WAL first, when the disk lets it; PostgreSQL: ends the
   * pool); later calls do nothing.
   */
  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    if (this.#sqlite) {
      try {
        this.#sqlite.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // A full disk can refuse the checkpoint; the WAL stays and the next open replays it.
      }
    }
    await this.db.destroy();
  }
}

function currentVersion(db: Database.Database): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

/** Applies every migration above the file's version, each in its own transaction. */
function migrate(db: Database.Database, migrations: readonly Migration[], path: string): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
  );
  const at = currentVersion(db);
  checkMigrations(migrations, at, path);
  for (const m of migrations.slice(at)) {
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
    })();
  }
}

/** A repository: queries over the store's one Kysely instance, given the opened database. */
export abstract class Repository {
  protected readonly db: Db;
  protected readonly engine: Engine;

  constructor(database: HarkDatabase) {
    this.db = database.db;
    this.engine = database.engine;
  }
}
