/**
 * Blobs on both engines (SQLite in a temporary directory, a real PostgreSQL 15 where installed): round trip
 * across chunk boundaries, writes idempotent by hash, damage in a chunk detected on read, the sweep keeping
 * what rows name, and the local cache filled on demand and checked on use.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BLOB_CHUNK_BYTES, BlobCache, sha256Hex } from '../../src/store/index.js';
import { storeEngines, tempDir } from './helpers.js';

const { engines: ENGINES, open } = storeEngines('blobs on PostgreSQL');

describe.each(ENGINES)('blobs on %s', (engine) => {
  it('round trip over chunk boundaries, idempotent by hash, empty blobs too', async () => {
    const store = await open(engine);
    try {
      for (const size of [0, 1, BLOB_CHUNK_BYTES, BLOB_CHUNK_BYTES + 1, 2 * BLOB_CHUNK_BYTES + 17]) {
        const bytes = randomBytes(size);
        const hash = await store.blobs.put(bytes);
        expect(hash).toBe(sha256Hex(bytes));
        const info = await store.blobs.info(hash);
        expect(info).toMatchObject({ size, chunks: Math.max(1, Math.ceil(size / BLOB_CHUNK_BYTES)) });
        expect((await store.blobs.get(hash)).equals(bytes)).toBe(true);
        // Written again: same name, nothing added.
        expect(await store.blobs.put(bytes)).toBe(hash);
      }
      const rows = await store.database.db
        .selectFrom('blob_chunks')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(rows.n)).toBe(1 + 1 + 1 + 2 + 3);
      expect((await store.blobs.totals()).blobs).toBe(5);
      await expect(store.blobs.get('0'.repeat(64))).rejects.toThrow(
        `blob ${'0'.repeat(64)} is not in the database`,
      );
      await expect(store.blobs.get('../etc')).rejects.toThrow(
        /must be a SHA-256 as 64 lower-case hex digits/,
      );
    } finally {
      await store.close();
    }
  });

  it('a damaged or missing chunk is detected on read, and a put of the same bytes repairs a missing one', async () => {
    const store = await open(engine);
    try {
      const bytes = randomBytes(BLOB_CHUNK_BYTES + 100);
      const hash = await store.blobs.put(bytes);
      const damaged = Buffer.from(bytes.subarray(BLOB_CHUNK_BYTES));
      damaged[3] ^= 0xff;
      await store.database.db
        .updateTable('blob_chunks')
        .set({ bytes: damaged })
        .where('sha256', '=', hash)
        .where('idx', '=', 1)
        .execute();
      await expect(store.blobs.get(hash)).rejects.toMatchObject({
        code: 'ERR_HARK_BLOB_CORRUPT',
        message: expect.stringMatching(
          new RegExp(`blob ${hash} is damaged in the database \\(its bytes hash to [0-9a-f]{64}\\)`),
        ),
      });
      await store.database.db
        .deleteFrom('blob_chunks')
        .where('sha256', '=', hash)
        .where('idx', '=', 1)
        .execute();
      await expect(store.blobs.get(hash)).rejects.toThrow(
        `blob ${hash} is damaged in the database (chunk 1 of 2 is missing)`,
      );
      await store.blobs.put(bytes);
      expect((await store.blobs.get(hash)).equals(bytes)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('the sweep deletes only blobs no row names; a named blob cannot be deleted', async () => {
    const store = await open(engine);
    try {
      const db = store.database.db;
      const alert = await store.alerts.open({
        sensorId: 'pump-1',
        kind: 'anomaly',
        start: 1000,
        peakScore: 2,
        peakAt: 1100,
        threshold: 1,
      });
      const named = randomBytes(100);
      const loose = randomBytes(100);
      const hash = await db.transaction().execute(async (trx) => {
        const h = await store.blobs.put(named, trx);
        await trx
          .insertInto('alert_media')
          .values({ alert_id: alert.id, name: 'clip.wav', sha256: h, size: 100 })
          .execute();
        return h;
      });
      const looseHash = await store.blobs.put(loose);
      expect(await store.blobs.sweep()).toEqual([looseHash]);
      expect(await store.blobs.has(hash)).toBe(true);
      await expect(db.deleteFrom('blobs').where('sha256', '=', hash).execute()).rejects.toThrow(
        /foreign key/i,
      );
      await db.deleteFrom('alert_media').where('alert_id', '=', alert.id).execute();
      expect(await store.blobs.sweep([hash])).toEqual([hash]);
      expect(await store.blobs.has(hash)).toBe(false);
      const chunks = await db.selectFrom('blob_chunks').select('sha256').execute();
      expect(chunks).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('the cache fills on demand, checks its copy on use and fetches a damaged one again', async () => {
    const store = await open(engine);
    const dataDir = tempDir();
    try {
      const bytes = randomBytes(BLOB_CHUNK_BYTES * 2 + 5);
      const hash = await store.blobs.put(bytes);
      const logs: string[] = [];
      const cache = new BlobCache(dataDir, store.blobs, (l) => logs.push(l));
      expect(await cache.list()).toEqual([]);
      const path = await cache.file(hash);
      expect(path).toBe(cache.path(hash));
      expect((await readFile(path)).equals(bytes)).toBe(true);
      expect(await cache.list()).toEqual([hash]);
      // Damage the copy: the next use notices and fetches it again.
      const bad = Buffer.from(bytes);
      bad[0] ^= 1;
      await writeFile(path, bad);
      expect((await cache.read(hash)).equals(bytes)).toBe(true);
      await writeFile(path, bad);
      expect((await readFile(await cache.file(hash))).equals(bytes)).toBe(true);
      // Copies of blobs swept meanwhile (by another instance) and old temporary files are pruned; the rest stay.
      const other = await store.blobs.put(randomBytes(10));
      await cache.file(other);
      writeFileSync(`${cache.path(other)}.tmp-0a1b`, 'half');
      utimesSync(`${cache.path(other)}.tmp-0a1b`, new Date(0), new Date(0));
      writeFileSync(`${cache.path(hash)}.tmp-0a1c`, 'a fill in progress');
      await store.blobs.sweep([other]);
      expect(await cache.prune()).toBe(2);
      expect((await readdir(cache.dir)).sort()).toEqual([hash, `${hash}.tmp-0a1c`]);
      // A blob damaged in the database never reaches the cache.
      await store.database.db
        .updateTable('blob_chunks')
        .set({ bytes: Buffer.from('x') })
        .where('sha256', '=', hash)
        .where('idx', '=', 2)
        .execute();
      await cache.forget([hash]);
      await expect(cache.file(hash)).rejects.toMatchObject({ code: 'ERR_HARK_BLOB_CORRUPT' });
      expect(await cache.list()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
