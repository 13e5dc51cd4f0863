/**
 * `hark bench store`: the score-history insert rate, in points per second, into PostgreSQL (`--database URL`,
 * else a PostgreSQL 15 started in a temporary directory) and into SQLite beside it.
 *
 * The points go through the server's own `ScoreRepository` as the server drives it: every scored window
 * `append`s one point (a sensor scores 2 windows per second at the default 0.5 s hop), nothing awaited, and the
 * sensors' one-second timer calls `flush`, which writes the buffered points in one transaction of multi-row
 * upserts (an earlier flush starts by itself once 5000 points wait). The simulated seconds run back to back
 * as fast as the database takes them: the rate is the ceiling of one writer at that batch shape. With
 * `--writers W` (PostgreSQL only: SQLite is one process's file), W stores, each with its own connection pool
 * and its share of the sensors, write at once, as W instances of `hark serve --database` do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { HarkStore } from '@hark/server';
import { positiveInt } from '../options.js';
import { markdownTable, writeBenchmarkSection } from './report.js';
import { startPostgres } from './services.js';

/** Windows a sensor scores per second at the default `--hop-seconds 0.5`. */
const POINTS_PER_SENSOR_SECOND = 2;

export interface StoreStep {
  engine: 'sqlite' | 'postgres';
  writers: number;
  sensors: number;
  /** Points one writer's flush carries (one second of its sensors). */
  pointsPerFlush: number;
  flushP50: number;
  flushMax: number;
  /** Points written per second over the measured seconds, all writers together. */
  pointsPerSecond: number;
  /** The rate covers what the sensors make (`POINTS_PER_SENSOR_SECOND` each). */
  keptUp: boolean;
}

export interface StoreBenchResult {
  steps: StoreStep[];
  /** PostgreSQL's bytes on disk per stored point, `scores` with its primary-key index. */
  postgresBytesPerPoint: number;
  /** Points PostgreSQL holds at the end (every step's, warm-up seconds included). */
  postgresPoints: number;
}

interface Options {
  database?: string;
  sensors: number[];
  writers: number[];
  seconds: number;
  log?: (line: string) => void;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export async function runStoreBench(o: Options): Promise<StoreBenchResult> {
  const log = o.log ?? (() => {});
  const steps: StoreStep[] = [];
  const sensors = [...o.sensors].sort((a, b) => a - b);
  const dataDir = mkdtempSync(join(tmpdir(), 'hark-bench-store-'));
  try {
    const sqlite = new HarkStore(dataDir);
    try {
      for (const n of sensors) {
        const step = await measure('sqlite', [sqlite], n, o.seconds, `s${n}`);
        steps.push(step);
        log(line(step));
        if (!step.keptUp) break;
      }
    } finally {
      await sqlite.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }

  const started = o.database ? null : await startPostgres();
  const url = o.database ?? started!.url;
  let postgresBytesPerPoint = NaN;
  let postgresPoints = 0;
  try {
    for (const w of [...o.writers].sort((a, b) => a - b)) {
      const stores = await Promise.all(
        Array.from({ length: w }, () => HarkStore.open({ engine: 'postgres', url })),
      );
      try {
        for (const n of sensors) {
          if (n < w) continue;
          const step = await measure('postgres', stores, n, o.seconds, `p${w}-${n}`);
          steps.push(step);
          log(line(step));
          if (!step.keptUp) break;
        }
        if (w === Math.max(...o.writers))
          ({ bytesPerPoint: postgresBytesPerPoint, points: postgresPoints } = await onDisk(stores[0]));
      } finally {
        for (const s of stores) await s.close();
      }
    }
  } finally {
    await started?.stop();
  }
  return { steps, postgresBytesPerPoint, postgresPoints };
}

const line = (s: StoreStep) =>
  `${s.engine}, ${s.writers} writer(s), ${s.sensors} sensors: ${s.pointsPerSecond} points/s, ` +
  `flush p50 ${s.flushP50} ms max ${s.flushMax} ms`;

/**
 * One warm-up second, then `seconds` simulated seconds of `n` sensors spread over the stores; each store's
 * seconds run back to back, the stores at once.
 */
async function measure(
  engine: 'sqlite' | 'postgres',
  stores: HarkStore[],
  n: number,
  seconds: number,
  prefix: string,
): Promise<StoreStep> {
  const t0 = Date.now() - (seconds + 1) * 1000;
  const flushMs: number[] = [];
  // Every writer writes one warm-up second, then all start the measured seconds together.
  let warm = 0;
  let go!: () => void;
  const measured = new Promise<void>((r) => (go = r));
  let started = 0;
  const writer = async (store: HarkStore, w: number) => {
    const ids: string[] = [];
    for (let i = w; i < n; i += stores.length) ids.push(`bench-${prefix}-${i}`);
    for (let s = 0; s <= seconds; s++) {
      if (s === 1) {
        if (++warm === stores.length) {
          started = performance.now();
          go();
        }
        await measured;
      }
      const t = t0 + s * 1000;
      const at = performance.now();
      const appended: Promise<void>[] = [];
      for (let k = 0; k < POINTS_PER_SENSOR_SECOND; k++) {
        const tk = t + (k * 1000) / POINTS_PER_SENSOR_SECOND;
        for (const id of ids) appended.push(store.scores.append(id, tk, Math.random()));
      }
      await store.scores.flush();
      await Promise.all(appended);
      if (s > 0) flushMs.push(performance.now() - at);
    }
  };
  await Promise.all(stores.map((s, w) => writer(s, w)));
  const span = (performance.now() - started) / 1000;
  flushMs.sort((a, b) => a - b);
  const pointsPerSecond = Math.round((n * POINTS_PER_SENSOR_SECOND * seconds) / span);
  return {
    engine,
    writers: stores.length,
    sensors: n,
    pointsPerFlush: Math.ceil(n / stores.length) * POINTS_PER_SENSOR_SECOND,
    flushP50: Math.round(pct(flushMs, 50)),
    flushMax: Math.round(flushMs[flushMs.length - 1]),
    pointsPerSecond,
    keptUp: pointsPerSecond >= n * POINTS_PER_SENSOR_SECOND,
  };
}

async function onDisk(store: HarkStore): Promise<{ bytesPerPoint: number; points: number }> {
  const db = store.database.db;
  const size = await db
    .selectNoFrom((eb) => eb.fn<number>('pg_total_relation_size', [eb.val('scores')]).as('bytes'))
    .executeTakeFirstOrThrow();
  const count = await db
    .selectFrom('scores')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { bytesPerPoint: Number(size.bytes) / Number(count.n), points: Number(count.n) };
}

const list = (v: string) =>
  v.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1) throw new Error(`'${x}' is not a whole number >= 1`);
    return n;
  });

