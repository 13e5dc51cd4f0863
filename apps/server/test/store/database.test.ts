import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HarkDatabase, MIGRATIONS } from '../../src/store/index.js';
import { tempDir } from './helpers.js';

describe('HarkDatabase', () => {
  it('opens DATA/hark.db in WAL with synchronous = FULL, foreign keys and a busy timeout', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const database = new HarkDatabase(dir, { busyTimeoutMs: 1234 });
    expect(database.path).toBe(join(dir, 'hark.db'));
    expect(existsSync(database.path)).toBe(true);
    const db = database.sqlite;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    await database.close();
    await database.close(); // idempotent
    expect(database.open).toBe(false);
  });

  it('migrates once to the latest version and records it', async () => {
    const dir = tempDir();
    const first = new HarkDatabase(dir);
    expect(await first.schemaVersion()).toBe(MIGRATIONS.length);
    const tables = first.sqlite
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
      .all()
      .map((r) => (r as { name: string }).name);
    expect(tables).toEqual(
      expect.arrayContaining([
        'alerts',
        'annotations',
        'feedback',
        'models',
        'schema_version',
        'scores',
        'sensors',
        'tokens',
        'webhook_outbox',
      ]),
    );
    await first.close();
    const again = new HarkDatabase(dir);
    expect(again.sqlite.prepare('SELECT COUNT(*) AS n FROM schema_version').get()).toEqual({
      n: MIGRATIONS.length,
    });
    await again.close();
  });

  it('applies only the new migrations of a longer list', async () => {
    const dir = tempDir();
    await new HarkDatabase(dir).close();
    const extra = { version: MIGRATIONS.length + 1, name: 'extra', sql: 'CREATE TABLE extra (x INTEGER)' };
    const database = new HarkDatabase(dir, { migrations: [...MIGRATIONS, extra] });
    expect(await database.schemaVersion()).toBe(MIGRATIONS.length + 1);
    await database.close();
  });

  it('refuses a file written by a newer schema and a misnumbered migration list', async () => {
    const dir = tempDir();
    const extra = { version: MIGRATIONS.length + 1, name: 'extra', sql: 'CREATE TABLE extra (x INTEGER)' };
    await new HarkDatabase(dir, { migrations: [...MIGRATIONS, extra] }).close();
    expect(() => new HarkDatabase(dir)).toThrow(
      new RegExp(
        `schema version ${MIGRATIONS.length + 1} but this server knows only ${MIGRATIONS.length}: .* newer hark`,
      ),
    );
    expect(() => new HarkDatabase(tempDir(), { migrations: [{ version: 3, name: 'x', sql: '' }] })).toThrow(
      "migration 'x' has version 3, expected 1",
    );
  });

  it('rolls back a failing migration as a whole', async () => {
    const dir = tempDir();
    const bad = { version: 1, name: 'bad', sql: 'CREATE TABLE a (x INTEGER); CREATE TABLE a (y INTEGER);' };
    expect(() => new HarkDatabase(dir, { migrations: [bad] })).toThrow(/already exists/);
    const database = new HarkDatabase(dir, { migrations: [] });
    expect(await database.schemaVersion()).toBe(0);
    expect(database.sqlite.prepare(`SELECT name FROM sqlite_master WHERE name = 'a'`).get()).toBeUndefined();
    await database.close();
  });

  it('rejects a bad busy timeout', () => {
    expect(() => new HarkDatabase(tempDir(), { busyTimeoutMs: -1 })).toThrow(
      'busyTimeoutMs (-1) must be an integer >= 0',
    );
  });
});
