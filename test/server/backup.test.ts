/**
 * A damaged database, and the way back (L7, issue 18), with the real server, the real `hark` command and real
 * SQLite files: a corrupt `hark.db` stops the start with a message naming the file and the backup to restore;
 * `hark backup` copies the database while the server runs; `hark restore` refuses while a server runs and
 * refuses a bad backup, and a backup restored keeps the alerts and tokens it had.
 */
import { execFile } from 'node:child_process';
import { existsSync, openSync, readdirSync, statSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { createServer, listBackups } from '@hark/server';
import { HARK_BIN, apiCall, startServer, tempDir, type TestServer } from '../support/server.js';

const open: TestServer[] = [];
afterAll(async () => {
  for (const s of open) await s.close();
});

async function hark(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [HARK_BIN, ...args], {
      timeout: 60_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Overwrites `bytes` bytes at `offset` with a pattern no SQLite page or header has. */
function damage(file: string, offset: number, bytes: number): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(bytes, 0xa5), 0, bytes, offset);
  } finally {
    closeSync(fd);
  }
}

function addAlerts(s: TestServer, n: number, sensorId = 'pump-1'): number[] {
  // Straight into the file in one transaction (one fsync, not two per alert): the backup copies rows, it
  // does not care how they came. Ended alerts, as the alert repository leaves them.
  const db = s.server.store.database.sqlite;
  const sensor = db.prepare(
    'INSERT INTO sensors (id, name, first_seen, last_seen) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
  );
  const alert = db.prepare(
    `INSERT INTO alerts (sensor_id, kind, start_at, end_at, peak_score, peak_at, threshold, active, closed_at)
     VALUES (?, 'anomaly', ?, ?, 2, ?, 1, 0, ?) RETURNING id`,
  );
  const occurrence = db.prepare(
    `INSERT INTO alert_occurrences (alert_id, start_at, end_at, peak_score, peak_at, opened_at)
     VALUES (?, ?, ?, 2, ?, ?)`,
  );
  return db.transaction(() => {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = Date.parse('2026-12-01T00:00:00Z') + i * 60_000;
      sensor.run(sensorId, sensorId, t, t);
      const { id } = alert.get(sensorId, t, t + 5000, t, Date.now()) as { id: number };
      occurrence.run(id, t, t + 5000, t, t);
      ids.push(id);
    }
    return ids;
  })();
}

const startFails = (dataDir: string) => createServer({ port: 0, dataDir, log: () => {} });

describe('a corrupt hark.db', () => {
  test.each([
    ['its header overwritten', (_size: number) => [0, 100] as const, /SQLITE_NOTADB/],
    [
      'a page in the middle overwritten',
      (size: number) => [Math.floor(size / 8192) * 4096, 4096] as const,
      /SQLITE_CORRUPT/,
    ],
  ])(
    'with %s stops the start, naming the file, the newest backup and what to do',
    async (_what, where, code) => {
      const s = await startServer();
      const dataDir = s.server.config.dataDir;
      addAlerts(s, 3000);
      const backup = await s.server.backup();
      expect(backup?.path).toBe(listBackups(dataDir)[0]);
      await s.close();
      const file = join(dataDir, 'hark.db');
      const [offset, bytes] = where(statSync(file).size);
      damage(file, offset, bytes);
      const err = (await startFails(dataDir).then(
        () => null,
        (e: unknown) => e,
      )) as Error & { code?: string };
      expect(err?.code).toBe('ERR_HARK_CORRUPT_DATABASE');
      expect(err.message).toContain(`the database ${file} is damaged`);
      expect(err.message).toMatch(code);
      expect(err.message).toContain(`hark restore --data ${dataDir} ${backup!.path}`);
      expect(err.message).toContain(`or move ${file} aside`);
      // The failed start released the lock: the next one says the same, not "in use".
      await expect(startFails(dataDir)).rejects.toThrow(/is damaged/);
      // And it is the way back.
      const r = await hark('restore', '--data', dataDir, backup!.path);
      expect(r.out).toMatch(/integrity check ok/);
      const again = await startServer({ dataDir }, s.admin);
      open.push(again);
      expect((await again.api<{ total: number }>('/api/alerts?limit=1')).total).toBe(3000);
    },
    120_000,
  );

  test('`hark serve` on it exits 1 with one line naming the file and the backup to restore', async () => {
    const s = await startServer();
    const dataDir = s.server.config.dataDir;
    const backup = await s.server.backup();
    await s.close();
    damage(join(dataDir, 'hark.db'), 0, 100);
    const r = await hark('serve', '--data', dataDir, '--port', '0');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`hark: the database ${join(dataDir, 'hark.db')} is damaged`);
    expect(r.out).toContain(`hark restore --data ${dataDir} ${backup!.path}`);
    // One clear line, no stack (HARK_DEBUG=1 adds it).
    expect(r.out).not.toMatch(/\n\s+at /);
  }, 120_000);

  test('without a backup, the message says to restore one kept elsewhere or start empty', async () => {
    const s = await startServer({ backupIntervalMinutes: 0 });
    const dataDir = s.server.config.dataDir;
    await s.close();
    damage(join(dataDir, 'hark.db'), 0, 100);
    await expect(startFails(dataDir)).rejects.toThrow(
      new RegExp(
        `no backup is in ${dataDir}/backups: restore one kept elsewhere with \`hark restore --data ${dataDir} FILE\``,
      ),
    );
  });
});

