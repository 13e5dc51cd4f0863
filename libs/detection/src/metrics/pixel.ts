/**
 * One-call forms of the pixel metrics, for maps already in memory. For a whole test set prefer feeding a
 * `PixelMetricAccumulator` clip by clip, so maps need not be kept.
 */
import { PixelMetricAccumulator, type PixelMetrics } from './pixel-accumulator.js';

/** One test clip's anomaly map with its pixel ground truth. */
export interface PixelClip {
  /** Anomaly map, row-major `[nMels, nFrames]`, finite scores. */
  map: ArrayLike<number>;
  /** Ground truth, same layout, 1 = anomalous cell; `null` (or omitted) for a normal clip. */
  mask?: ArrayLike<number> | null;
  /** Rows (mel bins). */
  nMels: number;
  /** Columns (frames). */
  nFrames: number;
}

function accumulate(clips: readonly PixelClip[], fprLimit?: number): PixelMetricAccumulator {
  const acc = new PixelMetricAccumulator(fprLimit);
  for (const c of clips) acc.update(c.map, c.mask ?? null, c.nMels, c.nFrames);
  return acc;
}

/** Pixel ROC AUC over every cell of every clip against the pixel ground truth (exact, ties count one half). */
export function pixelAuc(clips: readonly PixelClip[]): number {
  return accumulate(clips).pixelAuc();
}

/**
 * Normalised area under the per-region-overlap curve for FPR in [0, fprLimit] (MVTec AD definition).
 *
 * @param fprLimit - upper FPR limit in (0, 1]; default 0.3.
 */
export function aupro(clips: readonly PixelClip[], fprLimit = 0.3): number {
  return accumulate(clips, fprLimit).aupro();
}

/** `pixelAuc` and `aupro` in one pass. */
export function pixelMetrics(clips: readonly PixelClip[], fprLimit = 0.3): PixelMetrics {
  return accumulate(clips, fprLimit).compute();
}
