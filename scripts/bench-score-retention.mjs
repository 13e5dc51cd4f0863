#!/usr/bin/env node
/**
 * The score retention on a backlog: `--sensors` sensors with `--days` days of score points at 2 per second
 * (the live rate at the default hop) in a fresh data directory, then one retention run keeping the last day.
 * Prints the points deleted, the time the run took, and the event loop's delay while it ran (the slices yield
 * between them; the longest delay is what a live column or socket message could wait). Needs the built
 * server (`npx tsc -b tsconfig.build.json`).
 *
 *   node scripts/bench-score-retention.mjs --sensors 16 --days 3
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { HarkStore } from '../apps/server/dist/store/store.js';
import { HarkMetrics } from '../apps/server/dist/metrics/hark.metrics.js';
import { ScoreRetention } from '../apps/server/dist/history/score-retention.js';

const { values } = parseArgs({
  options: { sensors: { type: 'string', default: '16' }, days: { type: 'string', default: '3' } },
});
const sensors = Number(values.sensors);
const days = Number(values.days);
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'hark-bench-retention-'));
try {
  const store = new HarkStore(dir, { scores: { retentionMs: DAY, maxBuffered: 1_000_000 } });
  const now = Date.now();
  let t0 = performance.now();
  for (let s = 0; s < sensors; s++) {
    for (let t = now - days * DAY; t < now; t += 500) store.scores.append(`sensor-${s}`, t, Math.random());
    store.scores.flush();
  }
  const seeded = sensors * days * 172_800;
  console.log(
    `seeded ${seeded} points (${sensors} sensors x ${days} d at 2/s) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const load = loadavg()[0];
  t0 = performance.now();
  const deleted = await new ScoreRetention({
    store,
    metrics: new HarkMetrics({ defaultMetrics: false }),
  }).run(now);
  const seconds = (performance.now() - t0) / 1000;
  delay.disable();
  console.log(
    `deleted ${deleted} points in ${seconds.toFixed(1)} s (${Math.round(deleted / seconds)} points/s, ` +
      `${Math.ceil(deleted / 5000)}+ slices); event-loop delay while it ran: p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms, ` +
      `p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`,
  );
  console.log(
    `machine: ${cpus()[0].model}, ${cpus().length} cores, Node ${process.version}; load average (1 min) at start: ${load.toFixed(1)}`,
  );
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
