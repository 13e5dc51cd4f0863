/**
 * Clip-level metrics in `update`/`compute` form: add each test clip's score and label as it is scored, then
 * read AUC and pAUC of the group.
 */
import { auc, pauc } from './roc.js';
import { validateMaxFpr } from './validate.js';

/** Clip-level results of one group. */
export interface ClipMetrics {
  /** ROC AUC, anomaly vs normal clips. */
  auc: number;
  /** McClish-standardised partial AUC for FPR in [0, maxFpr]. */
  pauc: number;
  /** Number of anomalous and normal clips. */
  positives: number;
  negatives: number;
}

/** Accumulates clip scores and labels. */
export class ClipMetricAccumulator {
  private readonly scores: number[] = [];
  private readonly labels: number[] = [];

  /** @param maxFpr - pAUC limit in (0, 1]; default 0.1 (DCASE). */
  constructor(readonly maxFpr = 0.1) {
    validateMaxFpr(maxFpr);
  }

  /**
   * Adds one clip.
   *
   * @param score - clip anomaly score, finite, higher = more anomalous.
   * @param anomalous - true for an `anomaly_` clip, false for a `normal_` clip.
   */
  update(score: number, anomalous: boolean): void {
    if (!Number.isFinite(score)) {
      throw new Error(`clip ${this.scores.length}: score is ${score}; scores must be finite`);
    }
    this.scores.push(score);
    this.labels.push(anomalous ? 1 : 0);
  }

  /** @throws when only one class has been added. */
  compute(): ClipMetrics {
    const positives = this.labels.reduce((a, b) => a + b, 0);
    return {
      auc: auc(this.scores, this.labels),
      pauc: pauc(this.scores, this.labels, this.maxFpr),
      positives,
      negatives: this.labels.length - positives,
    };
  }
}
