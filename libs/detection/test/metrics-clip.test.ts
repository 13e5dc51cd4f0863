import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { auc, ClipMetricAccumulator, pauc, rocCurve } from '../src/metrics/index.js';

/** Golden values from scikit-learn (scripts/make-metric-fixtures.py). */
interface ClipCase {
  name: string;
  labels: number[];
  scores: number[];
  auc: number;
  pauc: Record<string, number>;
  roc: { fpr: number[]; tpr: number[]; thresholds: number[] };
}
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/metrics/clip.json', import.meta.url), 'utf8'),
) as {
  cases: ClipCase[];
};

describe('auc / pauc: tiny cases computed by hand', () => {
  // ROC points (fpr, tpr): (0,0) (0,.5) (.5,.5) (.5,1) (1,1).
  const scores = [0.1, 0.4, 0.35, 0.8];
  const labels = [0, 0, 1, 1];

  it('counts correctly ordered anomaly/normal pairs', () => {
    expect(auc(scores, labels)).toBe(0.75);
  });

  it('counts a tie between an anomalous and a normal score as one half', () => {
    // pairs: (1 vs 1) = 0.5, (2 vs 1) = 1 -> 1.5 / 2
    expect(auc([1, 1, 2], [0, 1, 1])).toBe(0.75);
    expect(auc([3, 3, 3, 3], [0, 1, 0, 1])).toBe(0.5);
  });

  it('accepts boolean labels', () => {
    expect(auc(scores, [false, false, true, true])).toBe(0.75);
  });

  it('standardises the partial area like McClish', () => {
    // area to fpr .5 = .5 * .5 = .25; min .125, max .5 -> 0.5 * (1 + .125 / .375) = 2/3
    expect(pauc(scores, labels, 0.5)).toBeCloseTo(2 / 3, 15);
    // area to fpr .1 = .1 * .5 = .05; min .005, max .1 -> 0.5 * (1 + .045 / .095)
    expect(pauc(scores, labels, 0.1)).toBeCloseTo(0.5 * (1 + 0.045 / 0.095), 15);
    expect(pauc(scores, labels, 1)).toBe(0.75);
  });

  it('interpolates the curve at maxFpr inside a diagonal (tied) step', () => {
    // one tie group: the curve is the diagonal; partial area = maxFpr^2 / 2 = chance -> 0.5
    expect(pauc([2, 2, 2, 2, 2], [0, 0, 1, 1, 1], 0.1)).toBeCloseTo(0.5, 15);
  });

  it('is 1 for a perfect and 0 (AUC) for an inverted ranking', () => {
    expect(auc([0, 1, 2, 3], [0, 0, 1, 1])).toBe(1);
    expect(pauc([0, 1, 2, 3], [0, 0, 1, 1])).toBe(1);
    expect(auc([3, 2, 1, 0], [0, 0, 1, 1])).toBe(0);
  });
});

describe('auc / pauc / rocCurve against scikit-learn', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(auc(c.scores, c.labels)).toBeCloseTo(c.auc, 13);
    for (const [maxFpr, expected] of Object.entries(c.pauc)) {
      expect(pauc(c.scores, c.labels, Number(maxFpr)), `max_fpr=${maxFpr}`).toBeCloseTo(expected, 13);
    }
    const roc = rocCurve(c.scores, c.labels);
    expect(Array.from(roc.fpr)).toEqual(c.roc.fpr);
    expect(Array.from(roc.tpr)).toEqual(c.roc.tpr);
    expect(roc.thresholds[0]).toBe(Infinity);
    // (+ 0 turns -0, which numpy's rounding produces, into 0: equal as thresholds)
    expect(Array.from(roc.thresholds.subarray(1), (t) => t + 0)).toEqual(c.roc.thresholds.map((t) => t + 0));
  });
});

describe('degenerate inputs raise where scikit-learn raises', () => {
  it('rejects a single class ("Only one class present in y_true")', () => {
    expect(() => auc([0.1, 0.2], [1, 1])).toThrow(/only one class present \(2 anomalous, 0 normal\)/);
    expect(() => pauc([0.1, 0.2], [0, 0])).toThrow(/only one class present/);
  });

  it('rejects a length mismatch ("inconsistent numbers of samples")', () => {
    expect(() => auc([0.1, 0.2, 0.3], [0, 1])).toThrow('scores (3) and labels (2) must have the same length');
  });

  it('rejects NaN and infinite scores ("Input contains NaN / infinity")', () => {
    expect(() => auc([0.1, NaN], [0, 1])).toThrow('scores[1] is NaN');
    expect(() => pauc([Infinity, 0.1], [0, 1])).toThrow('scores[0] is Infinity');
  });

  it('rejects labels other than 0/1 and maxFpr outside (0, 1]', () => {
    expect(() => auc([0.1, 0.2], [0, 2])).toThrow('labels[1] is 2');
    expect(() => pauc([0.1, 0.2], [0, 1], 0)).toThrow('maxFpr (0) must be in (0, 1]');
    expect(() => pauc([0.1, 0.2], [0, 1], 1.5)).toThrow('maxFpr (1.5) must be in (0, 1]');
  });
});

describe('ClipMetricAccumulator', () => {
  it('gives the same AUC and pAUC as the one-call functions', () => {
    const c = fixture.cases[0];
    const acc = new ClipMetricAccumulator();
    c.scores.forEach((s, i) => acc.update(s, c.labels[i] === 1));
    const out = acc.compute();
    expect(out).toEqual({
      auc: auc(c.scores, c.labels),
      pauc: pauc(c.scores, c.labels),
      positives: 30,
      negatives: 50,
    });
    expect(out.pauc).toBeCloseTo(c.pauc['0.1'], 13);
  });

  it('names the clip of a non-finite score and needs both classes', () => {
    const acc = new ClipMetricAccumulator();
    acc.update(0.3, false);
    expect(() => acc.update(NaN, true)).toThrow('clip 1: score is NaN');
    expect(() => acc.compute()).toThrow(/only one class present/);
  });
});
