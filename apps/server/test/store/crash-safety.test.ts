/**
 * An operator's action must survive `kill -9` right after the call returns. The child process runs the real
 * store code (these TypeScript sources, compiled with swc into a temp dir) with the real pragmas, acts, and
 * SIGKILLs itself in the same tick: no close, no checkpoint, no exit handlers.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFileSync } from '@swc/core';
import { describe, expect, it } from 'vitest';
import { HarkStore } from '../../src/store/index.js';
import { tempDir } from './helpers.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../../src');
const PROTOCOL = join(SRC, '../../../libs/protocol/src');

/**
 * Compiles `src/store/*.ts` (with `src/data-lock.ts`, which it imports) and the protocol library's sources (`@hark/protocol`, imported by the store) to ES
 * modules under `out`, with node_modules reachable.
 */
function buildStore(out: string): void {
  const files = [
    ...readdirSync(PROTOCOL).map((f) => ({ from: join(PROTOCOL, f), to: `protocol/${f}` })),
    ...readdirSync(join(SRC, 'store')).map((f) => ({ from: join(SRC, 'store', f), to: `store/${f}` })),
    // `hark restore` (store/backup.ts) takes the data directory's lock.
    { from: join(SRC, 'data-lock.ts'), to: 'data-lock.ts' },
  ];
  for (const file of files.filter((f) => f.to.endsWith('.ts'))) {
    const { code } = transformFileSync(file.from, {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
      sourceMaps: false,
    });
    const target = join(out, 'src', file.to.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, code.replaceAll("'@hark/protocol'", "'../protocol/index.js'"));
  }
  writeFileSync(join(out, 'package.json'), '{"type": "module"}');
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  symlinkSync(
    sqlite.slice(0, sqlite.lastIndexOf('node_modules') + 'node_modules'.length),
    join(out, 'node_modules'),
  );
}

const CHILD = `
import { writeSync } from 'node:fs';
import { HarkStore } from './src/store/index.js';
const [dataDir, alertId, tokenId] = process.argv.slice(2);
const store = new HarkStore(dataDir);
const db = store.database.sqlite;
const pragmas = {
  journal: db.pragma('journal_mode', { simple: true }),
  synchronous: db.pragma('synchronous', { simple: true }),
  foreignKeys: db.pragma('foreign_keys', { simple: true }),
};
void store.scores.append('pump-1', 5000, 1.5); // buffered, never flushed: must be lost
await store.alerts.acknowledge(Number(alertId), 'ana', 1000);
await store.alerts.annotate(Number(alertId), { label: 'true fault', text: 'bearing noise', author: 'ana', at: 1001 });
await store.sensors.snooze('pump-1', 99_000);
await store.tokens.revoke(Number(tokenId), 1002);
writeSync(1, JSON.stringify(pragmas));
process.kill(process.pid, 'SIGKILL');
`;

describe('crash safety', () => {
  it("keeps an operator's acknowledgement, note, snooze and revocation after kill -9", async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const build = join(dir, 'build');
    buildStore(build);
    writeFileSync(join(build, 'child.mjs'), CHILD);

    const setup = new HarkStore(dataDir);
    const alert = await setup.alerts.open({
      sensorId: 'pump-1',
      kind: 'anomaly',
      start: 500,
      peakScore: 2,
      peakAt: 600,
      threshold: 1,
    });
    const token = await setup.tokens.insert({ name: 'x', role: 'operator', hash: 'h', createdAt: 1 });
    await setup.close();

    const child = spawnSync(
      process.execPath,
      [join(build, 'child.mjs'), dataDir, String(alert.id), String(token.id)],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(child.stderr).toBe('');
    expect(child.signal).toBe('SIGKILL');
    expect(JSON.parse(child.stdout)).toEqual({ journal: 'wal', synchronous: 2, foreignKeys: 1 });
    // The child never checkpointed: its commits are only in the WAL, which the next open recovers.
    expect(existsSync(join(dataDir, 'hark.db-wal'))).toBe(true);

    const after = new HarkStore(dataDir);
    try {
      expect(await after.alerts.require(alert.id)).toMatchObject({
        state: 'acknowledged',
        acknowledgedBy: 'ana',
        acknowledgedAt: 1000,
        annotations: [{ label: 'true fault', text: 'bearing noise', author: 'ana', at: 1001 }],
      });
      expect((await after.sensors.require('pump-1')).snoozedUntil).toBe(99_000);
      expect((await after.tokens.require(token.id)).revokedAt).toBe(1002);
      expect(await after.scores.range('pump-1')).toEqual([]); // the kill really was abrupt
    } finally {
      await after.close();
    }
  });
});
