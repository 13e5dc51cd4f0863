/**
 * The alert page's chart: axes over the clip's spectrogram and anomaly map canvases (two aligned grids),
 * the alert's time-frequency boxes as rectangles on both, and the alert span.
 */
import { hzToBin } from '../../lib/axes';
import type { AlertBox } from '../../lib/contracts';
import { palette } from '../theme';
import type { GridRect } from './layout';
import { frequencyAxis, pair } from './live';
import type { ChartOption } from './types';

export interface AlertChartInput {
  grids: GridRect[];
  melHz: readonly number[];
  /** Time range of the clip (ms). */
  from: number;
  to: number;
  boxes: readonly AlertBox[];
  /** The alert's own span (ms); `end` null while active. */
  start: number;
  end: number | null;
  fontSize?: number;
}

/** A box in axis coordinates: `[[t0, lowBin], [t1, highBin]]`. */
export function boxCoords(box: AlertBox, melHz: readonly number[]): [[number, number], [number, number]] {
  return [
    [box.t0, hzToBin(melHz, box.fLow)],
    [box.t1, hzToBin(melHz, box.fHigh)],
  ];
}

export function buildAlertOption(input: AlertChartInput): ChartOption {
  const { grids, melHz, from, to, boxes, start, end, fontSize = 12 } = input;
  const boxArea = {
    silent: false,
    label: { show: true, position: 'insideTopLeft' as const, color: palette.box, fontSize, formatter: '{b}' },
    data: boxes.map((b, i) => {
      const [[x0, y0], [x1, y1]] = boxCoords(b, melHz);
      return pair(
        {
          name: `#${i + 1} ${b.score.toFixed(1)}x`,
          coord: [x0, y0],
          itemStyle: { color: 'rgba(0,0,0,0)', borderColor: palette.box, borderWidth: 2 },
        },
        { coord: [x1, y1] },
      );
    }),
  };
  const span = {
    silent: true,
    data: [
      pair(
        {
          xAxis: start,
          itemStyle: {
            color: 'rgba(0,0,0,0)',
            borderColor: palette.alert,
            borderWidth: 1,
            borderType: 'dashed' as const,
          },
        },
        { xAxis: end ?? to },
      ),
    ],
  };
  return {
    animation: false,
    aria: {
      enabled: true,
      label: {
        description: 'the alert clip: spectrogram above, anomaly map below, boxes where it is anomalous',
      },
    },
    grid: grids.map((g) => ({ left: g.left, right: g.right, top: g.top, height: g.height })),
    xAxis: grids.map((_, i) => ({
      type: 'time' as const,
      gridIndex: i,
      min: from,
      max: to,
      axisLine: { lineStyle: { color: palette.axis } },
      splitLine: { show: false },
      axisLabel: { show: i === grids.length - 1, color: palette.text, fontSize, hideOverlap: true },
    })),
    yAxis: grids.map((_, i) => frequencyAxis(melHz, i, i === 0 ? 'spectrogram' : 'anomaly', fontSize)),
    series: grids.map((_, i) => ({
      id: `marks-${i}`,
      type: 'line' as const,
      xAxisIndex: i,
      yAxisIndex: i,
      data: [] as [number, number][],
      markArea: { ...boxArea, data: [...boxArea.data, ...span.data] },
    })),
  };
}
