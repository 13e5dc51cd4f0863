import { describe, expect, it } from 'vitest';
import { HarkStore, ScoreRepository } from '../../src/store/index.js';
import { tempDir, tempStore } from './helpers.js';

const T0 = Date.UTC(2025, 0, 1);

describe('ScoreRepository', () => {
  it('buffers until flush and writes everything in one transaction', () => {
    const { store } = tempStore();
    const count = () =>
      (store.database.db.prepare('SELECT COUNT(*) AS n FROM scores').get() as { n: number }).n;
    for (let i = 0; i < 100; i++)
      for (const s of ['a', 'b', 'c']) store.scores.append(s, T0 + i * 500, i / 100);
    expect(store.scores.buffered).toBe(300);
    expect(count()).toBe(0);
    let commits = 0;
    const original = store.database.db.transaction.bind(store.database.db);
    store.database.db.transaction = ((fn: () => unknown) => {
      commits++;
      return original(fn);
    }) as typeof store.database.db.transaction;
    expect(store.scores.flush()).toBe(300);
    expect(commits).toBe(1);
    expect(count()).toBe(300);
    expect(store.scores.flush()).toBe(0);
  });

  it('flushes by itself when the buffer is full, and on close', () => {
    const dir = tempDir();
    const store = new HarkStore(dir, { scores: { maxBuffered: 10 } });
    for (let i = 0; i < 25; i++) store.scores.append('a', T0 + i, 1);
    expect(store.scores.buffered).toBe(5);
    store.close();
    const again = new HarkStore(dir);
    expect(again.scores.range('a')).toHaveLength(25);
    again.close();
  });

  it('returns a range oldest first, skipping non-finite scores', () => {
    const { store } = tempStore();
    store.scores.append('a', T0 + 1000, 0.5);
    store.scores.append('a', T0, 0.25);
    store.scores.append('a', T0 + 2000, NaN);
    store.scores.append('a', T0 + 3000.4, 2);
    store.scores.append('b', T0 + 500, 9);
    expect(store.scores.range('a')).toEqual([
      { t: T0, score: 0.25 },
      { t: T0 + 1000, score: 0.5 },
      { t: T0 + 3000, score: 2 },
    ]);
    expect(store.scores.range('a', { from: T0 + 500, to: T0 + 1000 })).toEqual([
      { t: T0 + 1000, score: 0.5 },
    ]);
  });

  it('downsamples evenly to the limit, keeping the peak of each bucket', () => {
    const { store } = tempStore();
    // 1 hour at 2 points per second, a spike at minute 30.
    const n = 7200;
    for (let i = 0; i < n; i++) store.scores.append('a', T0 + i * 500, i === 3600 ? 5 : 0.1 + (i % 7) / 100);
    const points = store.scores.range('a', { limit: 100 });
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
    expect(store.scores.range('a', { limit: n })).toHaveLength(n);
  });

  it('validates the query', () => {
    const { store } = tempStore();
    expect(() => store.scores.range('a', { limit: 0 })).toThrow('limit (0) must be an integer in 1..20000');
    expect(() => store.scores.range('a', { from: 5, to: 1 })).toThrow('from (5) must not be after to (1)');
  });

  it('prunes points older than the retention for every sensor', () => {
    const { store } = tempStore({ scores: { retentionMs: 60_000 } });
    for (const s of ['a', 'b', 'c']) for (let i = 0; i < 10; i++) store.scores.append(s, T0 + i * 10_000, 1); // T0 .. T0 + 90 s
    expect(store.scores.prune(T0 + 100_000)).toBe(3 * 4); // keeps t >= T0 + 40 s
    expect(store.scores.range('b').map((p) => p.t - T0)).toEqual([
      40_000, 50_000, 60_000, 70_000, 80_000, 90_000,
    ]);
  });

  it('rejects bad options', () => {
    const { store } = tempStore();
    expect(() => new ScoreRepository(store.database, { retentionMs: 0 })).toThrow(
      'retentionMs (0) must be > 0',
    );
  });
});
