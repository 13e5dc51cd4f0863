/**
 * The score history's retention with the real server: points older than `--score-retention` days are deleted
 * (in slices, after start), newer ones are kept, the deleted days stay in the trends, and `/metrics` counts
 * what was deleted.
 */
import { afterAll, expect, test } from 'vitest';
import { HarkStore, type ScorePoint, type SensorTrends } from '@hark/server';
import { sleep, startServer, tempDir, type TestServer } from '../support/server.js';

const DAY = 86_400_000;
const open: TestServer[] = [];
afterAll(async () => {
  for (const s of open) await s.close();
});

test('points older than the retention are deleted at start, newer ones kept, old days stay in the trends', async () => {
  const dataDir = tempDir('retention');
  const now = Date.now();
  // Seeded before the start: one point a minute over the last 4 days for pump-1.
  const seed = new HarkStore(dataDir);
  await seed.sensors.upsert('pump-1', now - 4 * DAY);
  let seeded = 0;
  for (let t = now - 4 * DAY; t < now - 60_000; t += 60_000, seeded++)
    await seed.scores.append('pump-1', t, 0.5);
  await seed.close();

  const s = await startServer({ dataDir, scoreRetentionDays: 1 });
  open.push(s);
  const cutoff = now - DAY;
  // The first run starts with the server and deletes in slices: wait until the oldest point is inside the day.
  let points: ScorePoint[] = [];
  for (let i = 0; i < 100; i++) {
    points = await s.api<ScorePoint[]>(`/api/sensors/pump-1/scores?from=0&limit=20000`);
    if (points.length > 0 && points[0].t >= cutoff) break;
    await sleep(100);
  }
  expect(points.length).toBeGreaterThan(0);
  expect(Math.min(...points.map((p) => p.t))).toBeGreaterThanOrEqual(cutoff);
  // Every point of the last day is kept (one a minute).
  expect(points.length).toBeGreaterThanOrEqual(Math.floor((Date.now() - cutoff) / 60_000) - 2);
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  const pruned = Number(/hark_score_points_pruned_total (\d+)/.exec(metrics)?.[1]);
  expect(pruned).toBe(seeded - points.length);
  expect(metrics).toContain('hark_score_retention_seconds 86400');
  // The days whose points went are still in the trends.
  const trends = await s.api<SensorTrends>('/api/sensors/pump-1/trends?days=5');
  const withPoints = trends.days.filter((d) => d.n > 0);
  expect(withPoints.length).toBeGreaterThanOrEqual(4);
  expect(withPoints[0].day).toBeLessThan(cutoff - 2 * DAY);
  expect(withPoints[0].p50).toBe(0.5);
});
