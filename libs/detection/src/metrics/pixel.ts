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

/**
 * One anomalous clip's pixel AUC against normal cells (`hark evaluate --by-kind`): for each of its cells in
 * the ground truth (`mask` 1), the share of `sortedNormal` below it, a tie counting one half, averaged over
 * those cells. `sortedNormal` holds the cells of the group's normal test clips, ascending; values are compared
 * at float32 precision, as `PixelMetricAccumulator` compares them. NaN when the mask has no anomalous cell.
 */
export function clipPixelAuc(
  sortedNormal: Float32Array,
  map: ArrayLike<number>,
  mask: ArrayLike<number>,
): number {
  if (map.length !== mask.length)
    throw new RangeError(`map (${map.length}) and mask (${mask.length}) must have the same length`);
  const n = sortedNormal.length;
  if (n === 0) throw new Error('a pixel AUC needs normal cells to compare with');
  /** Index of the first normal cell >= v (`strict` false) or > v (`strict` true). */
  const bound = (v: number, strict: boolean) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sortedNormal[mid] < v || (strict && sortedNormal[mid] === v)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let sum = 0;
  let cells = 0;
  for (let k = 0; k < map.length; k++) {
    if (mask[k] !== 1) continue;
    const v = Math.fround(map[k]);
    const below = bound(v, false);
    sum += below + 0.5 * (bound(v, true) - below);
    cells++;
  }
  return cells ? sum / (cells * n) : Number.NaN;
}
