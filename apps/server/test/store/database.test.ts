import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, sql, SqliteDriver } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import {
  CachedSqliteConnection,
  HarkDatabase,
  MIGRATIONS,
  SQLITE_STATEMENT_CACHE,
} from '../../src/store/index.js';
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

  it('prepares each SQL text once on SQLite, with the same results, in and out of transactions', async () => {
    const database = new HarkDatabase(tempDir());
    const prepare = vi.spyOn(database.sqlite, 'prepare');
    const count = () =>
      database.db
        .selectFrom('sensors')
        .select(sql<number>`count(*)`.as('n'))
        .executeTakeFirst();
    for (let i = 0; i < 20; i++) expect(await count()).toEqual({ n: 0 });
    const texts = (n: number) => prepare.mock.calls.filter((c) => c[0].includes('count(*)')).length === n;
    expect(texts(1)).toBe(true);
    // Writes report their changes; a transaction's begin and commit are kept too.
    for (let i = 0; i < 3; i++)
      await database.db.transaction().execute(async (tx) => {
        const r = await tx
          .insertInto('sensors')
          .values({ id: `s${i}`, name: `s${i}`, first_seen: i, last_seen: i })
          .executeTakeFirst();
        expect(r.numInsertedOrUpdatedRows).toBe(1n);
      });
    expect(await count()).toEqual({ n: 3 });
    expect(prepare.mock.calls.filter((c) => c[0] === 'begin').length).toBe(1);
    expect(prepare.mock.calls.filter((c) => c[0] === 'commit').length).toBe(1);
    // A failing statement throws as before and is not kept.
    await expect(sql`select * from no_such_table`.execute(database.db)).rejects.toThrow(/no such table/);
    await expect(sql`select * from no_such_table`.execute(database.db)).rejects.toThrow(/no such table/);
    // Streams still work (Kysely's own statement), beside the cached one of the same text.
    const rows: unknown[] = [];
    for await (const r of database.db.selectFrom('sensors').select('id').orderBy('id').stream()) rows.push(r);
    expect(rows).toEqual([{ id: 's0' }, { id: 's1' }, { id: 's2' }]);
    prepare.mockRestore();
    await database.close();
  });

  it('keeps at most SQLITE_STATEMENT_CACHE statements, dropping the least recently used', async () => {
    const db = new Database(':memory:');
    const driver = new SqliteDriver({ database: db });
    await driver.init();
    const conn = new CachedSqliteConnection(db, await driver.acquireConnection());
    const prepare = vi.spyOn(db, 'prepare');
    const q = (i: number) => CompiledQuery.raw(`select ${i} as v`);
    expect((await conn.executeQuery(q(0))).rows).toEqual([{ v: 0 }]);
    for (let i = 1; i <= SQLITE_STATEMENT_CACHE + 10; i++) {
      expect((await conn.executeQuery(q(i))).rows).toEqual([{ v: i }]);
      await conn.executeQuery(q(0)); // kept in use: never the least recently used
    }
    expect(conn.cachedStatements).toBe(SQLITE_STATEMENT_CACHE);
    const before = prepare.mock.calls.length;
    await conn.executeQuery(q(0)); // still held
    await conn.executeQuery(q(SQLITE_STATEMENT_CACHE + 10)); // the newest, held
    expect(prepare.mock.calls.length).toBe(before);
    await conn.executeQuery(q(1)); // among the oldest: dropped, prepared again
    expect(prepare.mock.calls.length).toBe(before + 1);
    const w = await conn.executeQuery(CompiledQuery.raw('create table t (x integer)'));
    expect(w.numAffectedRows).toBe(0n);
    const ins = await conn.executeQuery(CompiledQuery.raw('insert into t values (?), (?)', [5, 6]));
    expect(ins).toEqual({ numAffectedRows: 2n, insertId: 2n, rows: [] });
    await driver.destroy();
  });
});