describe('backup and restore', () => {
  test('hark backup while the server runs, hark restore after it stops: alerts and tokens as they were', async () => {
    const s = await startServer();
    const dataDir = s.server.config.dataDir;
    const ids = addAlerts(s, 50);
    await s.api(`/api/alerts/${ids[7]}/ack`, { method: 'POST', body: '{}' });
    const operator = await s.token('operator', 'before the backup');

    // Online: the server keeps writing while the copy is taken.
    const writing = setInterval(() => addAlerts(s, 1, 'pump-2'), 5);
    const out = join(tempDir('backup'), 'copy.db');
    const b = await hark('backup', '--data', dataDir, '--out', out);
    clearInterval(writing);
    expect(b.code, b.out).toBe(0);
    expect(b.out).toContain(`to ${out}`);
    const atBackup = (await s.api<{ total: number }>('/api/alerts?limit=1')).total;

    // Changes after the backup, which a restore undoes.
    const later = await s.token('operator', 'after the backup');
    addAlerts(s, 5, 'pump-3');

    // Refused while the server runs: nothing changes.
    const before = statSync(join(dataDir, 'hark.db')).mtimeMs;
    const refused = await hark('restore', '--data', dataDir, out);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(
      new RegExp(`a server is running on ${dataDir} \\(hark pid ${process.pid} .*stop it first`),
    );
    expect(statSync(join(dataDir, 'hark.db')).mtimeMs).toBe(before);
    await s.close();

    const r = await hark('restore', '--data', dataDir, out);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/integrity check ok, schema version \d+, \d+ alerts, 2 tokens/);
    const kept = readdirSync(dataDir).filter((f) => f.startsWith('hark.db.before-restore-'));
    expect(kept.length).toBeGreaterThanOrEqual(1);

    const again = await startServer({ dataDir }, s.admin);
    open.push(again);
    const page = await again.api<{ total: number; items: { id: number; acknowledgedBy: string | null }[] }>(
      '/api/alerts?limit=200&sensorId=pump-1',
    );
    expect(page.total).toBe(50);
    expect(page.items.find((a) => a.id === ids[7])?.acknowledgedBy).not.toBeNull();
    // The copy is a snapshot within the writes that ran during it.
    const all = (await again.api<{ total: number }>('/api/alerts?limit=1')).total;
    expect(all).toBeGreaterThanOrEqual(50);
    expect(all).toBeLessThanOrEqual(atBackup);
    expect((await again.api<{ total: number }>('/api/alerts?limit=1&sensorId=pump-3')).total).toBe(0);
    // Tokens: the one made before the backup works, the one made after does not.
    await expect(apiCall(again.url, operator, '/api/alerts?limit=1')).resolves.toBeTruthy();
    await expect(apiCall(again.url, later, '/api/alerts?limit=1')).rejects.toMatchObject({ status: 401 });
  }, 120_000);

  test('a backup that fails the integrity check, or is no hark database, is refused and nothing changes', async () => {
    const s = await startServer();
    const dataDir = s.server.config.dataDir;
    addAlerts(s, 2000);
    const good = (await s.server.backup())!.path;
    await s.close();
    const size = statSync(good).size;
    const bad = join(tempDir('bad'), 'bad.db');
    writeFileSync(bad, Buffer.alloc(0));
    const { copyFileSync } = await import('node:fs');
    copyFileSync(good, bad);
    damage(bad, Math.floor(size / 8192) * 4096, 4096);
    const notHark = join(tempDir('bad'), 'other.db');
    writeFileSync(notHark, 'just text');
    const dbBefore = statSync(join(dataDir, 'hark.db')).mtimeMs;
    for (const [file, msg] of [
      [bad, /fails SQLite's integrity check|is not a sound SQLite database/],
      [notHark, /cannot be opened as a database|is not a sound SQLite database/],
      [join(dataDir, 'nope.db'), /does not exist/],
    ] as const) {
      const r = await hark('restore', '--data', dataDir, file);
      expect(r.code).toBe(1);
      expect(r.out).toContain(file);
      expect(r.out).toMatch(msg);
    }
    expect(statSync(join(dataDir, 'hark.db')).mtimeMs).toBe(dbBefore);
    expect(readdirSync(dataDir).filter((f) => f.includes('restor'))).toEqual([]);
  }, 120_000);

  test('the rolling backups keep the newest --backup-keep', async () => {
    const s = await startServer({ backupKeep: 2 });
    open.push(s);
    const made: string[] = [];
    for (let i = 0; i < 4; i++) {
      made.push((await s.server.backup())!.path);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(listBackups(s.server.config.dataDir)).toEqual([made[3], made[2]]);
    expect(existsSync(made[0])).toBe(false);
    expect(s.logs.filter((l) => l.startsWith('backup: '))).toHaveLength(4);
  });
});
