/**
 * One server per data directory: `DATA/hark.lock` is taken before anything else at start and released at
 * close. The lock is a symbolic link whose target names the holder (`<host>:<pid>:<started ms>`): creating a
 * link is atomic, and a short target needs no data block, so the lock works on a full disk too (where the
 * server starts read-only). A lock left by a process that is gone (same host, no such pid) is taken over.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readlinkSync, symlinkSync, unlinkSync } from 'node:fs';

export const LOCK_FILE = 'hark.lock';

/** Who holds a data directory's lock. */
export interface LockHolder {
  host: string;
  pid: number;
  since: number;
}

/** The data directory is locked by another server. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder | null,
  ) {
    const who = holder
      ? `hark pid ${holder.pid} on host ${holder.host} (since ${new Date(holder.since).toISOString()})`
      : 'another process (its lock names no holder)';
    super(
      `the data directory ${dataDir} is in use by ${who}: stop that server, or give this one another --data ` +
        `(lock: ${join(dataDir, LOCK_FILE)})`,
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  readonly path: string;
  /** The stale lock this one replaced (its holder had gone), if any. */
  readonly replaced: LockHolder | null;
  release(): void;
}

/** Takes `dataDir`'s lock, or throws {@link DataDirLockedError} naming its holder. */
export function lockDataDir(dataDir: string, now = Date.now()): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  const me = `${hostname()}:${process.pid}:${now}`;
  let replaced: LockHolder | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      symlinkSync(me, path);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const holder = readHolder(path);
    if (!holder || holder.host !== hostname() || isAlive(holder.pid))
      throw new DataDirLockedError(dataDir, holder);
    replaced = holder;
    unlinkSync(path);
  }
  let released = false;
  return {
    path,
    replaced,
    release: () => {
      if (released) return;
      released = true;
      // Only our own lock: a lock taken over meanwhile (this process was thought gone) stays.
      if (readTarget(path) === me) unlinkSync(path);
    },
  };
}

function readTarget(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

function readHolder(path: string): LockHolder | null {
  const m = /^(.*):(\d+):(\d+)$/.exec(readTarget(path) ?? '');
  return m ? { host: m[1], pid: Number(m[2]), since: Number(m[3]) } : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
