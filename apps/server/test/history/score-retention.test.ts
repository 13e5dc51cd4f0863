import { describe, expect, it } from 'vitest';
import { ScoreRetention } from '../../src/history/score-retention.js';
import { HarkMetrics } from '../../src/metrics/hark.metrics.js';
import { DAY_MS, summariseDay } from '../../src/store/trend.repository.js';
import { tempStore } from '../store/helpers.js';

const NOW = Date.UTC(2026, 11, 4, 12);
const count = (store: ReturnType<typeof tempStore>['store'], id: string) =>
  (
    store.database.db.prepare('SELECT COUNT(*) AS n FROM scores WHERE sensor_id = ?').get(id) as {
      n: number;
    }
  ).n;

describe('ScoreRetention', () => {
  it('deletes the points older than the retention in slices, keeps the newer ones and the old days in the trends', async () => {
    const { store } = tempStore({ scores: { retentionMs: 2 * DAY_MS } });
    const metrics = new HarkMetrics({ defaultMetrics: false });
    // Two sensors: one point a minute over the last 5 days.
    for (const id of ['a', 'b'])
      for (let t = NOW - 5 * DAY_MS; t < NOW; t += 60_000)
        store.scores.append(id, t, 0.1 + ((t / 60_000) % 10) / 100);
    store.scores.flush();
    const before = count(store, 'a');
    // What the rollup of the first whole day must hold, from its points before they go.
    const firstDay = Math.floor((NOW - 5 * DAY_MS) / DAY_MS) * DAY_MS;
    const dayScores = (
      store.database.db
        .prepare('SELECT score FROM scores WHERE sensor_id = ? AND t >= ? AND t < ?')
        .raw()
        .all('a', firstDay + DAY_MS, firstDay + 2 * DAY_MS) as [number][]
    ).map((r) => r[0]);
    const expected = summariseDay(firstDay + DAY_MS, Float64Array.from(dayScores).sort());
    const retention = new ScoreRetention({ store, metrics, batch: 500 });
    const slices: number[] = [];
    // Counts the event-loop turns the run yields: one per slice of at most 500 points.
    const spy = setInterval(() => slices.push(count(store, 'a') + count(store, 'b')), 0);
    const deleted = await retention.run(NOW);
    clearInterval(spy);
    const cutoff = NOW - 2 * DAY_MS;
    const kept = Math.ceil((NOW - cutoff) / 60_000);
    expect(count(store, 'a')).toBe(kept);
    expect(deleted).toBe(2 * (before - kept));
    expect(store.scores.range('a', { limit: 20_000 })[0].t).toBeGreaterThanOrEqual(cutoff);
    expect(store.scores.oldest('b')).toBeGreaterThanOrEqual(cutoff);
    // Yielded between slices: the loop ran while the run went on.
    expect(new Set(slices).size).toBeGreaterThan(5);
    // The deleted whole days were rolled up first: the trends still hold them, each with its 1440 points.
    const days = store.trends.days('a', firstDay, firstDay + 2 * DAY_MS, NOW);
    expect(days.map((d) => d.day)).toEqual([firstDay, firstDay + DAY_MS, firstDay + 2 * DAY_MS]);
    expect(days.slice(1).map((d) => d.n)).toEqual([1440, 1440]);
    expect(days[0].p50).toBeGreaterThan(0.1);
    // Read a page at a time, rolled up as the trends roll up a day at once.
    expect(days[1]).toEqual(expected);
    const text = await metrics.registry.metrics();
    expect(text).toContain(`hark_score_points_pruned_total ${deleted}`);
    expect(text).toContain(`hark_score_retention_seconds ${2 * 86400}`);
    // Nothing left to prune.
    expect(await retention.run(NOW)).toBe(0);
  });

  it('pruneBatch deletes at most `limit` of the oldest points before the bound', () => {
    const { store } = tempStore();
    for (let i = 0; i < 10; i++) store.scores.append('a', 1000 + i, 1);
    store.scores.flush();
    expect(store.scores.pruneBatch('a', 1008, 3)).toBe(3);
    expect(store.scores.oldest('a')).toBe(1003);
    expect(store.scores.pruneBatch('a', 1008, 100)).toBe(5);
    expect(store.scores.oldest('a')).toBe(1008);
    expect(store.scores.pruneBatch('a', 1008, 100)).toBe(0);
    expect(store.scores.sensorIds()).toEqual(['a']);
    expect(store.scores.page('a', 1008, 2000, 1).map((p) => p.t)).toEqual([1009]);
    expect(store.scores.page('a', 0, 1009, 10).map((p) => p.t)).toEqual([1008]);
    expect(() => store.scores.pruneBatch('a', 1008, 0)).toThrow('limit (0) must be an integer');
  });
});
