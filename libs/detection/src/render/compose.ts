import { blend, heatmap, type ColourScale, type Grid, type RgbaImage } from './heatmap.js';
import { MAGMA_RGB } from './magma.js';

/** Greyscale as 256 RGB triplets, black (0) to white (255): the background of overlays. */
export const GREY_RGB = Uint8Array.from({ length: 768 }, (_, i) => Math.floor(i / 3));

/** Enlarges an image by whole factors, nearest neighbour (crisp cells, no smoothing of the data). */
export function upscale(image: RgbaImage, sx: number, sy: number): RgbaImage {
  if (!Number.isInteger(sx) || !Number.isInteger(sy) || sx < 1 || sy < 1) {
    throw new RangeError(`upscale: factors (${sx}, ${sy}) must be integers >= 1`);
  }
  if (sx === 1 && sy === 1) return image;
  const width = image.width * sx;
  const height = image.height * sy;
  const data = new Uint8Array(width * height * 4);
  const bytes = image.data.byteOffset % 4 === 0 ? image.data : image.data.slice(); // Uint32Array needs alignment
  const src = new Uint32Array(bytes.buffer, bytes.byteOffset, image.width * image.height);
  const dst = new Uint32Array(data.buffer);
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / sy) * image.width;
    for (let x = 0; x < width; x++) dst[y * width + x] = src[row + Math.floor(x / sx)];
  }
  return { width, height, data };
}

/** Whole factors that make `[width, height]` at least `[minWidth, minHeight]`, each at most `maxFactor`. */
export function readableScale(
  width: number,
  height: number,
  minWidth = 640,
  minHeight = 256,
  maxFactor = 8,
): [number, number] {
  const f = (have: number, want: number) =>
    Math.min(maxFactor, Math.max(1, Math.ceil(want / Math.max(1, have))));
  return [f(width, minWidth), f(height, minHeight)];
}

export interface OverlayOptions {
  /** Scale of the spectrogram, drawn in `GREY_RGB` unless a colormap is given. */
  spectrogramScale: ColourScale;
  /** Scale of the anomaly map, drawn in `MAGMA_RGB` unless a colormap is given. */
  anomalyScale: ColourScale;
  /** Anomaly values at or below this are invisible... */
  alphaFrom: number;
  /** ...and at or above this drawn at `maxAlpha`, linearly in between. */
  alphaTo: number;
  /** Opacity of the strongest anomaly (default 0.85), so the spectrogram stays visible beneath. */
  maxAlpha?: number;
}

/**
 * An anomaly map over its spectrogram: the spectrogram in grey, the map in magma with an opacity that rises
 * from `alphaFrom` to `alphaTo`, so quiet regions show the plain spectrogram and anomalous ones glow. Both
 * grids must have the same shape. Greyscale under magma stays readable with every common colour-vision
 * deficiency (magma is perceptually uniform and monotonic in lightness).
 */
export function overlay(spectrogram: Grid, anomaly: Grid, options: OverlayOptions): RgbaImage {
  if (spectrogram.rows !== anomaly.rows || spectrogram.cols !== anomaly.cols) {
    throw new RangeError(
      `overlay: spectrogram is ${spectrogram.rows}x${spectrogram.cols} but the anomaly map is ${anomaly.rows}x${anomaly.cols}`,
    );
  }
  if (!(options.alphaTo > options.alphaFrom)) {
    throw new RangeError(`overlay: alphaTo (${options.alphaTo}) must be > alphaFrom (${options.alphaFrom})`);
  }
  const base = heatmap(spectrogram, { colormap: GREY_RGB, ...options.spectrogramScale });
  const top = heatmap(anomaly, { colormap: MAGMA_RGB, ...options.anomalyScale });
  const { rows, cols } = anomaly;
  const maxAlpha = options.maxAlpha ?? 0.85;
  const span = options.alphaTo - options.alphaFrom;
  const alpha = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const y = rows - 1 - r; // heatmap puts row 0 at the bottom
    for (let c = 0; c < cols; c++) {
      const v = (anomaly.data[r * cols + c] - options.alphaFrom) / span;
      alpha[y * cols + c] = maxAlpha * Math.min(1, Math.max(0, Number.isNaN(v) ? 0 : v));
    }
  }
  return blend(base, top, alpha);
}
