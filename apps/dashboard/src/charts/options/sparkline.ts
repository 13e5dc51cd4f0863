/** The overview tile's sparkline: the last minutes of normalised score against the threshold (1.0). */
import { palette } from '../theme';
import type { ChartOption } from './types';

export interface SparklineInput {
  points: [number, number][];
  now: number;
  spanMs: number;
  /** Draw the line in the alert colour (the tile is alerting). */
  alerting?: boolean;
  label?: string;
}

/** The y range: the threshold always visible with some room above it, and every point inside. */
export function sparklineMax(points: readonly [number, number][]): number {
  let max = 1.5;
  for (const [, s] of points) if (s * 1.1 > max) max = s * 1.1;
  return Math.ceil(max * 10) / 10;
}

/**
 * The time span shown: the history held, between `minMs` and `maxMs`. A sensor that started streaming a
 * minute ago fills its tile instead of drawing a sliver at the right of five empty minutes.
 */
export function sparklineSpan(
  points: readonly [number, number][],
  now: number,
  maxMs: number,
  minMs = 60_000,
): number {
  const held = points.length > 0 ? now - points[0][0] : 0;
  return Math.min(maxMs, Math.max(minMs, held));
}

export function buildSparklineOption(input: SparklineInput): ChartOption {
  const { points, now, spanMs, alerting = false } = input;
  return {
    animation: false,
    aria: {
      enabled: true,
      label: { description: input.label ?? 'anomaly score of the last minutes against its threshold' },
    },
    grid: { left: 2, right: 2, top: 4, bottom: 2 },
    xAxis: { type: 'time', min: now - spanMs, max: now, show: false },
    yAxis: { type: 'value', min: 0, max: sparklineMax(points), show: false },
    series: [
      {
        id: 'score',
        type: 'line',
        data: points,
        showSymbol: false,
        silent: true,
        lineStyle: { width: 1.5, color: alerting ? palette.alert : palette.score },
        areaStyle: { color: alerting ? palette.alertFill : 'rgba(86, 180, 233, 0.12)' },
        markLine: {
          silent: true,
          symbol: 'none',
          label: { show: false },
          lineStyle: { color: palette.threshold, type: 'dashed', width: 1 },
          data: [{ yAxis: 1 }],
        },
      },
    ],
  };
}
