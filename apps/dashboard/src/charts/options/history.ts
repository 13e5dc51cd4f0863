/**
 * The history view's chart: axes over the spectrogram and anomaly map canvases, the score line against its
 * threshold, and the alerts of the range marked on every grid, all over one time range (the view), with
 * time labels in the viewer's time zone. The canvases are painted by the component.
 */
import { formatClock } from '../../lib/axes';
import { palette } from '../theme';
import type { GridRect } from './layout';
import { frequencyAxis, regionMarkArea, thresholdMarkLine } from './live';
import type { ChartOption, Region } from './types';

export interface HistoryChartInput {
  grids: GridRect[];
  from: number;
  to: number;
  nMels: number;
  /** Centre frequency (Hz) of each band (`SensorHistory.melHz`); empty: the axis counts mel bands. */
  melHz?: readonly number[];
  scores: [number, number][];
  regions: readonly Region[];
  fontSize?: number;
}

/** Day and clock when the view spans more than a day, else the clock. */
export function historyTimeLabel(t: number, span: number): string {
  if (span <= 24 * 3600_000) return formatClock(t);
  const d = new Date(t);
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** Mel band numbers, for columns whose band frequencies the server did not know. */
function bandAxis(gridIndex: number, nMels: number, name: string, fontSize: number) {
  return {
    type: 'value' as const,
    gridIndex,
    min: 0,
    max: Math.max(1, nMels),
    name,
    nameLocation: 'middle' as const,
    nameGap: 40,
    nameTextStyle: { color: palette.muted, fontSize },
    splitNumber: 2,
    axisLine: { show: true, lineStyle: { color: palette.axis } },
    splitLine: { show: false },
    axisLabel: { color: palette.text, fontSize },
  };
}

export function buildHistoryOption(input: HistoryChartInput): ChartOption {
  const { grids, from, to, nMels, melHz = [], scores, regions, fontSize = 12 } = input;
  // In Hz as the live view, where the band centres are known.
  const inHz = nMels > 0 && melHz.length === nMels;
  const spectrumAxis = (i: number, name: string) =>
    inHz ? frequencyAxis(melHz, i, name, fontSize) : bandAxis(i, nMels, `${name} (mel band)`, fontSize);
  const span = to - from;
  const clipped = regions
    .filter((r) => r.end >= from && r.start <= to)
    .map((r) => ({ ...r, start: Math.max(r.start, from), end: Math.min(r.end, to) }));
  const peak = scores.reduce((m, [, s]) => Math.max(m, s), 0);
  return {
    animation: false,
    aria: {
      enabled: true,
      label: {
        description: 'stored spectrogram, anomaly map and score of the chosen time range, alerts marked',
      },
    },
    textStyle: { fontSize },
    grid: grids.map((g) => ({ left: g.left, right: g.right, top: g.top, height: g.height })),
    xAxis: grids.map((_, i) => ({
      type: 'time' as const,
      gridIndex: i,
      min: from,
      max: to,
      axisLine: { lineStyle: { color: palette.axis } },
      splitLine: { show: false },
      axisTick: { show: i === grids.length - 1 },
      axisLabel: {
        show: i === grids.length - 1,
        color: palette.text,
        fontSize,
        hideOverlap: true,
        formatter: (v: number) => historyTimeLabel(v, span),
      },
    })),
    yAxis: [
      spectrumAxis(0, 'spectrogram'),
      spectrumAxis(1, 'anomaly'),
      {
        type: 'value' as const,
        gridIndex: 2,
        min: 0,
        max: Math.max(1.5, Math.ceil(peak * 11) / 10),
        name: 'score',
        nameLocation: 'middle' as const,
        nameGap: 40,
        nameTextStyle: { color: palette.muted, fontSize },
        splitNumber: 3,
        axisLine: { show: true, lineStyle: { color: palette.axis } },
        splitLine: { lineStyle: { color: palette.grid } },
        axisLabel: { color: palette.text, fontSize, formatter: (v: number) => v.toFixed(1) },
      },
    ],
    series: [
      ...[0, 1].map((i) => ({
        id: `regions-${i}`,
        type: 'line' as const,
        xAxisIndex: i,
        yAxisIndex: i,
        data: [] as [number, number][],
        silent: true,
        markArea: regionMarkArea(clipped, false),
      })),
      {
        id: 'score',
        name: 'score',
        type: 'line',
        xAxisIndex: 2,
        yAxisIndex: 2,
        data: scores,
        showSymbol: false,
        lineStyle: { width: 1.2, color: palette.score },
        itemStyle: { color: palette.score },
        markLine: thresholdMarkLine(fontSize, 1.2),
        markArea: regionMarkArea(clipped, true),
      },
    ],
  };
}
