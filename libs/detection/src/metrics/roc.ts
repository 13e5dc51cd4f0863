/**
 * Clip-level ROC metrics, computed exactly as scikit-learn computes them:
 * - `rocCurve` = `sklearn.metrics.roc_curve(y, s, drop_intermediate=False)` (first threshold `Infinity`);
 * - `auc` = `roc_auc_score(y, s)`: trapezoid area under that curve, so tied scores count one half;
 * - `pauc` = `roc_auc_score(y, s, max_fpr)`: the curve is cut at `maxFpr` with a point linearly
 *   interpolated there, integrated, then McClish-standardised to `0.5 * (1 + (A - A_min) / (A_max - A_min))`
 *   with `A_min = maxFpr^2 / 2` (chance) and `A_max = maxFpr` (perfect).
 *
 * scikit-learn drops collinear intermediate points by default; that changes neither area nor the
 * interpolated point, only float rounding (differences below 1e-15).
 */
import { labelAt, validateBinary, validateMaxFpr, type BinaryLabels } from './validate.js';

/** A ROC curve: one point per distinct score, descending thresholds, starting at (0, 0). */
export interface RocCurve {
  /** False-positive rate at each threshold, non-decreasing, in [0, 1]. */
  fpr: Float64Array;
  /** True-positive rate at each threshold, non-decreasing, in [0, 1]. */
  tpr: Float64Array;
  /** Decision thresholds (score >= threshold is "anomalous"), decreasing; the first is `Infinity`. */
  thresholds: Float64Array;
}

/** Splits scores by label into two ascending-sorted arrays (native typed-array sort, no comparator). */
function splitSorted(scores: ArrayLike<number>, labels: BinaryLabels, positives: number) {
  const pos = new Float64Array(positives);
  const neg = new Float64Array(scores.length - positives);
  let p = 0;
  let n = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labelAt(labels, i) === 1) pos[p++] = scores[i];
    else neg[n++] = scores[i];
  }
  return { pos: pos.sort(), neg: neg.sort() };
}

/**
 * ROC curve of `scores` (higher = more anomalous) against `labels` (1 = anomaly).
 *
 * @param scores - one finite score per item, length n.
 * @param labels - one 0/1 (or boolean) label per item, length n, both classes present.
 */
export function rocCurve(scores: ArrayLike<number>, labels: BinaryLabels): RocCurve {
  const { positives, negatives } = validateBinary(scores, labels);
  const { pos, neg } = splitSorted(scores, labels, positives);
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Infinity];
  let i = neg.length - 1;
  let j = pos.length - 1;
  let fp = 0;
  let tp = 0;
  while (i >= 0 || j >= 0) {
    const t = Math.max(i >= 0 ? neg[i] : -Infinity, j >= 0 ? pos[j] : -Infinity);
    for (; i >= 0 && neg[i] === t; i--) fp++;
    for (; j >= 0 && pos[j] === t; j--) tp++;
    fpr.push(fp / negatives);
    tpr.push(tp / positives);
    thresholds.push(t);
  }
  return {
    fpr: Float64Array.from(fpr),
    tpr: Float64Array.from(tpr),
    thresholds: Float64Array.from(thresholds),
  };
}

/** Trapezoid area under (x, y) for x non-decreasing (`sklearn.metrics.auc`). */
export function trapezoid(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let area = 0;
  for (let k = 1; k < x.length; k++) area += ((x[k] - x[k - 1]) * (y[k] + y[k - 1])) / 2;
  return area;
}

/**
 * ROC AUC of clip scores, anomaly (1) vs normal (0); equals `sklearn.metrics.roc_auc_score(labels, scores)`.
 * Ties between an anomalous and a normal score count one half (Mann-Whitney U / (n+ n-)).
 *
 * @returns AUC in [0, 1]; 0.5 is chance, 1 perfect separation, 0 perfectly inverted.
 */
export function auc(scores: ArrayLike<number>, labels: BinaryLabels): number {
  const roc = rocCurve(scores, labels);
  return trapezoid(roc.fpr, roc.tpr);
}

/**
 * Standardised partial AUC over FPR in [0, maxFpr], as in DCASE: equals
 * `sklearn.metrics.roc_auc_score(labels, scores, max_fpr=maxFpr)` (McClish correction; 0.5 = chance,
 * 1 = perfect). `maxFpr = 1` returns the plain AUC, as scikit-learn does.
 *
 * @param maxFpr - upper FPR limit in (0, 1]; default 0.1 (DCASE).
 */
export function pauc(scores: ArrayLike<number>, labels: BinaryLabels, maxFpr = 0.1): number {
  validateMaxFpr(maxFpr);
  const { fpr, tpr } = rocCurve(scores, labels);
  if (maxFpr === 1) return trapezoid(fpr, tpr);
  // First index with fpr > maxFpr (numpy searchsorted side='right'); fpr ends at 1 > maxFpr, so it exists.
  let stop = 0;
  while (fpr[stop] <= maxFpr) stop++;
  const x0 = fpr[stop - 1];
  const y0 = tpr[stop - 1];
  const yAtMax = y0 + ((tpr[stop] - y0) * (maxFpr - x0)) / (fpr[stop] - x0);
  const partial =
    trapezoid(fpr.subarray(0, stop), tpr.subarray(0, stop)) + ((maxFpr - x0) * (y0 + yAtMax)) / 2;
  const minArea = 0.5 * maxFpr * maxFpr;
  return 0.5 * (1 + (partial - minArea) / (maxFpr - minArea));
}
