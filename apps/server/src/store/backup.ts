/**
 * Backups of `DATA/hark.db` with SQLite's online backup API (better-sqlite3's `db.backup()`): a copy taken
 * while the server writes is a consistent snapshot. The server keeps a rolling set in `DATA/backups/`
 * ({@link BackupSchedule}); `hark backup` takes one from another process ({@link backupDataDir}) and
 * `hark restore` puts one back ({@link restoreDatabase}) after checking it.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { DataDirLockedError, lockDataDir } from '../data-lock.js';
import { BACKUP_DIR, DATABASE_FILE } from './files.js';
import { MIGRATIONS } from './migrations.js';
import { redactUrl } from './url.js';

export { BACKUP_DIR };

/** What `command` says when the store is PostgreSQL (`url`): it applies to SQLite's `DATA/hark.db` only. */
export function sqliteOnly(command: string, url: string): string {
  return (
    `${command} applies to the SQLite store (DATA/hark.db); this server's store is PostgreSQL ` +
    `(HARK_DATABASE_URL / --database = ${redactUrl(url)}): back it up and restore it with PostgreSQL's own tools ` +
    `(pg_dump, pg_restore), or unset HARK_DATABASE_URL to work on the data directory's SQLite file`
  );
}
const BACKUP_NAME = /^hark-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:-\d{3})?Z)\.db$/;

/** `hark-2026-12-04T11-40-00-123Z.db`: sorts by time, no `:` (not allowed in Windows file names). */
export function backupName(at: number): string {
  return `hark-${new Date(at).toISOString().replace(/[:.]/g, '-')}.db`;
}

/** The backups in `DATA/backups/`, newest first (absolute paths). */
export function listBackups(dataDir: string): string[] {
  const dir = join(dataDir, BACKUP_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => BACKUP_NAME.test(f))
    .sort()
    .reverse()
    .map((f) => resolve(dir, f));
}

export interface BackupResult {
  path: string;
  bytes: number;
  pages: number;
}

/**
 * Copies the open database `db` to `dest` (through `dest.partial`, renamed when complete and synced, so a
 * crash never leaves a half file under the final name). `pagesPerStep`: pages copied per step; between steps
 * the event loop runs (the server's own writes on the same connection go into the copy as it proceeds). From
 * another process, a write between steps restarts the copy, so there one step copies everything.
 */
