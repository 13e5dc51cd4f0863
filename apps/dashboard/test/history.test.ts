import { describe, expect, it } from 'vitest';
import { buildHistoryOption } from '../src/charts/options/history';
import { stackGrids } from '../src/charts/options/layout';
import { buildLiveOption } from '../src/charts/options/live';
import { buildTrendsOption } from '../src/charts/options/trends';
import {
  clampRange,
  columnRuns,
  MAX_SPAN_MS,
  MIN_SPAN_MS,
  panBy,
  presetRange,
  selectFractions,
  timeZoneLabel,
  zoomAround,
} from '../src/lib/history-range';
import { parseRoute, routeHref } from '../src/lib/route';

const NOW = 1_700_000_000_000;
const H = 3600_000;

describe('history range', () => {
  it('gives the presets up to now', () => {
    expect(presetRange('24h', NOW)).toEqual({ from: NOW - 24 * H, to: NOW });
    expect(presetRange('7d', NOW)).toEqual({ from: NOW - 7 * 24 * H, to: NOW });
  });

  it('zooms around the pointer, pans, and selects, never past now nor narrower than the minimum', () => {
    const day = presetRange('24h', NOW);
    // Zooming in at the middle keeps the middle where it was.
    expect(zoomAround(day, 0.5, 0.5, NOW)).toEqual({ from: NOW - 18 * H, to: NOW - 6 * H });
    // Zooming out at the right edge cannot pass now: the range slides back.
    expect(zoomAround(day, 1, 2, NOW)).toEqual({ from: NOW - 48 * H, to: NOW });
    expect(panBy(day, 0.5, NOW)).toEqual(day);
    expect(panBy(day, -0.25, NOW)).toEqual({ from: NOW - 30 * H, to: NOW - 6 * H });
    expect(selectFractions(day, 0.75, 0.5, NOW)).toEqual({ from: NOW - 12 * H, to: NOW - 6 * H });
    const tiny = selectFractions(day, 0.5, 0.5 + 1e-9, NOW);
    expect(tiny.to - tiny.from).toBe(MIN_SPAN_MS);
    expect(clampRange({ from: 0, to: NOW }, NOW)).toEqual({ from: NOW - MAX_SPAN_MS, to: NOW });
  });

  it('names the time zone with its offset', () => {
    expect(timeZoneLabel(NOW, 'UTC')).toMatch(/^UTC \(UTC[+-]\d\d:\d\d\)$/);
  });

  it('splits columns into runs at gaps', () => {
    expect(columnRuns([0, 500, 1000, 5000, 5500], 500)).toEqual([
      [0, 3],
      [3, 5],
    ]);
    expect(columnRuns([], 500)).toEqual([]);
  });

  it('routes the history view with its query', () => {
    const href = routeHref({ name: 'history', sensorId: 'pump 1', query: { range: '24h' } });
    expect(href).toBe('#/sensors/pump%201/history?range=24h');
    expect(parseRoute(href)).toEqual({ name: 'history', sensorId: 'pump 1', query: { range: '24h' } });
  });
});

describe('history chart option', () => {
  it('puts the range on every axis and marks the alerts inside it', () => {
    const grids = [0, 1, 2].map((i) => ({ left: 60, right: 20, top: i * 100, height: 90 }));
    const option = buildHistoryOption({
      grids,
      from: NOW - H,
      to: NOW,
      nMels: 64,
      scores: [
        [NOW - 30 * 60_000, 2.4],
        [NOW - 20 * 60_000, 0.5],
      ],
      regions: [
        { start: NOW - 31 * 60_000, end: NOW - 29 * 60_000, state: 'open', id: 3 },
        { start: NOW - 3 * H, end: NOW - 2 * H, state: 'resolved', id: 1 },
      ],
    });
    const xAxis = option.xAxis as { min: number; max: number }[];
    expect(xAxis.map((a) => [a.min, a.max])).toEqual(Array(3).fill([NOW - H, NOW]));
    const yAxis = option.yAxis as { max: number }[];
    expect(yAxis[0].max).toBe(64);
    expect(yAxis[2].max).toBeCloseTo(2.7);
    const series = option.series as { id: string; markArea: { data: unknown[] } }[];
    // Only the alert inside the range is marked, on each grid.
    expect(series.map((s) => s.markArea.data.length)).toEqual([1, 1, 1]);
  });

  it('labels the spectrogram axes in Hz when the band centres are known, in mel bands otherwise', () => {
    const grids = stackGrids(480, [0.4, 0.3, 0.3]);
    const melHz = Array.from({ length: 64 }, (_, i) => 50 * 1.07 ** i);
    const base = { grids, from: NOW - H, to: NOW, nMels: 64, scores: [], regions: [] };
    type Axis = { name: string; axisLabel: { customValues?: number[]; formatter?: (v: number) => string } };
    const inHz = buildHistoryOption({ ...base, melHz }).yAxis as Axis[];
    const live = buildLiveOption({ grids, melHz, split: true }).yAxis as Axis[];
    // The live view's axis: the same ticks at the same band positions, labelled in Hz.
    expect(inHz[0].axisLabel.customValues).toEqual(live[0].axisLabel.customValues);
    const labels = (inHz[0].axisLabel.customValues ?? []).map((v) => inHz[0].axisLabel.formatter?.(v));
    expect(labels).toContain('1 kHz');
    expect(labels.every((l) => /Hz$/.test(l ?? ''))).toBe(true);
    expect(inHz.map((a) => a.name)).toEqual(['spectrogram', 'anomaly', 'score']);
    const bands = buildHistoryOption({ ...base, melHz: [] }).yAxis as Axis[];
    expect(bands[0].name).toBe('spectrogram (mel band)');
    expect(bands[0].axisLabel.customValues).toBeUndefined();
  });
});

describe('trends chart option', () => {
  it('draws each day at its middle, gaps where no score was stored, and the alerts per day', () => {
    const DAY = 24 * H;
    const day0 = Math.floor(NOW / DAY) * DAY;
    const option = buildTrendsOption({
      days: [
        { day: day0 - DAY, n: 100, p50: 0.3, p90: 0.6, p99: 0.9, max: 1.4, alerts: 2 },
        { day: day0, n: 0, p50: null, p90: null, p99: null, max: null, alerts: 0 },
      ],
    });
    const series = option.series as { id: string; data: [number, number | null][] }[];
    const p99 = series.find((x) => x.id === 'p99')!;
    expect(p99.data).toEqual([
      [day0 - DAY / 2, 0.9],
      [day0 + DAY / 2, null],
    ]);
    expect(series.find((x) => x.id === 'alerts')!.data.map(([, n]) => n)).toEqual([2, 0]);
    const yAxis = option.yAxis as { max?: number }[];
    expect(yAxis[0].max).toBeCloseTo(1.6);
    const xAxis = option.xAxis as { min: number; max: number }[];
    expect([xAxis[0].min, xAxis[0].max]).toEqual([day0 - DAY, day0 + DAY]);
  });
});
