/**
 * `hark bench history`: the storage per sensor-day of each history tier and the time `hark serve` takes to
 * answer `GET /api/sensors/:id/history` for 1 h, 24 h and 7 d ranges, with `--sensors` sensors' worth of
 * stored history (written straight into a fresh data directory at the default mel layout, then served).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  COARSE_BLOCK_COLUMNS,
  COARSE_FACTOR,
  createServer,
  FULL_BLOCK_MS,
  REDUCED_BLOCK_COLUMNS,
  HarkStore,
  SERVER_DEFAULTS,
  type HistoryBlock,
  type SensorHistory,
} from '@hark/server';
import { positiveInt } from '../options.js';
import { markdownTable, writeBenchmarkSection } from './report.js';

/** The default mel layout: 128 bands, 256-sample hop at 16 kHz (libs/dsp `MEL_DEFAULTS`). */
const N_MELS = 128;
const HOP_MS = (256 / 16000) * 1000;
const HOUR = 3600_000;
const DAY = 24 * HOUR;

interface Options {
  sensors: number;
  days: number;
  repeat: number;
  maxColumns: number;
  write: boolean;
}

/** Pseudo-random bytes (an LCG): no two blocks alike, so nothing downstream can shortcut equal pages. */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Writes `days` of reduced and the last hour of full-resolution history for each sensor, ending `now`. */
async function populate(
  dataDir: string,
  ids: string[],
  days: number,
  now: number,
  reduceMs: number,
): Promise<void> {
  const store = new HarkStore(dataDir);
  try {
    const base = { nMels: N_MELS, dbRange: [-100, 40] as const, anomalyScale: 2 };
    const pool = Array.from({ length: 64 }, (_, i) => noise(REDUCED_BLOCK_COLUMNS * N_MELS, i + 1));
    const fullCols = Math.round(FULL_BLOCK_MS / HOP_MS);
    const fullPool = Array.from({ length: 16 }, (_, i) => noise(fullCols * N_MELS, i + 100));
    for (const [s, sensorId] of ids.entries()) {
      await store.sensors.upsert(sensorId, now - days * DAY);
      const reducedMs = REDUCED_BLOCK_COLUMNS * reduceMs;
      let batch: HistoryBlock[] = [];
      let k = 0;
      for (let t = now - days * DAY; t + reducedMs <= now; t += reducedMs, k++) {
        const b = pool[(k + s) % pool.length];
        batch.push({
          ...base,
          sensorId,
          tier: 1,
          t0: t,
          hopMs: reduceMs,
          nColumns: REDUCED_BLOCK_COLUMNS,
          spectrogram: b,
          anomaly: pool[(k + s + 7) % pool.length],
        });
        if (batch.length >= 500) {
          await store.history.insert(batch);
          batch = [];
        }
      }
      const coarseMs = reduceMs * COARSE_FACTOR;
      k = 0;
      for (
        let t = now - days * DAY;
        t + COARSE_BLOCK_COLUMNS * coarseMs <= now;
        t += COARSE_BLOCK_COLUMNS * coarseMs, k++
      ) {
        const b = pool[(k + s) % pool.length].subarray(0, COARSE_BLOCK_COLUMNS * N_MELS);
        batch.push({
          ...base,
          sensorId,
          tier: 2,
          t0: t,
          hopMs: coarseMs,
          nColumns: COARSE_BLOCK_COLUMNS,
          spectrogram: b,
          anomaly: b,
        });
      }
      k = 0;
      for (let t = now - HOUR; t + FULL_BLOCK_MS <= now; t += FULL_BLOCK_MS, k++) {
        const b = fullPool[(k + s) % fullPool.length];
        batch.push({
          ...base,
          sensorId,
          tier: 0,
          t0: t,
          hopMs: HOP_MS,
          nColumns: fullCols,
          spectrogram: b,
          anomaly: fullPool[(k + s + 3) % fullPool.length],
        });
        if (batch.length >= 100) {
          await store.history.insert(batch);
          batch = [];
        }
      }
      await store.history.insert(batch);
      process.stderr.write(`\rwrote the history of ${s + 1} / ${ids.length} sensors`);
    }
    process.stderr.write('\n');
  } finally {
    await store.close();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runHistoryBench(o: Options): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hark-bench-history-'));
  const reduceMs = SERVER_DEFAULTS.historyReduceSeconds * 1000;
  const ids = Array.from({ length: o.sensors }, (_, i) => `bench-${String(i + 1).padStart(2, '0')}`);
  const now = Date.now();
  try {
    const t0 = performance.now();
    await populate(dataDir, ids, o.days, now, reduceMs);
    const writeSeconds = (performance.now() - t0) / 1000;
    const dbBytes = ['hark.db', 'hark.db-wal'].reduce((n, f) => {
      try {
        return n + statSync(join(dataDir, f)).size;
      } catch {
        return n;
      }
    }, 0);
    const server = await createServer({
      port: 0,
      dataDir,
      log: () => {},
      dashboardDir: null,
      historyReducedSeconds: Math.max(o.days * 86400, SERVER_DEFAULTS.historyReducedSeconds),
      historyBudgetBytes: Math.max(dbBytes * 2, SERVER_DEFAULTS.historyBudgetBytes),
    });
    const rows: (string | number)[][] = [];
    const loadStart = loadavg()[0].toFixed(1);
    try {
      const token = (await server.tokens.create('operator', 'bench history')).token;
      const ranges: [string, number][] = [
        ['1 h', HOUR],
        ['24 h', DAY],
        ['7 d', 7 * DAY],
      ].filter(([, ms]) => (ms as number) <= o.days * DAY || ms === HOUR) as [string, number][];
      for (const [name, ms] of ranges) {
        const times: number[] = [];
        let answer: SensorHistory | null = null;
        let bytes = 0;
        for (let r = 0; r < o.repeat; r++) {
          // A different sensor each time: no answer comes from a cache warmed by the one before.
          const id = ids[r % ids.length];
          const start = performance.now();
          const res = await fetch(
            `${server.url}/api/sensors/${id}/history?from=${now - ms}&to=${now}&maxColumns=${o.maxColumns}`,
            { headers: { authorization: `Bearer ${token}` } },
          );
          const text = await res.text();
          times.push(performance.now() - start);
          if (!res.ok) throw new Error(`history ${name}: ${res.status} ${text}`);
          answer = JSON.parse(text) as SensorHistory;
          bytes = text.length;
        }
        rows.push([
          name,
          answer!.tier,
          answer!.times.length,
          `${(bytes / 1e6).toFixed(2)} MB`,
          median(times).toFixed(0),
          Math.max(...times).toFixed(0),
        ]);
        console.log(`${name}: ${rows.at(-1)!.join('  ')}`);
      }
    } finally {
      await server.close();
    }
    const fullDayMB = ((86400_000 / HOP_MS) * N_MELS * 2) / 1e6;
    const reducedDayMB = ((86400_000 / reduceMs) * N_MELS * 2) / 1e6;
    const coarseDayMB = reducedDayMB / COARSE_FACTOR;
    const stored = o.sensors * (o.days * (reducedDayMB + coarseDayMB) + fullDayMB / 24);
    const body = [
      `${o.sensors} sensors, ${o.days} d of reduced and 1 h of full-resolution history each (128 mel bands, ` +
        `${(1000 / HOP_MS).toFixed(1)} columns/s, log-mel + anomaly map, one byte per cell), written in ` +
        `${writeSeconds.toFixed(0)} s; then \`hark serve\` on that data directory answers ` +
        `\`GET /api/sensors/:id/history?maxColumns=${o.maxColumns}\` ${o.repeat} times per range (a different ` +
        `sensor each time), timed from the request to the last byte of the JSON over loopback.`,
      '',
      markdownTable(
        ['tier', 'stored per sensor-day', 'kept (default)', 'per sensor at the default retention'],
        [
          ['full (every column)', `${fullDayMB.toFixed(0)} MB`, '1 h', `${(fullDayMB / 24).toFixed(1)} MB`],
          [
            'reduced (max over 0.5 s)',
            `${reducedDayMB.toFixed(1)} MB`,
            '7 d',
            `${(reducedDayMB * 7).toFixed(0)} MB`,
          ],
          [
            'coarse (max over 30 s)',
            `${coarseDayMB.toFixed(2)} MB`,
            '7 d',
            `${(coarseDayMB * 7).toFixed(1)} MB`,
          ],
        ],
      ),
      '',
      `SQLite file for the whole set: ${(dbBytes / 1e6).toFixed(0)} MB for ${stored.toFixed(0)} MB of pictures ` +
        `(${((dbBytes / (stored * 1e6) - 1) * 100).toFixed(1)} % overhead).`,
      '',
      markdownTable(['range', 'tier', 'columns', 'answer', 'median ms', 'max ms'], rows),
      '',
      `Load average (1 min) at the start / end of the requests: ${loadStart} / ${loadavg()[0].toFixed(1)} ` +
        '(other jobs shared the cores: the times are upper bounds for a quiet machine).',
    ].join('\n');
    return body;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function registerBenchHistory(bench: Command): void {
  bench
    .command('history')
    .description(
      'storage per sensor-day per history tier and the time to answer 1 h / 24 h / 7 d history ranges',
    )
    .option('--sensors <n>', 'sensors with stored history', positiveInt, 16)
    .option('--days <n>', 'days of reduced history per sensor', positiveInt, 7)
    .option('--repeat <n>', 'requests per range', positiveInt, 8)
    .option('--max-columns <n>', 'maxColumns of each request (about a screen width)', positiveInt, 1500)
    .option('--no-write', 'print the tables without updating BENCHMARKS.md')
    .action(async (o: Options) => {
      const body = await runHistoryBench(o);
      console.log(`\n${body}`);
      if (o.write)
        console.log(
          `\nwritten to ${writeBenchmarkSection('history', 'History: storage per tier and range answers (`hark bench history`)', body)}`,
        );
    });
}
