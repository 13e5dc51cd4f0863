/**
 * The sensor view's chart: axes over the live spectrogram canvas (and the anomaly heatmap canvas in split
 * mode), and the score line with its threshold below, all sharing one wall-clock time range. Alert regions
 * are marked on every grid. The canvases themselves are drawn by the component; this option only carries
 * axes, the score and the marks, so a frame update is `xAxis` ranges + the score series + the regions.
 */
import { binToHz, formatClock, melTicks } from '../../lib/axes';
import { palette } from '../theme';
import type { GridRect } from './layout';
import type { MarkLineComponentOption } from 'echarts/components';
import type { ChartOption, Region } from './types';

export interface LiveChartInput {
  grids: GridRect[];
  /** Mel bin centre frequencies; empty until the first columns arrive. */
  melHz: readonly number[];
  split: boolean;
  fontSize?: number;
}

export interface LiveFrameInput {
  from: number;
  to: number;
  scores: [number, number][];
  regions: readonly Region[];
  grids: number;
}

/** The frequency axis of a spectrogram grid: bin positions labelled in Hz at round frequencies. */
export function frequencyAxis(melHz: readonly number[], gridIndex: number, name: string, fontSize = 12) {
  const ticks = melTicks(melHz, Math.max(3, melHz.length / 10));
  const values = ticks.map((t) => t.value);
  const labels = new Map(ticks.map((t) => [t.value, t.label]));
  return {
    type: 'value' as const,
    gridIndex,
    min: 0,
    max: Math.max(1, melHz.length),
    name,
    nameLocation: 'middle' as const,
    nameGap: 56,
    nameTextStyle: { color: palette.muted, fontSize },
    axisLine: { show: true, lineStyle: { color: palette.axis } },
    splitLine: { show: false },
    axisTick: { show: true, customValues: values },
    axisLabel: {
      color: palette.text,
      fontSize,
      customValues: values,
      formatter: (v: number) => labels.get(v) ?? `${Math.round(binToHz(melHz, v))} Hz`,
    },
  };
}

function timeAxis(gridIndex: number, showLabels: boolean, fontSize: number) {
  return {
    type: 'time' as const,
    gridIndex,
    axisLine: { lineStyle: { color: palette.axis } },
    splitLine: { show: false },
    axisTick: { show: showLabels },
    axisLabel: {
      show: showLabels,
      color: palette.text,
      fontSize,
      hideOverlap: true,
      showMinLabel: false,
      showMaxLabel: false,
      formatter: (v: number) => formatClock(v),
    },
  };
}

/** A two-point markArea item (a tuple, as ECharts' types want). */
export const pair = <A, B>(a: A, b: B): [A, B] => [a, b];

/** The dashed line at the threshold (a normalised score of 1) on a score axis, labelled. */
export function thresholdMarkLine(fontSize: number, width: number): MarkLineComponentOption {
  return {
    silent: true,
    symbol: 'none',
    label: {
      show: true,
      formatter: 'threshold',
      color: palette.threshold,
      position: 'insideEndTop',
      fontSize,
    },
    lineStyle: { color: palette.threshold, type: 'dashed', width },
    data: [{ yAxis: 1 }],
  };
}

/** Alert regions as a markArea: open alerts filled, others outlined only. */
export function regionMarkArea(regions: readonly Region[], filled: boolean) {
  return {
    silent: true,
    data: regions.map((r) =>
      pair(
        {
          xAxis: r.start,
          itemStyle: {
            color: filled
              ? r.state === 'open'
                ? palette.alertFill
                : 'rgba(204, 121, 167, 0.14)'
              : 'rgba(0,0,0,0)',
            borderColor: r.state === 'open' ? palette.alert : palette.acknowledged,
            borderWidth: filled ? 0 : 2,
            borderType: 'dashed' as const,
          },
        },
        { xAxis: r.end },
      ),
    ),
  };
}

/** The score's y axis: from 0 to at least 1.5 (the threshold 1 always in view), a tenth above the peak. */
function scoreAxis(gridIndex: number, fontSize: number) {
  return {
    type: 'value' as const,
    gridIndex,
    min: 0,
    max: (v: { max: number }) => Math.max(1.5, Math.ceil(v.max * 11) / 10),
    name: 'score',
    nameLocation: 'middle' as const,
    nameGap: 56,
    nameTextStyle: { color: palette.muted, fontSize },
    splitNumber: 3,
    axisLine: { show: true, lineStyle: { color: palette.axis } },
    splitLine: { lineStyle: { color: palette.grid } },
    axisLabel: { color: palette.text, fontSize, formatter: (v: number) => v.toFixed(1) },
  };
}

/** The whole option (on mount, on resize, when the mel axis or the display mode changes). */
export function buildLiveOption(input: LiveChartInput): ChartOption {
  const { grids, melHz, split, fontSize = 12 } = input;
  const specGrids = split ? 2 : 1;
  const scoreGrid = specGrids;
  const xAxis = grids.map((_, i) => timeAxis(i, i === scoreGrid, fontSize));
  const yAxis = [
    frequencyAxis(melHz, 0, split ? 'spectrogram' : 'spectrogram + anomaly', fontSize),
    ...(split ? [frequencyAxis(melHz, 1, 'anomaly', fontSize)] : []),
    scoreAxis(scoreGrid, fontSize),
  ];
  const markSeries = Array.from({ length: specGrids }, (_, i) => ({
    id: `regions-${i}`,
    type: 'line' as const,
    xAxisIndex: i,
    yAxisIndex: i,
    data: [] as [number, number][],
    silent: true,
    markArea: regionMarkArea([], false),
  }));
  return {
    animation: false,
    aria: {
      enabled: true,
      label: {
        description: 'live spectrogram with the anomaly map, and the anomaly score against its threshold',
      },
    },
    textStyle: { fontSize },
    grid: grids.map((g) => ({
      left: g.left,
      right: g.right,
      top: g.top,
      height: g.height,
      containLabel: false,
    })),
    tooltip: { trigger: 'axis', axisPointer: { type: 'line', link: [{ xAxisIndex: 'all' }] }, show: true },
    xAxis,
    yAxis,
    series: [
      ...markSeries,
      {
        id: 'score',
        name: 'score',
        type: 'line',
        xAxisIndex: scoreGrid,
        yAxisIndex: scoreGrid,
        data: [],
        showSymbol: false,
        sampling: 'lttb',
        lineStyle: { width: 1.5, color: palette.score },
        itemStyle: { color: palette.score },
        markLine: thresholdMarkLine(fontSize, 1.5),
        markArea: regionMarkArea([], true),
      },
    ],
  };
}

/** The per-frame update: merged by component index and series id (no full re-render). */
export function buildLiveFrame(input: LiveFrameInput): ChartOption {
  const { from, to, scores, regions, grids } = input;
  const clipped = regions
    .filter((r) => r.end >= from && r.start <= to)
    .map((r) => ({ ...r, start: Math.max(r.start, from), end: Math.min(r.end, to) }));
  const specGrids = grids - 1;
  return {
    xAxis: Array.from({ length: grids }, () => ({ min: from, max: to })),
    series: [
      ...Array.from({ length: specGrids }, (_, i) => ({
        id: `regions-${i}`,
        markArea: regionMarkArea(clipped, false),
      })),
      { id: 'score', data: scores, markArea: regionMarkArea(clipped, true) },
    ],
  };
}
