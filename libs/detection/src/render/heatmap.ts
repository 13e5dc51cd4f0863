import { MAGMA_RGB } from './magma.js';

/**
 * A matrix to draw, `[rows, cols]` row-major: for a spectrogram rows are mel bands (row 0 = lowest
 * frequency) and columns are frames, i.e. the `{ nMels, nFrames, data }` layout of `@hark/dsp`.
 */
export interface Grid {
  rows: number;
  cols: number;
  data: ArrayLike<number>;
}

/** An 8-bit RGBA image, row 0 at the top (PNG order). */
export interface RgbaImage {
  width: number;
  height: number;
  /** `[height, width, 4]` bytes. */
  data: Uint8Array;
}

export interface ColourScale {
  /** Value drawn with the first colour (and everything below it). */
  vmin: number;
  /** Value drawn with the last colour (and everything above it). */
  vmax: number;
  /** 256 RGB triplets; default magma. */
  colormap?: Uint8Array;
}

/**
 * The colour scale librosa's `specshow` would use for dB data: the top `topDb` decibels below the maximum
 * (or the full range when it is smaller). Non-finite values are ignored.
 */
export function dbScale(data: ArrayLike<number>, topDb = 80): ColourScale {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi === -Infinity) return { vmin: 0, vmax: 1 };
  const vmin = Math.max(lo, hi - topDb);
  return { vmin, vmax: hi > vmin ? hi : vmin + 1 };
}

/**
 * Draws `grid` one pixel per cell: column c at x = c, row r at y = rows - 1 - r, so row 0 (the lowest
 * frequency) is at the bottom as on every spectrogram plot. Image width = cols, height = rows.
 */
export function heatmap(grid: Grid, scale: ColourScale): RgbaImage {
  const { rows, cols } = grid;
  const lut = scale.colormap ?? MAGMA_RGB;
  const levels = lut.length / 3 - 1;
  const span = scale.vmax - scale.vmin;
  const data = new Uint8Array(rows * cols * 4);
  for (let r = 0; r < rows; r++) {
    const y = rows - 1 - r;
    for (let c = 0; c < cols; c++) {
      const v = (grid.data[r * cols + c] - scale.vmin) / span;
      const i = 3 * Math.round(levels * Math.min(1, Math.max(0, Number.isNaN(v) ? 0 : v)));
      const at = 4 * (y * cols + c);
      data[at] = lut[i];
      data[at + 1] = lut[i + 1];
      data[at + 2] = lut[i + 2];
      data[at + 3] = 255;
    }
  }
  return { width: cols, height: rows, data };
}

/**
 * Alpha-blends `top` over `base` in place (same size), weighting each pixel by `alpha[y * width + x]` in
 * [0, 1] times top's own alpha: the primitive for drawing an anomaly map over a spectrogram.
 */
export function blend(base: RgbaImage, top: RgbaImage, alpha: ArrayLike<number> | number = 1): RgbaImage {
  if (base.width !== top.width || base.height !== top.height) {
    throw new RangeError(
      `blend: images differ in size (${base.width}x${base.height} vs ${top.width}x${top.height})`,
    );
  }
  for (let p = 0; p < base.width * base.height; p++) {
    const a = (typeof alpha === 'number' ? alpha : alpha[p]) * (top.data[4 * p + 3] / 255);
    for (let ch = 0; ch < 3; ch++)
      base.data[4 * p + ch] = Math.round(base.data[4 * p + ch] * (1 - a) + top.data[4 * p + ch] * a);
  }
  return base;
}
