import { describe, expect, it } from 'vitest';
import { HarkStore, ScoreRepository } from '../../src/store/index.js';
import { tempDir, tempStore } from './helpers.js';

const T0 = Date.UTC(2025, 0, 1);

describe('ScoreRepository', () => {
  it('buffers until flush and writes everything in one transaction', async () => {
    const { store } = tempStore();
    const count = () =>
      (store.database.sqlite.prepare('SELECT COUNT(*) AS n FROM scores').get() as { n: number }).n;
    for (let i = 0; i < 100; i++)
      for (const s of ['a', 'b', 'c']) await store.scores.append(s, T0 + i * 500, i / 100);
    expect(store.scores.buffered).toBe(300);
    expect(count()).toBe(0);
    // Every statement Kysely runs is prepared on the connection: count the commits among them.
    let commits = 0;
    const sqlite = store.database.sqlite;
    const prepare = sqlite.prepare.bind(sqlite);
    sqlite.prepare = ((source: string) => {
      if (/^commit$/i.test(source.trim())) commits++;
      return prepare(source);
    }) as typeof sqlite.prepare;
    expect(await store.scores.flush()).toBe(300);
    expect(commits).toBe(1);
    expect(count()).toBe(300);
    expect(await store.scores.flush()).toBe(0);
  });

  it('flushes by itself when the buffer is full, and on close', async () => {
    const dir = tempDir();
    const store = new HarkStore(dir, { scores: { maxBuffered: 10 } });
    for (let i = 0; i < 25; i++) await store.scores.append('a', T0 + i, 1);
    expect(store.scores.buffered).toBe(5);
    await store.close();
    const again = new HarkStore(dir);
    expect(await again.scores.range('a')).toHaveLength(25);
    await again.close();
  });

  it('returns a range oldest first, skipping non-finite scores', async () => {
    const { store } = tempStore();
    await store.scores.append('a', T0 + 1000, 0.5);
    await store.scores.append('a', T0, 0.25);
    await store.scores.append('a', T0 + 2000, NaN);
    await store.scores.append('a', T0 + 3000.4, 2);
    await store.scores.append('b', T0 + 500, 9);
    expect(await store.scores.range('a')).toEqual([
      { t: T0, score: 0.25 },
      { t: T0 + 1000, score: 0.5 },
      { t: T0 + 3000, score: 2 },
    ]);
    expect(await store.scores.range('a', { from: T0 + 500, to: T0 + 1000 })).toEqual([
      { t: T0 + 1000, score: 0.5 },
    ]);
  });

  it('downsamples evenly to the limit, keeping the peak of each bucket', async () => {
    const { store } = tempStore();
    // 1 hour at 2 points per second, a spike at minute 30.
    const n = 7200;
    for (let i = 0; i < n; i++)
      await store.scores.append('a', T0 + i * 500, i === 3600 ? 5 : 0.1 + (i % 7) / 100);
    const points = await store.scores.range('a', { limit: 100 });
    expect(points.length).toBe(100);
    const ts = points.map((p) => p.t);
    expect(ts).toEqual([...ts].sort((x, y) => x - y));
    // Even buckets of 72 points: every point is the max of its bucket.
    for (const [k, p] of points.entries()) {
      expect(p.t).toBeGreaterThanOrEqual(T0 + k * 72 * 500);
      expect(p.t).toBeLessThan(T0 + (k + 1) * 72 * 500);
      expect(p.score).toBeCloseTo(k === 50 ? 5 : 0.16, 10);
    }
    expect(points[50]).toEqual({ t: T0 + 3600 * 500, score: 5 });
    expect(await store.scores.range('a', { limit: n })).toHaveLength(n);
  });

  it('validates the query', async () => {
    const { store } = tempStore();
    await expect(async () => store.scores.range('a', { limit: 0 })).rejects.toThrow(
      'limit (0) must be an integer in 1..20000',
    );
    await expect(async () => store.scores.range('a', { from: 5, to: 1 })).rejects.toThrow(
      'from (5) must not be after to (1)',
    );
  });

  it('prunes points older than the retention for every sensor', async () => {
    const { store } = tempStore({ scores: { retentionMs: 60_000 } });
    for (const s of ['a', 'b', 'c'])
      for (let i = 0; i < 10; i++) await store.scores.append(s, T0 + i * 10_000, 1); // T0 .. T0 + 90 s
    expect(await store.scores.prune(T0 + 100_000)).toBe(3 * 4); // keeps t >= T0 + 40 s
    expect((await store.scores.range('b')).map((p) => p.t - T0)).toEqual([
      40_000, 50_000, 60_000, 70_000, 80_000, 90_000,
    ]);
  });

  it('rejects bad options', async () => {
    const { store } = tempStore();
    await expect(async () => new ScoreRepository(store.database, { retentionMs: 0 })).rejects.toThrow(
      'retentionMs (0) must be > 0',
    );
  });
});
