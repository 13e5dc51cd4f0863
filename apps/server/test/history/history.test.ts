import { describe, expect, it } from 'vitest';
import type { ColumnsEvent } from '@hark/protocol';
import { HistoryRecorder } from '../../src/history/history-recorder.js';
import { HistoryService, type HistoryConfig } from '../../src/history/history.service.js';
import { downsample } from '../../src/history/downsample.js';
import { HarkMetrics } from '../../src/metrics/hark.metrics.js';
import { HarkStore } from '../../src/store/store.js';
import { tempStore } from '../store/helpers.js';

const M = 4;
const HOP_S = 0.1;
const NOW = 1_700_000_000_000;

/**
 * `n` columns of sensor `id` from `t0` (ms): column i has spectrogram bytes (i % 200) + band and anomaly byte
 * 255 at column `hot` only.
 */
function event(id: string, t0: number, n: number, hot = -1, first = 0): ColumnsEvent {
  const spectrogram = new Uint8Array(n * M);
  const anomaly = new Uint8Array(n * M);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < M; j++) {
      spectrogram[i * M + j] = ((first + i) % 200) + j;
      if (first + i === hot) anomaly[i * M + j] = 255;
    }
  return {
    sensorId: id,
    t0,
    hopSeconds: HOP_S,
    nMels: M,
    nColumns: n,
    spectrogram,
    anomaly,
    dbRange: [-100, 40],
    anomalyScale: 2,
    scored: true,
  };
}

/** Feeds `seconds` of columns ending at `end` in events of 5 columns (as the live path sends them). */
function feed(rec: { columns(ev: ColumnsEvent): void }, id: string, end: number, seconds: number, hot = -1) {
  const n = Math.round(seconds / HOP_S);
  const t0 = end - seconds * 1000;
  for (let i = 0; i < n; i += 5) rec.columns(event(id, t0 + i * HOP_S * 1000, Math.min(5, n - i), hot, i));
}

const recorder = () =>
  new HistoryRecorder({ fullBlockMs: 10_000, reduced: [{ tier: 1, windowMs: 500, blockColumns: 120 }] });

describe('HistoryRecorder', () => {
  it('keeps every column at full resolution and the max per band over each reduce window', () => {
    const rec = recorder();
    feed(rec, 'pump-1', NOW, 30, 42);
    rec.finishAll();
    const blocks = rec.take();
    const full = blocks.filter((b) => b.tier === 0);
    const reduced = blocks.filter((b) => b.tier === 1);
    // 30 s at 0.1 s in 10 s blocks; 60 reduce windows in one block.
    expect(full.map((b) => b.nColumns)).toEqual([100, 100, 100]);
    expect(full[1].t0).toBe(NOW - 20_000);
    // Column 205's band 2.
    expect(full[2].spectrogram[5 * M + 2]).toBe(7);
    expect(reduced.map((b) => b.nColumns)).toEqual([60]);
    expect(reduced[0].hopMs).toBe(500);
    // Window 8 holds columns 40..44: the max of band 1 is column 44's 44 + 1; the anomaly peak of column 42.
    expect(reduced[0].spectrogram[8 * M + 1]).toBe(45);
    expect(reduced[0].anomaly[8 * M + 3]).toBe(255);
    expect(reduced[0].anomaly[9 * M + 3]).toBe(0);
  });

  it('cuts blocks at a gap and keeps unfinished blocks readable', () => {
    const rec = recorder();
    feed(rec, 'pump-1', NOW - 60_000, 3);
    feed(rec, 'pump-1', NOW, 3);
    expect(rec.take().map((b) => [b.tier, b.nColumns])).toEqual([
      [0, 30],
      [1, 6],
    ]);
    const partial = rec.partial('pump-1', 1);
    // The first run's 6 windows, then the second run's windows so far (the last one still open).
    expect(partial.map((b) => b.nColumns)).toEqual([5, 1]);
    rec.finishAll();
    expect(rec.take().map((b) => [b.tier, b.t0, b.nColumns])).toEqual([
      [0, NOW - 3000, 30],
      [1, NOW - 3000, 6],
    ]);
  });
});

describe('downsample', () => {
  it('keeps the columns when they fit and the max per band when they do not', () => {
    const rec = recorder();
    feed(rec, 'pump-1', NOW, 20, 77);
    rec.finishAll();
    const full = rec.take().filter((b) => b.tier === 0);
    const all = downsample(full, NOW - 20_000, NOW, 1000)!;
    expect(all.times.length).toBe(200);
    expect(all.columnMs).toBe(100);
    const ten = downsample(full, NOW - 20_000, NOW, 10)!;
    expect(ten.times).toEqual(Array.from({ length: 10 }, (_, k) => NOW - 20_000 + k * 2000));
    expect(ten.columnMs).toBe(2000);
    // Column 3 covers stored columns 60..79: band 0's max is 79, and it holds the anomaly peak of column 77.
    expect(ten.spectrogram[3 * M]).toBe(79);
    expect(ten.anomaly[3 * M + 2]).toBe(255);
    expect(ten.anomaly[4 * M + 2]).toBe(0);
    // A range inside a block starts at its first column, without the columns before.
    const part = downsample(full, NOW - 15_050, NOW - 14_000, 1000)!;
    expect(part.times[0]).toBe(NOW - 15_000);
    expect(part.times.length).toBe(10);
  });
});

