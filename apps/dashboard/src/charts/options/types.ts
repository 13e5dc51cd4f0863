import type { LineSeriesOption } from 'echarts/charts';
import type {
  AriaComponentOption,
  GridComponentOption,
  MarkAreaComponentOption,
  MarkLineComponentOption,
  TooltipComponentOption,
} from 'echarts/components';
import type { ComposeOption } from 'echarts/core';
import type { AlertState } from '../../lib/contracts';

/** The option type of exactly the parts registered in `charts/echarts.ts`. */
export type ChartOption = ComposeOption<
  | LineSeriesOption
  | GridComponentOption
  | MarkLineComponentOption
  | MarkAreaComponentOption
  | TooltipComponentOption
  | AriaComponentOption
>;

/** A time span drawn as a marked region (alerts). */
export interface Region {
  start: number;
  end: number;
  /** Open alerts are drawn stronger than acknowledged or resolved ones. */
  state: AlertState;
  id?: number;
}
