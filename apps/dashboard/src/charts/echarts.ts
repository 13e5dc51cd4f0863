/** The ECharts parts the dashboard uses, registered once (tree-shaken: nothing else is bundled). */
import { LineChart } from 'echarts/charts';
import {
  AriaComponent,
  GridComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TooltipComponent,
} from 'echarts/components';
import { init, use, type EChartsType } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

/** The chart and components, without a renderer (the tests render the same parts with SVG). */
export const CHART_PARTS = [
  LineChart,
  GridComponent,
  MarkLineComponent,
  MarkAreaComponent,
  TooltipComponent,
  AriaComponent,
];

use([...CHART_PARTS, CanvasRenderer]);

export { init };
export type { EChartsType };
