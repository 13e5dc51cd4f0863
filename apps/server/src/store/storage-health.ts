/**
 * Whether the data directory takes writes. No storage error ends the process: every write made on the data
 * path goes through {@link StorageHealth.attempt} (or reports to `failed` / `succeeded`), which logs, counts
 * and remembers failures; `/api/health` reports `degraded` while they last. While degraded, a probe write and
 * every registered retry (queued alert writes, unsaved sensor registrations) run each `retryMs`, so writes
 * resume by themselves once space returns; the outage ends when all of them succeed.
 */
import type { StorageHealthReport } from '@hark/protocol';

export interface StorageHealthOptions {
  /** The store's engine, for the report (default SQLite). */
  engine?: 'sqlite' | 'postgres';
  /** Start-up and outage lines. */
  log?: (line: string) => void;
  /** Each failed write, by what was written (`alert`, `token`, `sensor`, `scores`, `clip`, ...): a metric. */
  onError?: (op: string) => void;
  /** Writes began failing (false) or succeed again (true): `hark_store_up`. */
  onChange?: (writable: boolean) => void;
  /** Time between retries while writes fail, ms (default 1000). */
  retryMs?: number;
  now?: () => number;
}

/** A write retried while degraded: resolves to how many writes still wait; rejects when the store still fails. */
export type StorageRetry = () => number | Promise<number>;

/**
 * Errors that say the storage (not the request) is at fault: SQLite's and the file system's (a full disk, an
 * I/O error, a lock), PostgreSQL's SQLSTATE classes 08 (connection), 53 (insufficient resources: disk full,
 * out of memory, too many connections), 57P (shut down, cannot connect now) and 58 (system / I/O error), and
 * the socket errors of a database server that cannot be reached.
 */
const STORAGE_CODES =
  /^(SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|PROTOCOL)|ENOSPC|EDQUOT|EIO|EROFS|08...$|53...$|57P0.$|58...$|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH)/;

/**
 * The pg client's errors for a connection that ended under it, or that never came or never answered
 * (`connectionTimeoutMillis`, `query_timeout`), carry no code; their messages say so.
 */
const LOST_CONNECTION =
  /^Connection terminated|^Client has encountered a connection error|^Client was closed and is not queryable|timeout exceeded when trying to connect|^timeout expired|^Query read timeout/;

/** Of those, the codes of a database server that cannot be reached (rather than of a disk that refuses writes). */
const UNREACHABLE_CODES = /^(08...|57P0.|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH)$/;

/** True for an error of the storage itself (a full disk, an I/O error, a lock, a lost database), not of the request. */
export function isStorageFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return STORAGE_CODES.test(code);
  return err instanceof Error && LOST_CONNECTION.test(err.message);
}

/** True for a storage failure that says the database server cannot be reached (down, restarting, no answer). */
export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return UNREACHABLE_CODES.test(code);
  return err instanceof Error && LOST_CONNECTION.test(err.message);
}

export class StorageHealth {
  readonly #log: (line: string) => void;
  readonly #onError: (op: string) => void;
  readonly #onChange: (writable: boolean) => void;
  readonly #retryMs: number;
  readonly #engine: 'sqlite' | 'postgres';
  readonly #now: () => number;
  readonly #retries = new Map<string, StorageRetry>();
  readonly #waiting = new Map<string, number>();
  #failingSince: number | null = null;
  #lastError: string | null = null;
  /** The last failure said the database cannot be reached (rather than that the disk refuses writes). */
  #unreachable = false;
  readonly #failedOps = new Set<string>();
  #readOnly: string | null = null;
  #errors = 0;
  #timer: NodeJS.Timeout | null = null;
  #round: Promise<void> | null = null;
  #closed = false;

