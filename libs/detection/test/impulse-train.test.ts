import { describe, expect, it } from 'vitest';
import {
  fitFusionScales,
  fuseWindow,
  ImpulseAnalysis,
  ImpulseTrain,
  resolveDetectorConfig,
  type WindowParts,
} from '../src/index.js';

/** Seeded uniform numbers in [0, 1) (mulberry32). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The detector's default log-mel geometry: 62 frames of 16 ms in a 1 s window, here 64 mel bins in 16 bands.
const [M, F, RATE] = [64, 62, 62.5];
const grid = { nMels: M, windowFrames: F, bands: 16, frameRate: RATE };

/** A stationary normal window: every cell an independent level around -40 dB (sd about 1 dB). */
function stationary(seed: number): Float32Array {
  const u = uniform(seed);
  return Float32Array.from({ length: M * F }, () => -40 + 3.4 * (u() - 0.5));
}

/**
 * An impulsive normal window: the stationary floor, plus broadband knocks (+6 dB in every bin for two frames)
 * at irregular times, as a printer's steps or a valve's clatter: impulsive, but with no period of its own.
 */
function impulsive(seed: number): Float32Array {
  const u = uniform(seed + 1000);
  const w = stationary(seed);
  for (let t = Math.floor(u() * 6); t < F; t += 3 + Math.floor(u() * 12))
    for (let m = 0; m < M; m++) for (const k of [t, t + 1]) if (k < F) w[m * F + k] += k === t ? 6 : 3;
  return w;
}

/** Adds a resonance struck `rateHz` times a second to bins [lo, hi): +`db` dB decaying over two frames. */
function struck(w: Float32Array, lo: number, hi: number, rateHz: number, db: number): Float32Array {
  const out = w.slice();
  const period = RATE / rateHz;
  for (let s = 0; s * period < F; s++) {
    const t = Math.round(s * period);
    for (let m = lo; m < hi; m++)
      for (const [k, gain] of [
        [t, db],
        [t + 1, db / 2],
      ])
        if (k < F) out[m * F + k] += gain;
  }
  return out;
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * xs.length)];
const median = (xs: number[]) => quantile(xs, 0.5);

