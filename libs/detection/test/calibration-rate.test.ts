import { describe, expect, it } from 'vitest';
import {
  BurnIn,
  Calibration,
  countClusters,
  fitRate,
  gpdLogLikelihood,
  gpdReturnLevel,
  runMinima,
} from '../src/index.js';

/** Seeded uniform [0, 1) (mulberry32), so the samples are the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `clips` series of `length` independent Exp(1) scores (+ `offset`). */
function exponentialClips(clips: number, length: number, seed: number, offset = 0): number[][] {
  const u = rng(seed);
  return Array.from({ length: clips }, () => Array.from({ length }, () => offset - Math.log(1 - u())));
}

const DAY = { perDay: 1, windowsPerDay: 172_800, alertWindows: 2, confidence: 0.9 };

describe('run minima and clusters', () => {
  it('takes the minimum over each run of k consecutive values', () => {
    expect(runMinima([3, 1, 4, 1, 5], 2)).toEqual([1, 1, 1, 1]);
    expect(runMinima([3, 5, 4, 6], 2)).toEqual([3, 4, 4]);
    expect(runMinima([3, 5, 4], 3)).toEqual([3]);
    expect(runMinima([7], 2)).toEqual([7]);
    expect(runMinima([], 2)).toEqual([]);
  });

  it('counts clusters over u that end after `gap` values at or under it', () => {
    //             c1    .  c1   .  .   c2   c2
    expect(countClusters([2, 0, 2, 0, 0, 3, 3], 1, 2)).toBe(2);
    expect(countClusters([2, 0, 2, 0, 0, 3, 3], 1, 1)).toBe(3);
    expect(countClusters([0, 0], 1, 2)).toBe(0);
  });
});

describe('generalised Pareto', () => {
  it('has the exponential as its xi = 0 case, and the return level to match', () => {
    const e = [0.5, 1, 2];
    expect(gpdLogLikelihood(e, 0, 2)).toBeCloseTo(-3 * Math.log(2) - 3.5 / 2, 12);
    expect(gpdLogLikelihood(e, 1e-12, 2)).toBeCloseTo(gpdLogLikelihood(e, 0, 2), 9);
    expect(gpdReturnLevel(1e-3, 0, 2)).toBeCloseTo(2 * Math.log(1e3), 12);
    // xi = -0.5, sigma 1: survival (1 - 0.5 x)^2, so p = 0.25 at x = 1.
    expect(gpdReturnLevel(0.25, -0.5, 1)).toBeCloseTo(1, 12);
    expect(gpdLogLikelihood([3], -0.5, 1)).toBe(-Infinity); // beyond the upper end point sigma / -xi = 2
  });
});

