import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runStoreBench, storeTable } from '../src/bench/store.js';

const hasPostgres = existsSync('/usr/lib/postgresql/15/bin/initdb');
if (!hasPostgres)
  console.warn('SKIPPED hark bench store: PostgreSQL 15 is not installed (apt-get install postgresql)');

describe.skipIf(!hasPostgres)('hark bench store', () => {
  it('writes every point of every simulated second into SQLite and PostgreSQL, one and two writers', async () => {
    const r = await runStoreBench({ sensors: [10, 40], writers: [1, 2], seconds: 2 });
    expect(r.steps.map((s) => [s.engine, s.writers, s.sensors, s.pointsPerFlush])).toEqual([
      ['sqlite', 1, 10, 20],
      ['sqlite', 1, 40, 80],
      ['postgres', 1, 10, 20],
      ['postgres', 1, 40, 80],
      ['postgres', 2, 10, 10],
      ['postgres', 2, 40, 40],
    ]);
    for (const s of r.steps) {
      expect(s.pointsPerSecond).toBeGreaterThan(0);
      expect(s.flushMax).toBeGreaterThanOrEqual(s.flushP50);
    }
    // Each PostgreSQL step: a warm-up and 2 measured seconds of 2 points per sensor.
    expect(r.postgresPoints).toBe(2 * 3 * 2 * (10 + 40));
    // A point is 3 columns (about 40 bytes with its tuple header) plus its share of the primary-key index.
    expect(r.postgresBytesPerPoint).toBeGreaterThan(40);
    expect(r.postgresBytesPerPoint).toBeLessThan(1000);
    expect(storeTable(r.steps)).toMatch(/\| PostgreSQL \| 2 \| 40 \| 80 \| 40 \|/);
  }, 120_000);
});