describe('impulse train', () => {
  it('finds a resonance struck 11 times a second on an impulsive machine, in its band, and not the machine', () => {
    const train = ImpulseTrain.fit(range(120).map(impulsive), grid);
    const normals = range(40, 500).map((s) => train.score(impulsive(s)).windowScore);
    // Bins 40-47 are bands 10 and 11 of 16: 4 dB strikes, under the machine's own 6 dB knocks, 11 a second (a period
    // of 5.7 frames: the strikes fall 5 and 6 frames apart).
    const faults = range(20, 900).map((s) => train.score(struck(impulsive(s), 40, 48, 11, 4)));
    const scores = faults.map((r) => r.windowScore);
    expect(Math.min(...scores)).toBeGreaterThan(Math.max(...normals));
    expect(median(scores)).toBeGreaterThan(2 * median(normals));
    for (const r of faults) {
      const band = Array.from({ length: 16 }, (_, b) => r.map[b * 4 * F]);
      expect([10, 11]).toContain(band.indexOf(Math.max(...band)));
      // Flat in time over the window, one value per band.
      expect(r.map[40 * F + F - 1]).toBe(r.map[40 * F]);
    }
  });

  it('gives a stationary normal no excess: new stationary windows, a louder one, a steady tone', () => {
    const train = ImpulseTrain.fit(range(120).map(stationary), grid);
    // No excess: new windows of the same sound score as the training windows themselves did (the same
    // median and 90th percentile; the largest of many windows grows with their number, as for any statistic).
    const own = range(120).map((s) => train.score(stationary(s)).windowScore);
    const fresh = range(400, 1000).map((s) => train.score(stationary(s)).windowScore);
    expect(quantile(fresh, 0.5)).toBeLessThan(1.1 * quantile(own, 0.5));
    expect(quantile(fresh, 0.9)).toBeLessThan(1.1 * quantile(own, 0.9));
    for (const s of range(20, 700)) {
      const w = stationary(s);
      const louder = w.map((v) => v + 12);
      // A steady tone in bins 20-23: the bins' level rises 20 dB and holds.
      const tone = w.map((v, i) => (Math.floor(i / F) >= 20 && Math.floor(i / F) < 24 ? v + 20 : v));
      const base = train.score(w).windowScore;
      expect(train.score(louder).windowScore).toBeCloseTo(base, 4);
      expect(train.score(tone).windowScore).toBeCloseTo(base, 4);
    }
  });

  it('scores 7-25 Hz strike periods at their multiples over the residual of an 80 ms moving mean, less what all bands share', () => {
    const a = new ImpulseAnalysis(grid);
    expect(a.smooth).toBe(5);
    // Periods of 2.5-8.9 frames (25-7 Hz) every eighth of a frame; lags up to half the 58-frame residual.
    expect(a.maxLag).toBe(29);
    expect([a.periods[0], a.periods.at(-1)]).toEqual([2.5, 8.875]);
    // 7.5 frames (8.3 Hz): its multiples land on whole frames every other time.
    expect(Array.from(a.multiples[a.periods.indexOf(7.5)])).toEqual([8, 15, 23]);
    const flat = new Float32Array(M * F).fill(-50);
    expect(Array.from(a.features([flat]))).toEqual(new Array(16).fill(0));
    // A strike every 6 frames in bands 0-1: their residual repeats at lag 6, its autocorrelation near 1.
    const two = a.features([struck(flat, 0, 8, RATE / 6, 4)]);
    for (const v of two.subarray(0, 2)) expect(v).toBeGreaterThan(0.6);
    for (const v of two.subarray(2)) expect(v).toBeLessThan(0.2);
    // The same strikes in every band at once are the whole machine's knock: the frame's median removes it.
    expect(Array.from(a.features([struck(flat, 0, M, RATE / 6, 4)]))).toEqual(new Array(16).fill(0));
  });

  it('learns a taught rhythm and forgets it again', () => {
    const train = ImpulseTrain.fit(range(60).map(impulsive), grid);
    const fault = struck(impulsive(77), 40, 48, 11, 4);
    const before = train.score(fault).windowScore;
    train.teach(range(30, 200).map((s) => struck(impulsive(s), 40, 48, 11, 4)));
    expect(train.score(fault).windowScore).toBeLessThan(before / 2);
    train.teach([]);
    expect(train.score(fault).windowScore).toBeCloseTo(before, 10);
  });

  it('fuses on its held-out maximum in every rule, the largest part included', () => {
    const map = (v: number) => new Float32Array(M * F).fill(v);
    const parts = (impulse: number): WindowParts => ({
      method: { windowScore: 1, map: map(1) },
      context: null,
      tonal: null,
      impulse: { windowScore: impulse, map: map(impulse) },
    });
    const scales = fitFusionScales([[parts(4)], [parts(2)]]);
    expect(scales.impulse).toBe(4);
    expect(fuseWindow(parts(8), scales, 'max').windowScore).toBe(2);
    expect(fuseWindow(parts(8), scales, 'sum').windowScore).toBe(3);
    expect(fuseWindow(parts(2), scales, 'max').windowScore).toBe(1);
    // Models without the part keep their scales as they were.
    expect(fitFusionScales([[{ ...parts(0), impulse: null }]])).not.toHaveProperty('impulse');
  });

  it('refuses bad shapes and settings with the value and the rule', () => {
    expect(() => ImpulseTrain.fit([stationary(1)], { ...grid, bands: 0 })).toThrow(
      /impulseBands \(0\) must be a whole number in \[1, nMels = 64\]/,
    );
    expect(() => ImpulseTrain.fit([stationary(1)], { ...grid, windowFrames: 8 })).toThrow(
      /a window of 8 frames at 62.5 frames\/s resolves no strike rate in 7-25 Hz; use a longer window/,
    );
    expect(() => ImpulseTrain.fit([], grid)).toThrow(/at least one normal window/);
    expect(() => ImpulseTrain.fit([stationary(1)], grid).score(new Float32Array(5))).toThrow(
      /window has 5 values; need nMels x windowFrames = 64 x 62/,
    );
    expect(() => resolveDetectorConfig({ impulseBands: -1 })).toThrow(
      /impulseBands \(-1\) must be 0 \(off\) or a whole number up to nMels \(128\), e.g. 16/,
    );
    expect(resolveDetectorConfig({}).impulseBands).toBe(16);
  });
});
