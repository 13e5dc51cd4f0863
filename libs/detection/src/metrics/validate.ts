/**
 * Input checks shared by the clip-level metrics. They mirror scikit-learn's `roc_auc_score` checks
 * (`check_consistent_length`, `check_array(force_all_finite=True)`, "Only one class present"), so a
 * caller gets an error where scikit-learn raises, never a silent NaN.
 */

/** Binary labels: 1 / `true` = anomaly (positive), 0 / `false` = normal (negative). */
export type BinaryLabels = ArrayLike<number | boolean>;

/** Class counts of validated inputs. */
export interface ClassCounts {
  /** Number of anomalous (positive) items. */
  positives: number;
  /** Number of normal (negative) items. */
  negatives: number;
}

/**
 * Checks scores and labels for the ROC metrics and counts the classes.
 *
 * @throws when lengths differ, a score is NaN or infinite, a label is not 0/1, or only one class is present.
 */
export function validateBinary(
  scores: ArrayLike<number>,
  labels: BinaryLabels,
  what = 'scores',
): ClassCounts {
  if (scores.length !== labels.length) {
    throw new Error(
      `${what} (${scores.length}) and labels (${labels.length}) must have the same length; pass one label per score`,
    );
  }
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (!Number.isFinite(s)) {
      throw new Error(
        `${what}[${i}] is ${s}; scores must be finite (scikit-learn raises "Input contains NaN")`,
      );
    }
    positives += labelAt(labels, i);
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new Error(
      `only one class present (${positives} anomalous, ${negatives} normal); ROC AUC is not defined ` +
        `(scikit-learn raises the same); include both normal and anomalous items`,
    );
  }
  return { positives, negatives };
}

/** The label at `i` as 0 or 1. @throws when it is neither 0/1 nor a boolean. */
export function labelAt(labels: BinaryLabels, i: number): 0 | 1 {
  const l = labels[i];
  if (l === 1 || l === true) return 1;
  if (l === 0 || l === false) return 0;
  throw new Error(`labels[${i}] is ${String(l)}; labels must be 0 (normal) or 1 (anomaly)`);
}

/** @throws unless `0 < maxFpr <= 1`, the range scikit-learn accepts for `max_fpr`. */
export function validateMaxFpr(maxFpr: number, name = 'maxFpr'): void {
  if (!(maxFpr > 0 && maxFpr <= 1)) {
    throw new Error(`${name} (${maxFpr}) must be in (0, 1], like scikit-learn's max_fpr`);
  }
}