export async function backupDatabase(
  db: Database.Database,
  dest: string,
  pagesPerStep = 256,
): Promise<BackupResult> {
  mkdirSync(dirname(dest), { recursive: true });
  const partial = `${dest}.partial`;
  rmSync(partial, { force: true });
  try {
    const r = await db.backup(partial, { progress: () => pagesPerStep });
    syncFile(partial);
    renameSync(partial, dest);
    syncFile(dirname(dest));
    return { path: dest, bytes: statSync(dest).size, pages: r.totalPages };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

/**
 * `hark backup`: a copy of `DATA/hark.db` to `out` (default `DATA/backups/<backupName>`), taken through a
 * read-only connection, so it works while a server runs on the directory (WAL readers never block it).
 */
export async function backupDataDir(dataDir: string, out?: string, now = Date.now()): Promise<BackupResult> {
  const file = join(dataDir, DATABASE_FILE);
  if (!existsSync(file))
    throw new Error(
      `no database to back up: ${file} does not exist (is --data the server's data directory?)`,
    );
  const dest = resolve(out ?? join(dataDir, BACKUP_DIR, backupName(now)));
  if (existsSync(dest)) throw new Error(`${dest} exists already: give another --out`);
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    // One step of every page: the copy holds one read transaction, so the server's writes cannot restart it.
    return await backupDatabase(db, dest, 0x7fffffff);
  } finally {
    db.close();
  }
}

export interface DatabaseCheck {
  schemaVersion: number;
  alerts: number;
  tokens: number;
}

/**
 * Opens `file` read-only and checks that it is a whole hark database this server can open: SQLite's
 * `integrity_check`, a schema version, and not newer than this server. Throws naming the file and the fault.
 */
export function checkDatabaseFile(file: string): DatabaseCheck {
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new Error(`${file} cannot be opened as a database: ${(err as Error).message}`);
  }
  try {
    let problems: string[];
    try {
      problems = (db.pragma('integrity_check') as { integrity_check: string }[]).map(
        (r) => r.integrity_check,
      );
    } catch (err) {
      throw new Error(`${file} is not a sound SQLite database: ${(err as Error).message}`);
    }
    if (problems.join() !== 'ok')
      throw new Error(`${file} fails SQLite's integrity check: ${problems.slice(0, 3).join('; ')}`);
    const hasVersion = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
      .get();
    if (!hasVersion)
      throw new Error(`${file} is an SQLite database but not hark's (no schema_version table)`);
    const schemaVersion =
      (db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0;
    if (schemaVersion > MIGRATIONS.length)
      throw new Error(
        `${file} is at schema version ${schemaVersion} but this hark knows only ${MIGRATIONS.length}: restore it with a newer hark`,
      );
    const count = (table: string) =>
      (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    return {
      schemaVersion,
      alerts: tables.has('alerts') ? count('alerts') : 0,
      tokens: tables.has('tokens') ? count('tokens') : 0,
    };
  } finally {
    db.close();
  }
}

export interface RestoreResult extends DatabaseCheck {
  /** Where the database that was replaced now is (null when the directory had none). */
  previous: string | null;
}

/**
 * `hark restore`: replaces `DATA/hark.db` with the backup `file`. Refuses while a server holds the data
 * directory's lock (and holds it meanwhile, so none starts), and checks the backup before touching anything.
 * The replaced database (with its `-wal` and `-shm`, which belong to it and must not be replayed into the
 * restored one) is kept beside it as `hark.db.before-restore-<time>`.
 */
export function restoreDatabase(dataDir: string, file: string, now = Date.now()): RestoreResult {
  const source = resolve(file);
  let lock;
  try {
    lock = lockDataDir(dataDir, now);
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    const who = err.holder ? `hark pid ${err.holder.pid} on host ${err.holder.host}` : 'another process';
    throw new Error(
      `a server is running on ${dataDir} (${who}): stop it first, then restore (nothing was changed)`,
    );
  }
  try {
    const check = checkDatabaseFile(source);
    const target = join(dataDir, DATABASE_FILE);
    const incoming = `${target}.restoring`;
    copyFileSync(source, incoming);
    syncFile(incoming);
    let previous: string | null = null;
    if (existsSync(target)) {
      previous = `${target}.before-restore-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
      for (const suffix of ['-wal', '-shm'])
        if (existsSync(target + suffix)) renameSync(target + suffix, previous + suffix);
      renameSync(target, previous);
    }
    renameSync(incoming, target);
    syncFile(dataDir);
    return { ...check, previous };
  } finally {
    lock.release();
  }
}

export interface BackupScheduleOptions {
  /** The SQLite connection; null (PostgreSQL) takes no backups. */
  db: Database.Database | null;
  dataDir: string;
  /** Between backups, ms (0: none). */
  intervalMs: number;
  /** Backups kept; older ones are deleted after each new one. */
  keep: number;
  log: (line: string) => void;
  onError?: (err: unknown) => void;
  now?: () => number;
}

/**
 * The server's rolling backups: one every `intervalMs` into `DATA/backups/`, the newest `keep` kept. The first
 * is due one interval after the newest backup found at start (so restarts do not postpone backups forever),
 * or, when there is none, after ten minutes or the interval, whichever is shorter. A failed backup (a full
 * disk) is logged and counted, and tried again at the next interval.
 */
export class BackupSchedule {
  readonly #o: BackupScheduleOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<BackupResult | null> | null = null;
  #stopped = false;

  constructor(o: BackupScheduleOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  start(): void {
    if (this.#o.intervalMs <= 0 || !this.#o.db) return;
    const newest = listBackups(this.#o.dataDir)[0];
    const first = newest
      ? Math.max(60_000, statSync(newest).mtimeMs + this.#o.intervalMs - this.#now())
      : Math.min(10 * 60_000, this.#o.intervalMs);
    this.#arm(first);
  }

  #arm(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.run().finally(() => this.#arm(this.#o.intervalMs));
    }, ms);
    this.#timer.unref();
  }

  /** Takes a backup now and prunes old ones; null when it failed (logged) or the schedule is stopped. */
  run(): Promise<BackupResult | null> {
    if (this.#stopped) return Promise.resolve(null);
    this.#running ??= (async () => {
      const dir = join(this.#o.dataDir, BACKUP_DIR);
      try {
        if (!this.#o.db)
          throw new Error(
            'backups are of SQLite (DATA/hark.db); this store is PostgreSQL: back it up with pg_dump',
          );
        const r = await backupDatabase(this.#o.db, join(dir, backupName(this.#now())));
        for (const old of listBackups(this.#o.dataDir).slice(this.#o.keep)) rmSync(old, { force: true });
        this.#o.log(`backup: ${r.path} (${(r.bytes / 1e6).toFixed(1)} MB)`);
        return r;
      } catch (err) {
        this.#o.onError?.(err);
        this.#o.log(`BACKUP FAILED: ${dir}: ${(err as Error).message}; trying again in the next interval`);
        return null;
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  /** No more backups; waits for one in progress (the database must stay open until it ends). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
