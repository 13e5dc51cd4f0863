/**
 * A sensor's trend: daily percentiles of its normalised score (median, 90th, 99th, max) against the threshold
 * over the last weeks, and the alerts started per day under them. A machine drifting toward its threshold
 * shows as the upper percentiles climbing toward 1 on days without alerts yet.
 */
import type { TrendDay } from '../../lib/contracts';
import { palette } from '../theme';
import { thresholdMarkLine } from './live';
import type { ChartOption } from './types';

const DAY_MS = 24 * 3600_000;

export interface TrendsChartInput {
  days: readonly TrendDay[];
  fontSize?: number;
}

const dayLabel = (t: number) =>
  new Date(t).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });

export function buildTrendsOption(input: TrendsChartInput): ChartOption {
  const { days, fontSize = 12 } = input;
  // Each day drawn at its middle, so a point sits over its day's label.
  const at = (d: TrendDay) => d.day + DAY_MS / 2;
  const line = (key: 'p50' | 'p90' | 'p99' | 'max', name: string, color: string, dashed = false) => ({
    id: key,
    name,
    type: 'line' as const,
    xAxisIndex: 0,
    yAxisIndex: 0,
    data: days.map((d) => [at(d), d[key]] as [number, number | null]),
    connectNulls: false,
    showSymbol: true,
    symbolSize: 4,
    lineStyle: { width: 1.5, color, type: dashed ? ('dashed' as const) : ('solid' as const) },
    itemStyle: { color },
  });
  const peak = days.reduce((m, d) => Math.max(m, d.max ?? 0), 0);
  const from = days.length ? days[0].day : 0;
  const to = days.length ? days[days.length - 1].day + DAY_MS : DAY_MS;
  const xAxis = (gridIndex: number, labels: boolean) => ({
    type: 'time' as const,
    gridIndex,
    min: from,
    max: to,
    axisLine: { lineStyle: { color: palette.axis } },
    splitLine: { show: false },
    axisLabel: { show: labels, color: palette.text, fontSize, hideOverlap: true, formatter: dayLabel },
  });
  return {
    animation: false,
    aria: {
      enabled: true,
      label: {
        description: 'daily percentiles of the anomaly score against the threshold, and alerts per day',
      },
    },
    textStyle: { fontSize },
    tooltip: { trigger: 'axis', show: true },
    grid: [
      { left: 60, right: 20, top: 10, bottom: '38%' },
      { left: 60, right: 20, top: '70%', bottom: 26 },
    ],
    xAxis: [xAxis(0, false), xAxis(1, true)],
    yAxis: [
      {
        type: 'value' as const,
        gridIndex: 0,
        min: 0,
        max: Math.max(1.2, Math.ceil(peak * 11) / 10),
        name: 'score',
        nameLocation: 'middle' as const,
        nameGap: 40,
        nameTextStyle: { color: palette.muted, fontSize },
        splitNumber: 3,
        axisLine: { show: true, lineStyle: { color: palette.axis } },
        splitLine: { lineStyle: { color: palette.grid } },
        axisLabel: { color: palette.text, fontSize, formatter: (v: number) => v.toFixed(1) },
      },
      {
        type: 'value' as const,
        gridIndex: 1,
        min: 0,
        minInterval: 1,
        name: 'alerts',
        nameLocation: 'middle' as const,
        nameGap: 40,
        nameTextStyle: { color: palette.muted, fontSize },
        splitNumber: 2,
        axisLine: { show: true, lineStyle: { color: palette.axis } },
        splitLine: { lineStyle: { color: palette.grid } },
        axisLabel: { color: palette.text, fontSize },
      },
    ],
    series: [
      line('p50', 'median', palette.ok),
      line('p90', '90th percentile', palette.score),
      {
        ...line('p99', '99th percentile', palette.acknowledged),
        markLine: thresholdMarkLine(fontSize, 1.2),
      },
      line('max', 'max', palette.muted, true),
      {
        id: 'alerts',
        name: 'alerts',
        type: 'line' as const,
        xAxisIndex: 1,
        yAxisIndex: 1,
        step: 'middle' as const,
        data: days.map((d) => [at(d), d.alerts] as [number, number]),
        showSymbol: false,
        lineStyle: { width: 1, color: palette.alert },
        areaStyle: { color: palette.alertFill },
      },
    ],
  };
}
