import { init, use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { describe, expect, it } from 'vitest';
import { CHART_PARTS } from '../src/charts/echarts';
import { boxCoords, buildAlertOption } from '../src/charts/options/alert';
import { liveLayout, stackGrids } from '../src/charts/options/layout';
import { buildLiveFrame, buildLiveOption, frequencyAxis } from '../src/charts/options/live';
import { buildSparklineOption, sparklineMax, sparklineSpan } from '../src/charts/options/sparkline';
import type { ChartOption } from '../src/charts/options/types';
import { hzToBin } from '../src/lib/axes';
import { melHz } from './helpers';

use([...CHART_PARTS, SVGRenderer]);

/** Renders an option server-side (ECharts SSR, SVG): proves ECharts accepts it. */
function render(option: ChartOption, update?: ChartOption): string {
  const chart = init(null, undefined, { renderer: 'svg', ssr: true, width: 900, height: 500 });
  chart.setOption(option);
  if (update) chart.setOption(update);
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

const T = Date.UTC(2025, 0, 1, 12, 0, 0);
const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

describe('layout', () => {
  it('stacks grids inside the height with gaps, in order', () => {
    const grids = stackGrids(500, [2, 1], { top: 10, bottom: 30, gap: 10 });
    expect(grids).toHaveLength(2);
    expect(grids[1].top).toBe(grids[0].top + grids[0].height + 10);
    expect(grids[1].top + grids[1].height).toBeLessThanOrEqual(500 - 30);
    expect(grids[0].height).toBeGreaterThan(grids[1].height);
    expect(liveLayout(600, true)).toHaveLength(3);
    expect(liveLayout(600, false)).toHaveLength(2);
  });
});

describe('sparkline option', () => {
  it('keeps the threshold in view and draws every point', () => {
    expect(sparklineMax([])).toBe(1.5);
    expect(sparklineMax([[0, 3]])).toBe(3.3);
    const points: [number, number][] = Array.from({ length: 50 }, (_, i) => [T - 50_000 + i * 1000, i / 25]);
    const option = buildSparklineOption({ points, now: T, spanMs: 300_000, alerting: true });
    const series = asArray(option.series)[0] as { data: unknown[]; markLine: { data: unknown[] } };
    expect(series.data).toHaveLength(50);
    expect(series.markLine.data).toEqual([{ yAxis: 1 }]);
    expect(render(option)).toContain('<path');
  });

  it('spans the history held, from one to five minutes', () => {
    const at = (ago: number): [number, number] => [T - ago, 1];
    expect(sparklineSpan([], T, 300_000)).toBe(60_000);
    expect(sparklineSpan([at(20_000), at(0)], T, 300_000)).toBe(60_000);
    expect(sparklineSpan([at(150_000), at(0)], T, 300_000)).toBe(150_000);
    expect(sparklineSpan([at(400_000), at(0)], T, 300_000)).toBe(300_000);
  });
});

describe('live chart option', () => {
  const hz = melHz(64);

  it('labels the frequency axis in Hz at mel-spaced positions', () => {
    const axis = frequencyAxis(hz, 0, 'spectrogram');
    expect(axis.max).toBe(64);
    const values = axis.axisLabel.customValues;
    expect(values.length).toBeGreaterThan(3);
    expect(axis.axisLabel.formatter(hzToBin(hz, 1000))).toBe('1 kHz');
  });

  it('aligns the spectrogram grid(s) and the score grid on one time range, and renders', () => {
    for (const split of [false, true]) {
      const grids = liveLayout(500, split);
      const option = buildLiveOption({ grids, melHz: hz, split });
      expect(asArray(option.grid)).toHaveLength(grids.length);
      expect(asArray(option.xAxis)).toHaveLength(grids.length);
      const frame = buildLiveFrame({
        from: T - 30_000,
        to: T,
        scores: [
          [T - 20_000, 0.5],
          [T - 10_000, 1.4],
        ],
        regions: [{ start: T - 12_000, end: T - 8_000, state: 'open' }],
        grids: grids.length,
      });
      const ranges = asArray(frame.xAxis) as { min: number; max: number }[];
      expect(ranges.every((r) => r.min === T - 30_000 && r.max === T)).toBe(true);
      const svg = render(option, frame);
      expect(svg).toContain('1 kHz');
      expect(svg).toContain('threshold');
    }
  });

  it('clips alert regions to the visible range and marks them on every grid', () => {
    const frame = buildLiveFrame({
      from: 1000,
      to: 2000,
      scores: [],
      regions: [
        { start: 500, end: 1500, state: 'open' },
        { start: 100, end: 200, state: 'resolved' },
      ],
      grids: 3,
    });
    const series = asArray(frame.series) as {
      id: string;
      markArea: { data: [{ xAxis: number }, { xAxis: number }][] };
    }[];
    expect(series.map((s) => s.id)).toEqual(['regions-0', 'regions-1', 'score']);
    for (const s of series) {
      expect(s.markArea.data).toHaveLength(1);
      expect(s.markArea.data[0][0].xAxis).toBe(1000);
      expect(s.markArea.data[0][1].xAxis).toBe(1500);
    }
  });
});

describe('alert spectrogram option', () => {
  const hz = melHz(64);
  const box = { t0: T + 1000, t1: T + 2000, fLow: 500, fHigh: 2000, score: 2.5 };

  it('draws boxes in axis coordinates on both grids and renders', () => {
    const [[x0, y0], [x1, y1]] = boxCoords(box, hz);
    expect([x0, x1]).toEqual([T + 1000, T + 2000]);
    expect(y0).toBeCloseTo(hzToBin(hz, 500));
    expect(y1).toBeGreaterThan(y0);
    const grids = stackGrids(400, [0.55, 0.45]);
    const option = buildAlertOption({
      grids,
      melHz: hz,
      from: T - 2000,
      to: T + 5000,
      boxes: [box],
      start: T,
      end: T + 3000,
    });
    const series = asArray(option.series) as { markArea: { data: unknown[] } }[];
    expect(series).toHaveLength(2);
    expect(series[0].markArea.data).toHaveLength(2);
    expect(render(option)).toContain('#1 2.5x');
  });
});
