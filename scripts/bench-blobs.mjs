#!/usr/bin/env node
/**
 * Blobs in the database: time to store a model-sized blob (`--mb` MiB, 1 MiB chunks), to store it again (the
 * idempotent write), to read it back checked, and to fill an empty instance's cache with it (`DATA/cache/blobs`)
 * and use the cached copy; on SQLite in a fresh data directory, and on PostgreSQL when `--postgres URL` is given.
 * Prints the median of `--runs` runs. Needs the built server (`npx tsc -b tsconfig.build.json`).
 *
 *   node scripts/bench-blobs.mjs --mb 32 --runs 5 [--postgres postgres://hark@127.0.0.1:5432/hark]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BlobCache } from '../apps/server/dist/store/blob-cache.js';
import { HarkStore } from '../apps/server/dist/store/store.js';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '32' },
    runs: { type: 'string', default: '5' },
    postgres: { type: 'string', default: '' },
  },
});
const mb = Number(values.mb);
const runs = Number(values.runs);
if (!(mb > 0) || !Number.isInteger(runs) || runs < 1)
  throw new Error('--mb must be > 0 and --runs an integer >= 1');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = async (f) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

async function bench(name, store) {
  const rows = { put: [], again: [], get: [], fill: [], cached: [] };
  for (let r = 0; r < runs; r++) {
    const bytes = randomBytes(mb << 20);
    let hash;
    rows.put.push(await timed(async () => (hash = await store.blobs.put(bytes))));
    rows.again.push(await timed(() => store.blobs.put(bytes)));
    rows.get.push(await timed(() => store.blobs.get(hash)));
    const dir = mkdtempSync(join(tmpdir(), 'hark-bench-blob-cache-'));
    try {
      const cache = new BlobCache(dir, store.blobs);
      rows.fill.push(await timed(() => cache.file(hash)));
      rows.cached.push(await timed(() => cache.read(hash)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await store.blobs.sweep([hash]);
  }
  const mbps = (ms) => `${median(ms).toFixed(0)} ms (${((mb * 1000) / median(ms)).toFixed(0)} MiB/s)`;
  console.log(
    `| ${name} | ${mb} MiB | ${mbps(rows.put)} | ${median(rows.again).toFixed(0)} ms | ${mbps(rows.get)} | ` +
      `${mbps(rows.fill)} | ${mbps(rows.cached)} |`,
  );
}

console.log(
  `${cpus()[0].model}, ${cpus().length} cores, Node ${process.version}; load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log('| engine | blob | put | put again | get (checked) | cache fill | cached read (checked) |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
const dir = mkdtempSync(join(tmpdir(), 'hark-bench-blobs-'));
try {
  const sqlite = await HarkStore.open({ engine: 'sqlite', dataDir: dir });
  await bench('SQLite', sqlite);
  await sqlite.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (values.postgres) {
  const pg = await HarkStore.open({ engine: 'postgres', url: values.postgres });
  await bench('PostgreSQL 15', pg);
  await pg.close();
}
