import { existsSync, readlinkSync, symlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../src/data-lock.js';
import { tempDir } from '../../../test/support/temp.js';

const dir = () => tempDir('lock');

describe('the data directory lock', () => {
  it('is taken once, names its holder to the next taker, and is released', () => {
    const d = dir();
    const lock = lockDataDir(d, 1_700_000_000_000);
    expect(readlinkSync(join(d, LOCK_FILE))).toBe(`${hostname()}:${process.pid}:1700000000000`);
    expect(() => lockDataDir(d)).toThrow(DataDirLockedError);
    expect(() => lockDataDir(d)).toThrow(
      `the data directory ${d} is in use by hark pid ${process.pid} on host ${hostname()} ` +
        `(since 2023-11-14T22:13:20.000Z): stop that server, or give this one another --data`,
    );
    lock.release();
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
    lockDataDir(d).release();
  });

  it('takes over a lock whose holder on this host is gone, and says whose it was', () => {
    const d = dir();
    // A pid above the kernel's pid_max (4194304 at most) cannot be running.
    symlinkSync(`${hostname()}:99999999:5`, join(d, LOCK_FILE));
    const lock = lockDataDir(d);
    expect(lock.replaced).toEqual({ host: hostname(), pid: 99999999, since: 5 });
    lock.release();
  });

  it('never takes over the lock of another host, or one that names no holder', () => {
    const d = dir();
    symlinkSync('other-box:99999999:5', join(d, LOCK_FILE));
    expect(() => lockDataDir(d)).toThrow(/in use by hark pid 99999999 on host other-box/);
    const e = dir();
    symlinkSync('garbage', join(e, LOCK_FILE));
    expect(() => lockDataDir(e)).toThrow(/in use by another process \(its lock names no holder\)/);
  });
});
