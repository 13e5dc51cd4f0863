import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Calibration,
  empiricalQuantile,
  fitGamma,
  gammaP,
  gammaPInv,
  gammaQ,
  gammaQuantile,
  lnGamma,
} from '../src/calibration/index.js';

/** Golden values from scipy.stats.gamma and numpy (scripts/make-metric-fixtures.py). */
interface GammaFixture {
  fits: {
    scores: number[];
    shape: number;
    scale: number;
    ppf99: number;
    quantiles: Record<string, number>;
    mean: number;
    std: number;
  }[];
  ppf: { a: number; q: number; x: number }[];
  cdf: { a: number; x: number; p: number }[];
}
const golden = JSON.parse(
  readFileSync(new URL('./fixtures/calibration/gamma.json', import.meta.url), 'utf8'),
) as GammaFixture;

const relErr = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

describe('gamma special functions', () => {
  it('lnGamma matches factorials and Gamma(1/2) = sqrt(pi)', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 14);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(relErr(lnGamma(171), 706.5730622457874)).toBeLessThan(1e-14);
  });

  it('P(1, x) is the exponential CDF 1 - e^-x, and P + Q = 1', () => {
    for (const x of [0.01, 0.5, 2, 7, 30]) {
      expect(gammaP(1, x)).toBeCloseTo(-Math.expm1(-x), 14);
      expect(gammaP(3.3, x) + gammaQ(3.3, x)).toBeCloseTo(1, 14);
    }
    expect(gammaP(2, 0)).toBe(0);
  });

  it.each(golden.cdf.map((c) => [c.a, c.x, c] as const))(
    'P(%f, %f) matches scipy.stats.gamma.cdf',
    (_a, _x, c) => {
      expect(Math.abs(gammaP(c.a, c.x) - c.p)).toBeLessThan(1e-13 + 1e-12 * c.p);
    },
  );

  it.each(golden.ppf.map((c) => [c.a, c.q, c] as const))(
    'P^-1(%f, %f) matches scipy.stats.gamma.ppf',
    (_a, _q, c) => {
      expect(relErr(gammaPInv(c.a, c.q), c.x)).toBeLessThan(1e-12);
    },
  );
});

describe('fitGamma / gammaQuantile against scipy.stats.gamma.fit(x, floc=0) and .ppf', () => {
  it.each(golden.fits.map((f, k) => [k, f.scores.length, f] as const))('fit #%i (n = %i)', (_k, _n, f) => {
    const params = fitGamma(f.scores);
    // scipy solves the shape equation with brentq (xtol 2e-12), so agreement is ~1e-12, not 1e-15
    expect(relErr(params.shape, f.shape)).toBeLessThan(1e-11);
    expect(relErr(params.scale, f.scale)).toBeLessThan(1e-11);
    expect(params.loc).toBe(0);
    expect(relErr(gammaQuantile(0.99, params), f.ppf99)).toBeLessThan(1e-11);
  });

  it('recovers a known shape and scale: the mean is shape * scale exactly', () => {
    const params = fitGamma([1, 2, 3, 4, 5.5]); // scipy: shape 3.3866829973944093, scale 0.9153499168316099
    expect(params.shape).toBeCloseTo(3.3866829973944093, 9);
    expect(params.shape * params.scale).toBeCloseTo(3.1, 13);
  });

  it('shifts by a fixed loc', () => {
    const base = fitGamma([1, 2, 3, 4, 5.5]);
    const shifted = fitGamma([11, 12, 13, 14, 15.5], 10);
    expect(shifted.shape).toBeCloseTo(base.shape, 12);
    expect(gammaQuantile(0.9, shifted)).toBeCloseTo(gammaQuantile(0.9, base) + 10, 12);
  });

  it('explains what to do with scores it cannot fit', () => {
    expect(() => fitGamma([1, 2, 0, 3])).toThrow('scores[2] (0) must be finite and > loc (0)');
    expect(() => fitGamma([2, 2, 2])).toThrow('all 3 scores are equal (2)');
    expect(() => gammaQuantile(1, { shape: 2, loc: 0, scale: 1 })).toThrow('q (1) must be in (0, 1)');
  });
});

describe('empiricalQuantile', () => {
  it('interpolates linearly between order statistics like numpy', () => {
    expect(empiricalQuantile([4, 1, 3, 2], 0.5)).toBe(2.5); // h = 1.5
    expect(empiricalQuantile([4, 1, 3, 2], 0.9)).toBeCloseTo(3.7, 15); // h = 2.7
    expect(empiricalQuantile([4, 1, 3, 2], 1)).toBe(4);
    for (const f of golden.fits) {
      for (const [q, want] of Object.entries(f.quantiles)) {
        expect(empiricalQuantile(f.scores, Number(q))).toBeCloseTo(want, 12);
      }
    }
  });
});

describe('Calibration', () => {
  const f = golden.fits[2];

  it('fits a gamma threshold at q = 0.99 and normalises it to 1', () => {
    const cal = Calibration.fit(f.scores);
    expect(cal.method).toBe('gamma');
    expect(cal.q).toBe(0.99);
    expect(relErr(cal.threshold, f.ppf99)).toBeLessThan(1e-9);
    expect(cal.n).toBe(f.scores.length);
    expect(cal.mean).toBeCloseTo(f.mean, 13);
    expect(cal.std).toBeCloseTo(f.std, 13);
    expect(cal.normalise(cal.threshold)).toBe(1);
    expect(cal.normalise(0)).toBe(0);
    expect(cal.isAnomalous(cal.threshold * 1.01)).toBe(true);
    expect(cal.isAnomalous(cal.threshold)).toBe(false);
    // about 1 % of normal scores above the threshold is what q = 0.99 promises; on 20 scores expect 0-2
    expect(f.scores.filter((s) => cal.normalise(s) > 1).length).toBeLessThanOrEqual(2);
  });

  it('offers the empirical quantile', () => {
    const cal = Calibration.fit(f.scores, { method: 'empirical', q: 0.9 });
    expect(cal.threshold).toBeCloseTo(f.quantiles['0.9'], 12);
    expect(cal.params).toBeNull();
  });

  it('round-trips through JSON', () => {
    const cal = Calibration.fit(f.scores, { q: 0.95 });
    const back = Calibration.fromJSON(JSON.parse(JSON.stringify(cal)));
    expect(back).toEqual(cal);
    expect(back.normalise(2)).toBe(cal.normalise(2));
    expect(Object.keys(JSON.parse(JSON.stringify(cal)))).toEqual([
      'method',
      'q',
      'threshold',
      'params',
      'n',
      'mean',
      'std',
    ]);
  });

  it('rejects bad inputs with the value and the fix', () => {
    expect(() => Calibration.fit([1, 2, 3, 4])).toThrow('need at least 5 normal scores to calibrate, got 4');
    expect(() => Calibration.fit([1, 2, NaN, 4, 5])).toThrow('normal score 2 is NaN');
    expect(() => Calibration.fit(f.scores, { q: 1 })).toThrow('q (1) must be in (0, 1)');
    expect(() => Calibration.fit(f.scores, { q: 0 })).toThrow('q (0) must be in (0, 1)');
    expect(() => Calibration.fit([0, 0, 0, 0, 0, 0, 1], { method: 'empirical', q: 0.5 })).toThrow(
      'threshold (0) must be finite and > 0',
    );
    expect(() => Calibration.fromJSON({ method: 'gamma', q: 0.99 })).toThrow("field 'params'");
    expect(() => Calibration.fromJSON({ method: 'empirical', params: null, q: 0.99 })).toThrow(
      "field 'threshold' must be a number",
    );
  });
});
