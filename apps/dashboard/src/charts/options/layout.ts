/**
 * Pixel layout of stacked, time-aligned grids. The canvases of the spectrogram and anomaly map are placed
 * under the ECharts grids with the same numbers, so both must come from here.
 */

export interface GridRect {
  left: number;
  right: number;
  top: number;
  height: number;
}

export interface StackOptions {
  left?: number;
  right?: number;
  top?: number;
  /** Room under the last grid for the time labels. */
  bottom?: number;
  gap?: number;
}

/** Splits `height` into grids of the given relative weights, top to bottom. */
export function stackGrids(height: number, weights: readonly number[], opts: StackOptions = {}): GridRect[] {
  const { left = 72, right = 20, top = 10, bottom = 30, gap = 12 } = opts;
  const total = weights.reduce((a, b) => a + b, 0);
  const avail = Math.max(weights.length * 20, height - top - bottom - gap * (weights.length - 1));
  const rects: GridRect[] = [];
  let y = top;
  for (const w of weights) {
    const h = Math.max(20, Math.floor((avail * w) / total));
    rects.push({ left, right, top: y, height: h });
    y += h + gap;
  }
  return rects;
}

/** The live sensor view: spectrogram (+ anomaly heatmap when split) over the score line. */
export function liveLayout(height: number, split: boolean, opts: StackOptions = {}): GridRect[] {
  return stackGrids(height, split ? [0.46, 0.3, 0.24] : [0.72, 0.28], opts);
}

/** CSS box of a grid inside its chart container. */
export function gridStyle(rect: GridRect): Record<string, string> {
  return {
    left: `${rect.left}px`,
    right: `${rect.right}px`,
    top: `${rect.top}px`,
    height: `${rect.height}px`,
    width: `calc(100% - ${rect.left + rect.right}px)`,
  };
}