describe('fitRate', () => {
  it('recovers the return level of independent exponential scores, with the bound above it', () => {
    // The minimum of two independent Exp(1) is Exp(2): P(min > x) = exp(-2x) = 1 / 172 800 at x = 6.03.
    const truth = Math.log(172_800) / 2;
    const r = fitRate(exponentialClips(400, 40, 1), DAY);
    expect(r.estimate).toBeGreaterThan(truth * 0.9);
    expect(r.estimate).toBeLessThan(truth * 1.1);
    expect(r.threshold).toBeGreaterThan(r.estimate);
    expect(r.threshold).toBeLessThan(truth * 1.3);
    expect(r.xi).toBeGreaterThan(-0.2);
    expect(r.n).toBe(400 * 39);
  });

  it('is more cautious with less held-out sound, more alerts allowed or less confidence', () => {
    const small = fitRate(exponentialClips(16, 9, 2), DAY);
    const large = fitRate(exponentialClips(400, 40, 2), DAY);
    expect(small.threshold - small.estimate).toBeGreaterThan(large.threshold - large.estimate);
    const clips = exponentialClips(16, 9, 3);
    const base = fitRate(clips, DAY).threshold;
    expect(fitRate(clips, { ...DAY, perDay: 100 }).threshold).toBeLessThan(base);
    expect(fitRate(clips, { ...DAY, confidence: 0.5 }).threshold).toBeLessThan(base);
    expect(fitRate(clips, { ...DAY, confidence: 0.5 }).threshold).toBeCloseTo(
      fitRate(clips, { ...DAY, confidence: 0.5 }).estimate,
      6,
    );
  });

  it('moves with the scores: an offset moves the threshold by the same amount', () => {
    const a = fitRate(exponentialClips(16, 9, 4), DAY);
    const b = fitRate(exponentialClips(16, 9, 4, 10), DAY);
    expect(b.threshold - a.threshold).toBeCloseTo(10, 6);
  });

  it('refuses bad targets and too few scores, naming the value', () => {
    expect(() => fitRate([[1, 2, 3]], DAY)).toThrow(/too few to fit a tail/);
    expect(() => fitRate(exponentialClips(4, 9, 5), { ...DAY, perDay: 0 })).toThrow(
      /falseAlarmsPerDay \(0\) must be > 0/,
    );
    expect(() => fitRate(exponentialClips(4, 9, 5), { ...DAY, confidence: 1 })).toThrow(
      /falseAlarmConfidence \(1\) must be in \[0.5, 1\)/,
    );
    expect(() => fitRate([[1, 2, Number.NaN, 3, 4, 5, 6, 7, 8]], DAY)).toThrow(/must be finite/);
  });

  it('is saved in the calibration and restored from its JSON', () => {
    const c = Calibration.forRate(exponentialClips(16, 9, 6), DAY);
    expect(c.method).toBe('rate');
    expect(c.threshold).toBe(c.rate!.threshold);
    expect(c.q).toBeCloseTo(1 - 1 / 172_800, 12);
    const back = Calibration.fromJSON(JSON.parse(JSON.stringify(c)));
    expect(back.toJSON()).toEqual(c.toJSON());
    expect(() => Calibration.fromJSON({ ...c.toJSON(), rate: null })).toThrow(/field 'rate' must hold/);
    // A model saved before the rate keeps its gamma threshold.
    const old = Calibration.fit([1, 2, 3, 4, 5], { method: 'gamma' }).toJSON();
    expect(Calibration.fromJSON(old).rate).toBeUndefined();
    expect(() => Calibration.fromJSON(old).atRate(2)).toThrow(
      /set as a gamma quantile, not for a false-alarm rate/,
    );
    // Another sensor's target from the same tail: the same threshold for the same rate, lower for more alerts.
    expect(c.atRate(1).threshold).toBeCloseTo(c.threshold, 9);
    const ten = c.atRate(10);
    expect(ten.threshold).toBeLessThan(c.threshold);
    expect(ten.rate!.perDay).toBe(10);
    expect(ten.q).toBeCloseTo(1 - 10 / 172_800, 12);
    expect(() => c.atRate(0)).toThrow(/falseAlarmsPerDay \(0\) must be > 0/);
  });
});

describe('BurnIn', () => {
  const feed = (b: BurnIn, scores: number[], t0 = 0) => scores.forEach((s, i) => b.add(t0 + i * 500, s));
  const opts = { ...DAY, windows: 400 };

  it('proposes nothing until full, then the live threshold in units of the current one', () => {
    const b = new BurnIn(opts);
    // Live normal scores at 0.3 of the threshold, exponential-tailed: their own threshold is well under 1.
    const live = exponentialClips(1, 600, 7)
      .flat()
      .map((x) => 0.3 + 0.05 * x);
    feed(b, live.slice(0, 399));
    expect(b.result()).toBeNull();
    feed(b, live.slice(399), 399 * 500);
    expect(b.collected).toBe(400);
    const r = b.result()!;
    expect(r.windows).toBe(400);
    expect(r.unbounded).toBeLessThan(1);
    expect(r.factor).toBe(Math.max(0.5, r.unbounded));
  });

  it('bounds the factor and never fits on a span an operator marked as a fault', () => {
    const b = new BurnIn(opts);
    const live = exponentialClips(1, 400, 8)
      .flat()
      .map((x) => 0.8 + 0.05 * x);
    for (let i = 100; i < 140; i++) live[i] = 5; // a fault, 20 s long
    feed(b, live);
    expect(b.result()!.factor).toBe(2); // bounded: the fault's scores alone would call for > 5
    b.exclude(100 * 500, 139 * 500);
    const r = b.result()!;
    expect(r.excluded).toBe(40);
    expect(r.windows).toBe(360);
    expect(r.unbounded).toBeLessThan(2);
    expect(r.fit.n).toBe(360 - 2); // two runs (cut at the fault): 99 + 259 run minima
  });

  it('checks its options', () => {
    expect(() => new BurnIn({ ...opts, windows: 10 })).toThrow(/burn-in windows \(10\) must be/);
    expect(() => new BurnIn({ ...opts, minFactor: 2 })).toThrow(/burn-in bounds/);
    expect(() => new BurnIn(opts).add(0, Number.NaN)).toThrow(/must be finite/);
  });
});
