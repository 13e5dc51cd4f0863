/**
 * Byte -> RGBA look-up tables for the quantised spectrogram and anomaly bytes. The maps are perceptually
 * ordered and readable with the common colour-vision deficiencies: cividis (blue -> yellow, designed for
 * deuteranopia / protanopia) or grey for the spectrogram, magma for the anomaly map.
 *
 * A LUT is a `Uint32Array(256)` of pixels in the platform's byte order, ready to be written into an
 * `ImageData` through a `Uint32Array` view, so painting a column is one look-up per pixel.
 */

export type SpectrogramMap = 'cividis' | 'grey';

/** Control points (r, g, b at evenly spaced positions) sampled from matplotlib's maps. */
const CIVIDIS: readonly (readonly [number, number, number])[] = [
  [0, 32, 76],
  [0, 42, 102],
  [0, 52, 110],
  [39, 63, 108],
  [60, 74, 107],
  [76, 85, 107],
  [91, 95, 109],
  [104, 106, 112],
  [117, 117, 117],
  [131, 129, 120],
  [146, 140, 120],
  [161, 152, 118],
  [176, 165, 114],
  [192, 177, 109],
  [209, 191, 102],
  [225, 204, 92],
  [243, 219, 79],
  [255, 233, 69],
];

const MAGMA: readonly (readonly [number, number, number])[] = [
  [0, 0, 4],
  [28, 16, 68],
  [79, 18, 123],
  [129, 37, 129],
  [181, 54, 122],
  [229, 80, 100],
  [251, 135, 97],
  [254, 194, 135],
  [252, 253, 191],
];

/** Whether `Uint32Array` views write pixels as ABGR (little-endian, every browser we target) or RGBA. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Packs one pixel for a `Uint32Array` view over `ImageData.data`. */
export function packRgba(r: number, g: number, b: number, a: number, littleEndian = LITTLE_ENDIAN): number {
  return littleEndian
    ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0
    : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
}

/** Unpacks a LUT entry back to `[r, g, b, a]` (tests, CSS legends). */
export function unpackRgba(pixel: number, littleEndian = LITTLE_ENDIAN): [number, number, number, number] {
  return littleEndian
    ? [pixel & 255, (pixel >>> 8) & 255, (pixel >>> 16) & 255, pixel >>> 24]
    : [pixel >>> 24, (pixel >>> 16) & 255, (pixel >>> 8) & 255, pixel & 255];
}

/** Linear interpolation in a list of control points; `x` in [0, 1]. */
export function samplePoints(
  points: readonly (readonly [number, number, number])[],
  x: number,
): [number, number, number] {
  const clamped = Math.min(1, Math.max(0, x));
  const pos = clamped * (points.length - 1);
  const i = Math.min(points.length - 2, Math.floor(pos));
  const f = pos - i;
  const a = points[i];
  const b = points[i + 1];
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

/** CSS colour of a map at `x` in [0, 1] (legends, sparklines). */
export function cssColor(map: SpectrogramMap | 'magma', x: number): string {
  const [r, g, b] =
    map === 'grey'
      ? [Math.round(x * 255), Math.round(x * 255), Math.round(x * 255)]
      : samplePoints(map === 'magma' ? MAGMA : CIVIDIS, x);
  return `rgb(${r}, ${g}, ${b})`;
}

const cache = new Map<string, Uint32Array>();

function memo(key: string, build: () => Uint32Array): Uint32Array {
  let lut = cache.get(key);
  if (!lut) {
    lut = build();
    cache.set(key, lut);
  }
  return lut;
}

/** Opaque LUT of the spectrogram bytes (0 = `dbRange[0]`, 255 = `dbRange[1]`). */
export function spectrogramLut(map: SpectrogramMap, littleEndian = LITTLE_ENDIAN): Uint32Array {
  return memo(`s:${map}:${littleEndian}`, () => {
    const lut = new Uint32Array(256);
    for (let b = 0; b < 256; b++) {
      const [r, g, bl] = map === 'grey' ? [b, b, b] : samplePoints(CIVIDIS, b / 255);
      lut[b] = packRgba(r, g, bl, 255, littleEndian);
    }
    return lut;
  });
}

/**
 * Fraction of the threshold below which the overlay is transparent. Normal sound's anomaly map sits well
 * under the threshold but not near zero (a synthetic pump streamed live: median 0.65, 90th percentile 0.71
 * of the threshold); a lower start tinted the whole spectrogram.
 */
export const OVERLAY_FROM = 0.8;

/** Overlay alpha at the threshold; it grows with the score to `maxAlpha` at `anomalyScale`. */
export const OVERLAY_ALPHA_AT_THRESHOLD = 0.35;

/**
 * LUT of the anomaly bytes. Byte a is `a / 255 * anomalyScale` times the threshold.
 * - `heatmap`: opaque magma over 0 .. anomalyScale (a separate, aligned heatmap).
 * - `overlay`: transparent below `OVERLAY_FROM` times the threshold, then the bright half of magma with an
 *   alpha by score: `OVERLAY_ALPHA_AT_THRESHOLD` at the threshold, `maxAlpha` (0.55) at the top of the
 *   scale. Normal sound leaves the spectrogram untouched, and under the strongest broadband anomaly the
 *   spectrogram still makes 45 % of every pixel, so its structure stays visible (0.85 hid it).
 */
export function anomalyLut(
  anomalyScale: number,
  mode: 'heatmap' | 'overlay',
  maxAlpha = 0.55,
  littleEndian = LITTLE_ENDIAN,
): Uint32Array {
  if (!(anomalyScale > 0)) throw new Error(`anomalyScale (${anomalyScale}) must be > 0`);
  return memo(`a:${anomalyScale}:${mode}:${maxAlpha}:${littleEndian}`, () => {
    const lut = new Uint32Array(256);
    for (let a = 0; a < 256; a++) {
      const ratio = (a / 255) * anomalyScale;
      if (mode === 'heatmap') {
        const [r, g, b] = samplePoints(MAGMA, a / 255);
        lut[a] = packRgba(r, g, b, 255, littleEndian);
      } else {
        const ramp = (x: number) => Math.min(1, Math.max(0, x));
        const base = Math.min(OVERLAY_ALPHA_AT_THRESHOLD, maxAlpha);
        const alpha =
          ramp((ratio - OVERLAY_FROM) / (1 - OVERLAY_FROM)) * base +
          (anomalyScale > 1 ? ramp((ratio - 1) / (anomalyScale - 1)) * (maxAlpha - base) : 0);
        const [r, g, b] = samplePoints(MAGMA, 0.5 + 0.5 * Math.min(1, ratio / Math.max(anomalyScale, 1)));
        lut[a] = packRgba(r, g, b, Math.round(alpha * 255), littleEndian);
      }
    }
    return lut;
  });
}

/** Anomaly byte at which the normalised score reaches 1 (the threshold). */
export function thresholdByte(anomalyScale: number): number {
  return Math.min(255, Math.round(255 / anomalyScale));
}