export function storeTable(steps: StoreStep[]): string {
  return markdownTable(
    [
      'engine',
      'writers',
      'sensors',
      'offered points/s',
      'points per flush',
      'flush p50 ms',
      'flush max ms',
      'points/s',
      'kept up',
    ],
    steps.map((s) => [
      s.engine === 'sqlite' ? 'SQLite' : 'PostgreSQL',
      s.writers,
      s.sensors,
      s.sensors * POINTS_PER_SENSOR_SECOND,
      s.pointsPerFlush,
      s.flushP50,
      s.flushMax,
      s.pointsPerSecond,
      s.keptUp ? 'yes' : 'no',
    ]),
  );
}

export function registerBenchStore(bench: Command): void {
  bench
    .command('store')
    .description('score-history insert rate (points/s) into PostgreSQL, and into SQLite beside it')
    .option('--database <url>', 'a PostgreSQL to use (default: start PostgreSQL 15 on a free loopback port)')
    .option('--sensors <list>', 'numbers of sensors to try, in order', list, [100, 1000, 5000, 10000, 20000])
    .option('--writers <list>', 'numbers of instances writing to PostgreSQL at once', list, [1, 4])
    .option('--seconds <s>', 'measured seconds of scores per step', positiveInt, 10)
    .option('--no-write', 'print the table without updating BENCHMARKS.md')
    .action(async (o: Options & { write: boolean }) => {
      if (o.database && !/^postgres(ql)?:\/\//.test(o.database))
        throw new Error(`--database '${o.database}' is not a postgres://USER@HOST:PORT/DB URL`);
      const load = loadavg()[0].toFixed(1);
      const r = await runStoreBench({ ...o, log: (l) => console.log(l) });
      const table = storeTable(r.steps);
      console.log(`\n${table}`);
      if (!o.write) return;
      const body =
        `${table}\n\n` +
        "Points go through the server's `ScoreRepository` as `hark serve` drives it: each scored window " +
        '`append`s a point (2 per sensor and second at the default 0.5 s hop) and a one-second timer `flush`es ' +
        'them in one transaction of 1000-row upserts (a flush starts early once 5000 points wait). Simulated ' +
        'seconds run back to back as fast as the database takes them, so "points/s" is the ceiling at that batch ' +
        'shape and "kept up" means it covers what the sensors make. SQLite: `hark.db` in a temporary directory ' +
        "with the server's pragmas (WAL, `synchronous = FULL`). PostgreSQL 15: started by the benchmark on " +
        'loopback with its default settings (fsync on), or `--database`; "writers" are stores with their own ' +
        'connection pools writing at once, as instances of `hark serve --database` do, the sensors shared ' +
        `among them. PostgreSQL's \`scores\` with its primary-key index: ${r.postgresBytesPerPoint.toFixed(0)} ` +
        `bytes on disk per point. Load average (1 min) at the start / end: ${load} / ` +
        `${loadavg()[0].toFixed(1)} on ${cpus().length} cores shared with other jobs.`;
      console.log(
        `written to ${writeBenchmarkSection('store', 'Store: score-history insert rate, PostgreSQL and SQLite', body)}`,
      );
    });
}