  constructor(options: StorageHealthOptions = {}) {
    this.#log = options.log ?? (() => {});
    this.#onError = options.onError ?? (() => {});
    this.#onChange = options.onChange ?? (() => {});
    this.#retryMs = options.retryMs ?? 1000;
    this.#engine = options.engine ?? 'sqlite';
    this.#now = options.now ?? Date.now;
    if (!(this.#retryMs >= 1)) throw new RangeError(`retryMs (${this.#retryMs}) must be >= 1 ms`);
  }

  /**
   * Registers a retry run each `retryMs` while degraded (`name` also names its waiting writes in the
   * report). The probe (`name` 'probe') is a small write that proves the disk takes writes again.
   */
  addRetry(name: string, retry: StorageRetry): void {
    this.#retries.set(name, retry);
  }

  /** The database was opened read-only because writes failed at start (`reason`: the error). */
  startedReadOnly(reason: string): void {
    this.#readOnly = reason;
    if (this.#failingSince === null) this.#onChange(false);
    this.#failingSince ??= this.#now();
    this.#lastError = reason;
    this.#schedule();
  }

  /**
   * Runs a best-effort write: a failure is logged, counted and remembered, never thrown. A success ends no
   * outage (a statement that changed nothing wrote nothing): only the probe and the retries do.
   */
  async attempt<T>(op: string, write: () => T | Promise<T>): Promise<T | undefined> {
    try {
      return await write();
    } catch (err) {
      this.failed(op, err);
      return undefined;
    }
  }

  /** A write of `op` failed: counted (`onError`), logged loudly once per op and outage, retried later. */
  failed(op: string, err: unknown): void {
    this.#errors++;
    this.#onError(op);
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown } | null)?.code;
    this.#lastError = `${op}: ${typeof code === 'string' ? `${code} ` : ''}${message}`;
    this.#unreachable = isUnreachable(err);
    if (this.#failingSince === null) {
      this.#failingSince = this.#now();
      this.#onChange(false);
    }
    if (!this.#failedOps.has(op)) {
      this.#failedOps.add(op);
      this.#log(
        `STORAGE ERROR: ${op} write failed (${this.#lastError}); the server keeps running, ` +
          `retries every ${this.#retryMs} ms and reports degraded on /api/health until writes succeed`,
      );
    }
    this.#schedule();
  }

  /** The probe and every retry succeeded: an outage (or a read-only start) ends once nothing waits. */
  #succeeded(): void {
    if (this.#failingSince === null) return;
    if (this.waiting > 0) return;
    const seconds = ((this.#now() - this.#failingSince) / 1000).toFixed(1);
    this.#log(
      `storage: writes resumed after ${seconds} s` +
        `${this.#readOnly ? ' (the server had started read-only)' : ''}; ${this.#errors} failed writes in all`,
    );
    this.#failingSince = null;
    this.#readOnly = null;
    this.#unreachable = false;
    this.#failedOps.clear();
    this.#onChange(true);
  }

  /** `name`'s queue holds `n` writes waiting (the queue reports it whenever it changes). */
  setWaiting(name: string, n: number): void {
    if (n > 0) {
      this.#waiting.set(name, n);
      this.#schedule();
    } else this.#waiting.delete(name);
  }

  /** Writes waiting in retry queues (as their retries last reported). */
  get waiting(): number {
    let n = 0;
    for (const v of this.#waiting.values()) n += v;
    return n;
  }

  get degraded(): boolean {
    return this.#failingSince !== null || this.waiting > 0;
  }

  report(): StorageHealthReport {
    return {
      engine: this.#engine,
      writable: this.#failingSince === null,
      reason:
        this.#failingSince === null
          ? this.waiting > 0
            ? 'writes wait'
            : null
          : this.#unreachable
            ? 'storage unreachable'
            : 'storage refuses writes',
      readOnly: this.#readOnly !== null,
      failingSince: this.#failingSince,
      lastError: this.#lastError,
      errors: this.#errors,
      waitingWrites: Object.fromEntries(this.#waiting),
    };
  }

  /**
   * Runs the probe and every retry once, in order (the timer does this while degraded; tests call it). Calls
   * made while a round runs share that round.
   */
  retryNow(): Promise<void> {
    this.#round ??= (async () => {
      let failed = false;
      for (const [name, retry] of this.#retries) {
        if (failed) break;
        try {
          this.setWaiting(name, await retry());
        } catch (err) {
          failed = true;
          this.failed(name, err);
        }
      }
      if (!failed) this.#succeeded();
    })().finally(() => (this.#round = null));
    return this.#round;
  }

  /** Stops retrying (the store closes). */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.retryNow().then(() => {
        this.#timer = null;
        if (this.degraded) this.#schedule();
      });
    }, this.#retryMs);
    this.#timer.unref();
  }
}
