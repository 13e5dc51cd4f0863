/**
 * The rolling backup on a full disk (L7 with H1, issue 18): the real server runs on a small tmpfs; one backup
 * is taken while there is room; the disk is filled to the last byte; the next backup (the schedule's own
 * `run`, which `--backup-interval` calls) fails without a crash: logged as `BACKUP FAILED` naming the folder,
 * counted in `hark_storage_errors_total{op="backup"}`, no half file left, the older backup kept. Once space is
 * freed the next backup succeeds by itself and the older ones are pruned to `--backup-keep` as usual.
 *
 * Mounting a tmpfs needs root: without it the test is skipped, visibly.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { listBackups } from '@hark/server';
import { sleep, startServer, type TestServer } from '../support/server.js';
import { smallDisk } from '../support/tmpfs.js';

/** Room for the server's files and one backup of its small database, and quick to fill. */
const DISK = '12m';
const disk = smallDisk('full-disk-backup', DISK, 'full-disk backup test');
const { mounted, dataDir } = disk;

async function backupErrors(s: TestServer): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  return Number(/^hark_storage_errors_total\{op="backup"\} (\S+)$/m.exec(text)?.[1] ?? 0);
}

describe.skipIf(!mounted)('the rolling backup on a full disk', () => {
  let s: TestServer | null = null;
  const fatal: unknown[] = [];
  const onFatal = (err: unknown) => fatal.push(err);

  afterAll(async () => {
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
    await s?.close();
    disk.unmount();
  });

  test('fails without a crash, is logged and counted, keeps the older backup, and resumes when space returns', async () => {
    process.on('uncaughtException', onFatal);
    process.on('unhandledRejection', onFatal);
    mkdirSync(dataDir);
    s = await startServer({ dataDir, backupKeep: 2 });
    const first = await s.server.backup();
    expect(first?.path).toBe(listBackups(dataDir)[0]);
    const firstBytes = statSync(first!.path).size;

    disk.fill();
    await sleep(10); // a new backup name (they are stamped to the millisecond)
    expect(await s.server.backup()).toBeNull();
    expect(s.logs.join('\n')).toMatch(
      new RegExp(
        `BACKUP FAILED: ${join(dataDir, 'backups')}: .*(full|SQLITE_FULL|ENOSPC).*; trying again in the next interval`,
      ),
    );
    expect(await backupErrors(s)).toBe(1);
    // The older backup is whole and still there; no half file is left behind.
    expect(listBackups(dataDir)).toEqual([first!.path]);
    expect(statSync(first!.path).size).toBe(firstBytes);
    expect(readdirSync(join(dataDir, 'backups')).filter((f) => f.endsWith('.partial'))).toEqual([]);
    // The server itself is up.
    expect((await fetch(`${s.url}/api/health`)).status).toBe(200);

    disk.free();
    await sleep(10);
    const second = await s.server.backup();
    expect(second).not.toBeNull();
    await sleep(10);
    const third = await s.server.backup();
    // Pruned to --backup-keep 2: the newest two, the first one gone.
    expect(listBackups(dataDir)).toEqual([third!.path, second!.path]);
    expect(await backupErrors(s)).toBe(1);
    expect(fatal).toEqual([]);
  });
});
