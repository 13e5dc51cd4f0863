import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { listBackups } from './backup.js';
import { BACKUP_DIR, DATABASE_FILE } from './files.js';
import { MIGRATIONS, type Migration } from './migrations.js';
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

/**
 * The server's SQLite database, `<dataDir>/hark.db`: opens (creating the directory), sets the pragmas and
 * migrates to the latest schema version. Repositories take it in their constructors.
 */
export class HarkDatabase {
  /** The better-sqlite3 connection. */
  readonly db: Database.Database;
  /** Absolute or relative path of the file. */
  readonly path: string;
  /**
   * Set when the file could not be opened for writing (a full disk): the connection reads, its writes fail
   * until space returns. Null otherwise.
   */
  readonly readOnlyReason: string | null = null;
  #probe: Database.Statement | null = null;

  constructor(dataDir: string, options: HarkDatabaseOptions = {}) {
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
    try {
      this.db = this.#connect(busyTimeoutMs, false);
    } catch (err) {
      const corrupt = corruptCause(err);
      if (corrupt) throw new CorruptDatabaseError(this.path, dataDir, corrupt);
      if (!isStorageFailure(err)) throw err;
      // A full disk cannot hold the shared-memory index (`hark.db-shm`) a WAL reader needs. In exclusive
      // locking mode SQLite keeps that index in memory instead, so the server can start and serve what is
      // stored; its writes fail until space returns, then succeed on the same connection.
      this.db = this.#connect(busyTimeoutMs, true);
      this.readOnlyReason = `${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}`;
    }
    try {
      // Damage anywhere in the file (not only in the pages the start reads) stops the start here, with a
      // message, rather than as a malformed-image error in the middle of serving. quick_check reads every page
      // once (about a second per GB).
      const check = (this.db.pragma('quick_check(3)') as { quick_check: string }[]).map((r) => r.quick_check);
      if (check.join() !== 'ok') throw Object.assign(new Error(check.join('; ')), { code: 'SQLITE_CORRUPT' });
      migrate(this.db, options.migrations ?? MIGRATIONS, this.path);
    } catch (err) {
      this.db.close();
      const corrupt = corruptCause(err);
      if (corrupt) throw new CorruptDatabaseError(this.path, dataDir, corrupt);
      if (!isStorageFailure(err)) throw err;
      throw new Error(
        `cannot bring ${this.path} to schema version ${(options.migrations ?? MIGRATIONS).length}: ` +
          `${(err as Error).message}; free space on the disk of ${dataDir} and start again`,
      );
    }
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

  /** A small write that proves the file takes writes (the storage health's probe while degraded). */
  probe(at: number): void {
    this.#probe ??= this.db.prepare('INSERT OR REPLACE INTO storage_probe (id, at) VALUES (1, ?)');
    this.#probe.run(at);
  }

  /** The schema version the file is at. */
  get schemaVersion(): number {
    return currentVersion(this.db);
  }

  /** Runs `fn` in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** True until `close()`. */
  get open(): boolean {
    return this.db.open;
  }

  /** Checkpoints the WAL (when the disk lets it) and closes the connection; later calls do nothing. */
  close(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // A full disk can refuse the checkpoint; the WAL stays and the next open replays it.
    } finally {
      this.db.close();
    }
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
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(
        `migration '${m.name}' has version ${m.version}, expected ${i + 1} (versions run 1, 2, ...)`,
      );
    }
  });
  const at = currentVersion(db);
  if (at > migrations.length) {
    throw new Error(
      `${path} is at schema version ${at} but this server knows only ${migrations.length}: it was written by a newer hark`,
    );
  }
  for (const m of migrations.slice(at)) {
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
    })();
  }
}

/** A repository: queries over the store's one connection, given the opened database. */
export abstract class Repository {
  protected readonly db: Database.Database;

  constructor(database: HarkDatabase) {
    this.db = database.db;
  }
}