describe('HistoryService (real SQLite)', () => {
  const config: HistoryConfig = {
    fullSeconds: 120,
    reducedSeconds: 3600,
    reduceSeconds: 0.5,
    budgetBytes: 1e9,
  };

  function setup(c: HistoryConfig = config) {
    const { store, dir } = tempStore();
    const metrics = new HarkMetrics({ defaultMetrics: false });
    return { store, dir, metrics, history: new HistoryService({ store, metrics, config: c }) };
  }

  it('writes both tiers, enforces each retention and answers the tier that fits the range', async () => {
    const { store, metrics, history } = setup();
    // 10 minutes of columns ending now.
    feed(history, 'pump-1', NOW, 600);
    expect(history.flush()).toBeGreaterThan(0);
    // 59 finished blocks of 100 columns (the 60th waits for the next column to finish it).
    expect(store.history.bytes(0)).toBe(59 * 100 * M * 2);
    history.prune(NOW);
    // Full resolution: the stored blocks that end within the last 120 s.
    expect(store.history.bytes(0)).toBe(11 * 100 * M * 2);
    expect(store.history.oldest('pump-1', 0)).toBe(NOW - 120_000);
    expect(store.history.oldest('pump-1', 1)).toBe(NOW - 600_000);

    // Short and recent: full resolution, every column.
    const recent = history.query('pump-1', NOW - 60_000, NOW, 1500, []);
    expect(recent.tier).toBe('full');
    // Band centres are given when they match the stored band count (the axis is then labelled in Hz).
    expect(recent.melHz).toEqual([]);
    expect(history.query('pump-1', NOW - 60_000, NOW, 1500, [], [100, 200, 400, 800]).melHz).toEqual([
      100, 200, 400, 800,
    ]);
    expect(history.query('pump-1', NOW - 60_000, NOW, 1500, [], [100, 200]).melHz).toEqual([]);
    expect(recent.times.length).toBe(600);
    expect(recent.columnMs).toBe(100);
    // Columns wider than a reduce window: reduced, downsampled.
    const wide = history.query('pump-1', NOW - 600_000, NOW, 100, []);
    expect(wide.tier).toBe('reduced');
    expect(wide.times.length).toBe(100);
    expect(wide.columnMs).toBe(6000);
    // Columns of a minute: the coarse tier (max over 30 s), 20 windows for 10 columns.
    const coarse = history.query('pump-1', NOW - 600_000, NOW, 10, []);
    expect(coarse).toMatchObject({ tier: 'coarse', tierHopMs: 30_000, columnMs: 60_000 });
    expect(coarse.times.length).toBe(10);
    // Short but older than the full tier: reduced, every reduce window.
    const old = history.query('pump-1', NOW - 500_000, NOW - 440_000, 1500, []);
    expect(old.tier).toBe('reduced');
    expect(old.times.length).toBe(120);
    expect(old.fullSince).toBe(NOW - 120_000);
    const bytes = Buffer.from(old.spectrogram, 'base64');
    expect(bytes.length).toBe(120 * M);

    const text = (await metrics.text()).body;
    expect(text).toContain(`hark_history_bytes{tier="full"} ${11 * 100 * M * 2}`);
    expect(text).toContain('hark_history_budget_bytes 1000000000');

    // The reduced retention: an hour later only the newest reduced blocks remain.
    history.prune(NOW + 3600_000 - 120_000);
    expect(store.history.bytes(0)).toBe(0);
    expect(store.history.oldest('pump-1', 1)).toBe(NOW - 120_000);
  });

  it('answers full resolution for a sensor that started streaming inside a reduce window', () => {
    const { history } = setup();
    // 20 s starting 130 ms into a reduce window and 3.1 s into a coarse one: nothing stored yet.
    feed(history, 'pump-1', NOW + 130 + 20_000 - 30_000 + 3000, 20);
    const h = history.query('pump-1', NOW - 60_000, NOW + 60_000, 1500, []);
    expect(h.tier).toBe('full');
    expect(h.times.length).toBe(200);
  });

  it('trims the oldest blocks first to stay within the budget', () => {
    const { store, history } = setup({ ...config, fullSeconds: 3600, budgetBytes: 20_000 });
    feed(history, 'fan-2', NOW - 300_000, 200);
    feed(history, 'pump-1', NOW, 100);
    history.flush();
    expect(store.history.bytes(0) + store.history.bytes(1)).toBeGreaterThan(20_000);
    const freed = history.prune(NOW);
    expect(freed).toBeGreaterThan(0);
    expect(store.history.bytes(0) + store.history.bytes(1)).toBeLessThanOrEqual(20_000);
    // fan-2's older columns went first: pump-1 keeps everything it wrote.
    expect(store.history.oldest('pump-1', 0)).toBe(NOW - 100_000);
    expect(store.history.oldest('pump-1', 1)).toBe(NOW - 100_000);
    expect(store.history.oldest('fan-2', 0)).toBeGreaterThan(NOW - 500_000);
  });

  it('writes the unfinished blocks at stop; a restart counts the totals again from the file', () => {
    const { store, dir, history } = setup();
    feed(history, 'pump-1', NOW, 30);
    history.stop();
    store.close();
    const reopened = new HarkStore(dir);
    try {
      // 30 s ending at NOW touch two 30 s coarse windows (NOW is 20 s into one).
      const bytes = [0, 1, 2].map((t) => reopened.history.bytes(t as 0 | 1 | 2));
      expect(bytes).toEqual([300 * M * 2, 60 * M * 2, 2 * M * 2]);
      const again = new HistoryService({
        store: reopened,
        metrics: new HarkMetrics({ defaultMetrics: false }),
        config,
      });
      expect(again.query('pump-1', NOW - 30_000, NOW, 1500, []).times.length).toBe(300);
    } finally {
      reopened.close();
    }
  });
});
