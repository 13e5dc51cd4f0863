import { describe, expect, it } from 'vitest';
import {
  ContextMemory,
  contextsOf,
  MIN_BOUND_ROWS,
  Calibration,
  fitFusionLevels,
  fitFusionScales,
  fitPartLevels,
  comodulation,
  fuseWindow,
  fusionStatistics,
  ModulationSpectrum,
  prominence,
  resolveDetectorConfig,
  shareTime,
  TonalEnvelope,
  type WindowParts,
} from '../src/index.js';

/** Seeded uniform noise in [-amp, amp] (mulberry32). */
function noise(n: number, seed: number, amp = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * amp;
  }
  return out;
}

const [M, F] = [16, 20];

describe('context memory', () => {
  it('lays out one vector per full-context frame, bin-major', () => {
    const w = Float32Array.from({ length: 2 * 4 }, (_, i) => i); // 2 bins x 4 frames: rows 0..3, 4..7
    expect(Array.from(contextsOf([w], 2, 3))).toEqual([0, 1, 2, 4, 5, 6, 1, 2, 3, 5, 6, 7]);
  });

  it('scores a normal window 0 (within its one-byte steps) and puts a click where it is, in time and frequency', async () => {
    const normal = [1, 2, 3].map((s) => noise(M * F, s));
    const mem = ContextMemory.fit(normal, M, 5, 1, { layout: 'index' });
    const exact = ContextMemory.fit(normal, M, 5, 1, { layout: 'index', storage: 'float32' });
    const columns = ContextMemory.fit(normal, M, 5);
    try {
      expect(mem.size).toBe(3 * (F - 4));
      expect(columns.size).toBe(3 * (F - 4));
      expect([mem.storage, exact.storage, columns.storage]).toEqual(['uint8', 'float32', 'float32']);
      expect([mem.layout, exact.layout, columns.layout]).toEqual(['index', 'index', 'columns']);
      // The columns hold each window once, and assemble into the flat index's contexts.
      expect(columns.fittedColumns!.columns.length).toBe(3 * F * M);
      expect(Array.from(columns.baseBank)).toEqual(Array.from(exact.baseBank));
      // And the columns' search answers as the flat float32 index does, to the bit, normal or not.
      const clicked = normal[2].slice();
      clicked[7 * F + 3] += 5;
      for (const w of [normal[0], clicked, noise(M * F, 77)]) {
        const [a, b] = [await columns.score(w), await exact.score(w)];
        expect(a.windowScore).toBe(b.windowScore);
        expect(Buffer.from(a.map.buffer).equals(Buffer.from(b.map.buffer))).toBe(true);
      }
      // Values span [-1, 1]: a held value is within 2 / 510 of the normal one, and so is the RMS distance.
      const same = await mem.score(normal[1]);
      expect(same.windowScore).toBeGreaterThan(0);
      expect(same.windowScore).toBeLessThanOrEqual(2 / 510);
      expect(Math.max(...same.map)).toBeLessThanOrEqual((2 / 510) ** 2);
      const held = await exact.score(normal[1]);
      expect(held.windowScore).toBe(0);
      expect(Math.max(...held.map)).toBe(0);
      const click = normal[1].slice();
      for (const m of [10, 11]) click[m * F + 12] += 8; // bins 10-11, frame 12
      const r = await mem.score(click);
      expect(r.windowScore).toBeGreaterThan(0.5);
      let best = 0;
      for (let i = 1; i < r.map.length; i++) if (r.map[i] > r.map[best]) best = i;
      expect(Math.floor(best / F)).toBeGreaterThanOrEqual(9);
      expect(Math.floor(best / F)).toBeLessThanOrEqual(12);
      expect(Math.abs((best % F) - 12)).toBeLessThanOrEqual(1);
      // The one-byte memory moves a score by at most its largest step: the nearest context moved that little.
      const f = await exact.score(click);
      expect(Math.abs(r.windowScore - f.windowScore)).toBeLessThanOrEqual(2 / 510);
    } finally {
      mem.dispose();
      exact.dispose();
      columns.dispose();
    }
  });

  it('learns taught windows, and forgets them when the teaching is withdrawn (columns)', async () => {
    const mem = ContextMemory.fit([noise(M * F, 1)], M, 3);
    try {
      const other = noise(M * F, 9, 3);
      const before = (await mem.score(other)).windowScore;
      expect(before).toBeGreaterThan(1);
      mem.teach([other]);
      expect(mem.size).toBe(2 * (F - 2));
      expect((await mem.score(other)).windowScore).toBe(0);
      mem.teach([]);
      expect(mem.size).toBe(F - 2);
      expect((await mem.score(other)).windowScore).toBe(before);
    } finally {
      mem.dispose();
    }
  });

  it('learns taught windows, and forgets them when the teaching is withdrawn (flat index)', async () => {
    const mem = ContextMemory.fit([noise(M * F, 1)], M, 3, 1, { layout: 'index' });
    try {
      const other = noise(M * F, 9, 3);
      const before = (await mem.score(other)).windowScore;
      expect(before).toBeGreaterThan(1);
      // Taught sound three times louder than the fitted memory's range is held on ranges of its own, not
      // clipped to the fitted ones: within a step of 6 / 255.
      mem.teach([other]);
      expect((await mem.score(other)).windowScore).toBeLessThanOrEqual(6 / 510);
      mem.teach([]);
      expect((await mem.score(other)).windowScore).toBe(before);
    } finally {
      mem.dispose();
    }
  });

  it('keeps a k-center coreset of its contexts: one per kind of normal sound before a second of any', async () => {
    // Four kinds of normal sound, each steady over time (a fixed level per bin, plus a little noise): the
    // contexts of one window lie close together, those of two windows far apart.
    const steady = (seed: number) => {
      const level = noise(M, seed, 3);
      const fine = noise(M * F, seed + 100, 0.01);
      return Float32Array.from(fine, (v, i) => v + level[Math.floor(i / F)]);
    };
    const normal = [1, 2, 3, 4].map(steady);
    const rows = 4 * (F - 4);
    // Float32 storage: the rows are compared to the bit.
    const all = ContextMemory.fit(normal, M, 5, 1, { storage: 'float32' });
    const mem = ContextMemory.fit(normal, M, 5, 4 / rows, { storage: 'float32' });
    const indexed = ContextMemory.fit(normal, M, 5, 4 / rows, { layout: 'index', storage: 'float32' });
    try {
      expect(mem.size).toBe(4);
      // Every kept vector is one of the memory's, in the memory's order.
      const kept = Array.from({ length: 4 }, (_, r) => mem.baseBank.subarray(r * M * 5, (r + 1) * M * 5));
      const at = kept.map((v) =>
        Array.from({ length: rows }).findIndex((_, r) =>
          all.baseBank.subarray(r * M * 5, (r + 1) * M * 5).every((x, i) => x === v[i]),
        ),
      );
      expect(at.every((i) => i >= 0)).toBe(true);
      expect(at).toEqual([...at].sort((a, b) => a - b));
      // Held as columns (each kept context its own run of columns) or as a flat index, the same contexts.
      expect(Array.from(indexed.baseBank)).toEqual(Array.from(mem.baseBank));
      // One per kind: every normal window stays within its own noise, a fifth kind does not.
      for (const w of normal) expect((await mem.score(w)).windowScore).toBeLessThan(0.05);
      expect((await mem.score(steady(5))).windowScore).toBeGreaterThan(1);
      expect(() => ContextMemory.fit(normal, M, 5, 0)).toThrow(/contextCoreset \(0\) must be in \(0, 1\]/);
      expect(() => resolveDetectorConfig({ contextCoreset: 1.5 })).toThrow(
        /contextCoreset \(1.5\) must be in \(0, 1\], e.g. 0.25/,
      );
    } finally {
      all.dispose();
      mem.dispose();
      indexed.dispose();
    }
  });

  it("searches a large memory through the bounded search, with the flat search's scores to the bit", async () => {
    // A machine-like memory: each bin's level drifts slowly over the windows, with a little noise, so most
    // contexts of a new window have a near twin (the case the bound prunes), and one window has a click.
    const steady = (seed: number, drift: number) => {
      const level = noise(M, 7, 3);
      const fine = noise(M * F, seed, 0.2);
      return Float32Array.from(fine, (v, i) => v + level[Math.floor(i / F)] + drift * Math.sin(i / F));
    };
    const normal = Array.from({ length: 160 }, (_, s) => steady(s + 1, (s % 20) / 20));
    const fresh = [steady(501, 0.33), steady(502, 0.71)];
    const click = steady(503, 0.5);
    for (const m of [4, 5]) click[m * F + 9] += 6;
    const bounded = ContextMemory.fit(normal, M, 5, 1, { layout: 'index', bound: true });
    const flat = ContextMemory.fit(normal, M, 5, 1, { layout: 'index' });
    const small = ContextMemory.fit(normal.slice(0, 10), M, 5, 1, { layout: 'index', bound: true });
    const columns = ContextMemory.fit(normal, M, 5, 1, { bound: true });
    try {
      expect(bounded.size).toBeGreaterThanOrEqual(MIN_BOUND_ROWS);
      expect([bounded.bounded, flat.bounded, small.bounded, columns.bounded]).toEqual([
        true,
        false,
        false,
        false,
      ]);
      for (const w of [...fresh, click, normal[3]]) {
        const [a, b] = [await bounded.score(w), await flat.score(w)];
        expect(a.windowScore).toBe(b.windowScore);
        expect(Buffer.from(a.map.buffer).equals(Buffer.from(b.map.buffer))).toBe(true);
      }
      // A taught memory keeps the fitted axes, and its answers.
      bounded.teach([click]);
      flat.teach([click]);
      expect(bounded.bounded).toBe(true);
      expect((await bounded.score(click)).windowScore).toBeLessThan(0.05);
      expect((await bounded.score(click)).windowScore).toBe((await flat.score(click)).windowScore);
      expect((await bounded.score(fresh[0])).windowScore).toBe((await flat.score(fresh[0])).windowScore);
    } finally {
      [bounded, flat, small, columns].forEach((m) => m.dispose());
    }
  });

  it('refuses bad shapes with the value and the rule', async () => {
    expect(() => new ContextMemory(M, 4, new Float32Array(M * 4))).toThrow(
      /contextFrames \(4\) must be an odd/,
    );
    expect(() => new ContextMemory(M, 3, new Float32Array(10))).toThrow(/not whole rows of 48/);
    expect(
      () => new ContextMemory(M, 3, { columns: new Float32Array(10), starts: new Int32Array([0]) }),
    ).toThrow(/not whole columns of 16/);
    expect(
      () => new ContextMemory(M, 3, { columns: new Float32Array(M * 4), starts: new Int32Array([0, 2]) }),
    ).toThrow(/starts\[1\] \(2\) must be in \[0, 1\]/);
    const mem = ContextMemory.fit([noise(M * F, 1)], M, 3);
    await expect(mem.score(new Float32Array(M * 2))).rejects.toThrow(/>= 3 frames/);
    mem.dispose();
  });
});

describe('tonal envelope', () => {
  /** A window whose every frame has the spectrum `levels` (dB per bin) plus 0.5 dB of noise. */
  const window = (levels: ArrayLike<number>, seed: number) => {
    const n = noise(M * F, seed, 0.5);
    for (let m = 0; m < M; m++) for (let t = 0; t < F; t++) n[m * F + t] += levels[m];
    return n;
  };
  const flat = new Float32Array(M).fill(-40);
  const withPeak = (bin: number, db: number) => flat.map((v, m) => (m === bin ? v + db : v));

  it('measures a bin against its neighbours: 0 on a flat spectrum, the peak height on a one-bin peak', () => {
    const p = prominence(window(withPeak(6, 8), 1), M);
    expect(p[6]).toBeCloseTo(8, 0);
    for (const m of [0, 3, 10, 15]) expect(Math.abs(p[m])).toBeLessThan(0.5);
  });

  it('scores a new tone by its dB above the normal envelope, whatever the gain, and ignores a normal peak that moved one bin', () => {
    const normal = [1, 2, 3, 4].map((s) => window(withPeak(3, 10), s));
    const env = TonalEnvelope.fit(normal, M, 3);
    expect(env.score(normal[0]).windowScore).toBeCloseTo(1 / 4, 1);
    const tone = window(
      withPeak(3, 10).map((v, m) => (m === 11 ? v + 7 : v)),
      5,
    );
    const r = env.score(tone);
    expect(r.windowScore).toBeGreaterThan((1 + 6) / 4);
    expect(r.windowScore).toBeLessThan((1 + 8) / 4);
    expect(r.map[11 * F]).toBeCloseTo(r.map[11 * F + F - 1], 6); // the same in every frame
    expect(r.map[11 * F]).toBeGreaterThan(2);
    expect(r.map[8 * F]).toBe(0);
    const louder = tone.map((v) => v + 20);
    expect(env.score(louder).windowScore).toBeCloseTo(r.windowScore, 4);
    expect(env.score(window(withPeak(4, 10), 6)).windowScore).toBeLessThan(1);
  });

  it('learns a taught tone and forgets it again', () => {
    const env = TonalEnvelope.fit([window(flat, 1)], M, 3);
    const tone = window(withPeak(9, 9), 2);
    expect(env.score(tone).windowScore).toBeGreaterThan(2);
    env.teach([tone]);
    expect(env.score(tone).windowScore).toBeLessThan(0.5);
    env.teach([]);
    expect(env.score(tone).windowScore).toBeGreaterThan(2);
    expect(() => new TonalEnvelope(new Float32Array(M), 0)).toThrow(/tonalMarginDb \(0\) must be > 0/);
  });
});

describe('modulation spectrum', () => {
  // 1 s windows of 64 frames at 64 frames/s: DFT bin k is k Hz. 8 bands of 4 mel bins.
  const grid = { nMels: 32, windowFrames: 64, bands: 8, frameRate: 64 };
  /** A window of noise (+-1 dB) with an optional rhythm of `depthDb` at `hz` in mel bins [m0, m1). */
  const window = (seed: number, rhythm?: { hz: number; depthDb: number; m0: number; m1: number }) => {
    const w = noise(32 * 64, seed);
    for (let m = 0; m < 32; m++)
      for (let t = 0; t < 64; t++) {
        w[m * 64 + t] += -20 + 0.05 * t; // a level and a slow drift, which the features remove
        if (rhythm && m >= rhythm.m0 && m < rhythm.m1)
          w[m * 64 + t] += rhythm.depthDb * Math.sin((2 * Math.PI * rhythm.hz * t) / 64);
      }
    return w;
  };
  const normal = Array.from({ length: 40 }, (_, i) => window(100 + i));

  it('scores a new rhythm in a band by its z-score against normal windows, and puts it on that band', () => {
    const mod = ModulationSpectrum.fit(normal, grid);
    const quiet = mod.score(window(7));
    expect(quiet.windowScore).toBeLessThan(5);
    // Impact-like: 12 Hz, 3 dB, in mel bins 8..11 (band 2).
    const hit = mod.score(window(7, { hz: 12, depthDb: 3, m0: 8, m1: 12 }));
    expect(hit.windowScore).toBeGreaterThan(4 * quiet.windowScore);
    const band = (b: number) => hit.map[b * 4 * 64 + 10];
    expect(band(2)).toBeCloseTo(hit.windowScore, 5);
    expect(band(0)).toBeLessThan(hit.windowScore / 4);
    // Gain and drift change nothing: the features remove each band's level and slope.
    const louder = normal[3].map((v, i) => v + 12 + 0.1 * (i % 64));
    expect(mod.score(louder).windowScore).toBeCloseTo(mod.score(normal[3]).windowScore, 3);
  });

  it('sees a shallow swell shared by many bands in their comodulation, where no single cell stands out', () => {
    const mod = ModulationSpectrum.fit(normal, grid);
    const quiet = Array.from({ length: 20 }, (_, i) => mod.score(window(500 + i)));
    const quietCell = Math.max(...quiet.map((q) => q.windowScore));
    const quietCo = Math.max(...quiet.map((q) => q.comodulation));
    // 6 Hz, 0.5 dB, in every band: each band's cell is hardly over the noise, the bands together are.
    const swell = Array.from({ length: 20 }, (_, i) =>
      mod.score(window(500 + i, { hz: 6, depthDb: 0.5, m0: 0, m1: 32 })),
    );
    const swellCell = Math.max(...swell.map((q) => q.windowScore));
    const swellCo = Math.min(...swell.map((q) => q.comodulation));
    expect(swellCell).toBeLessThan(2 * quietCell);
    expect(swellCo).toBeGreaterThan(2 * quietCo);
    // The map keeps the bands' own cells.
    expect(swell[0].map[10]).toBeLessThanOrEqual(swell[0].windowScore);
    // Half the bands: the half's group sees it too.
    const half = mod.score(window(500, { hz: 6, depthDb: 0.5, m0: 16, m1: 32 }));
    expect(half.comodulation).toBeGreaterThan(2 * quietCo);
  });

  it('sums z-scores over groups of adjacent bands, over the square root of their size', () => {
    // 4 bands x 2 modulation frequencies, band-major.
    const z = [1, 0, 1, 0, 1, 0, 1, 0];
    // All four bands at frequency 0: 4 / 2.
    expect(comodulation(z, 4, 2)).toBeCloseTo(2, 12);
    // One band alone is not a group: the largest pair (bands 2, 3 at frequency 1: 3 / sqrt 2).
    expect(comodulation([0, 0, 0, 0, 0, 3, 0, 0], 4, 2)).toBeCloseTo(3 / Math.SQRT2, 12);
    // Never under 0; one band has no groups.
    expect(comodulation([-1, -2, -1, -2], 2, 2)).toBe(0);
    expect(comodulation([5, 5], 1, 2)).toBe(0);
  });

  it('learns a taught rhythm and forgets it again', () => {
    const mod = ModulationSpectrum.fit(normal, grid);
    const fault = Array.from({ length: 60 }, (_, i) => window(300 + i, { hz: 5, depthDb: 4, m0: 0, m1: 32 }));
    const before = mod.score(fault[0]).windowScore;
    mod.teach(fault.slice(1));
    expect(mod.score(fault[0]).windowScore).toBeLessThan(before / 4);
    mod.teach([]);
    expect(mod.score(fault[0]).windowScore).toBe(before);
  });

  it('refuses bad shapes with the value and the rule', () => {
    expect(() => ModulationSpectrum.fit(normal, { ...grid, bands: 0 })).toThrow(
      /modulationBands \(0\) must be a whole number in \[1, nMels = 32\]/,
    );
    expect(() => ModulationSpectrum.fit(normal, { ...grid, windowFrames: 3 })).toThrow(
      /resolves no modulation/,
    );
    expect(() => ModulationSpectrum.fit([], grid)).toThrow(/at least one normal window/);
    expect(() => ModulationSpectrum.fit(normal, grid).score(new Float32Array(5))).toThrow(
      /window has 5 values; need nMels x windowFrames = 32 x 64/,
    );
    expect(() => resolveDetectorConfig({ modulationBands: 1.5 })).toThrow(/modulationBands \(1.5\)/);
    expect(() => resolveDetectorConfig({ fusion: 'mean' as never })).toThrow(
      /fusion \('mean'\) must be one of sum, max/,
    );
  });
});

describe('fusion', () => {
  const parts = (method: number, context: number, tonal: number, cells: number[][]): WindowParts => ({
    method: { windowScore: method, map: Float32Array.from(cells[0]) },
    context: { windowScore: context, map: Float32Array.from(cells[1]) },
    tonal: { windowScore: tonal, map: Float32Array.from(cells[2]) },
  });

  it('takes the largest part on the scale of normal sound, score and cells', () => {
    const scales = { method: 10, context: 2, contextMap: 4 };
    const p = parts(12, 1, 0.5, [
      [10, 20, 0, 5],
      [4, 0, 8, 0],
      [0, 0, 0, 3],
    ]);
    const f = fuseWindow(p, scales);
    expect(f.windowScore).toBeCloseTo(1.2, 10);
    expect(Array.from(f.map)).toEqual([1, 2, 2, 3]);
    expect(
      fuseWindow({ ...p, tonal: { windowScore: 2, map: new Float32Array(4) } }, scales).windowScore,
    ).toBe(2);
  });

  it('adds the parts on their scales with the sum rule; the map stays the cell-wise largest', () => {
    const scales = { method: 10, context: 2, contextMap: 4, tonal: 0.5, modulation: 4 };
    const p: WindowParts = {
      ...parts(12, 1, 0.5, [
        [10, 20, 0, 5],
        [4, 0, 8, 0],
        [0, 0, 0, 3],
      ]),
      modulation: { windowScore: 6, comodulation: 0, map: Float32Array.from([0, 0, 16, 0]) },
    };
    const f = fuseWindow(p, scales, 'sum');
    expect(f.windowScore).toBeCloseTo(1.2 + 0.5 + 1 + 1.5, 10);
    expect(Array.from(f.map)).toEqual([1, 2, 4, 3]);
    expect(() => fuseWindow(p, { method: 10, context: 2, contextMap: 4 }, 'sum')).toThrow(
      /no tonal scale \(undefined\); fit the model again/,
    );
  });

  it('with the union rule takes the largest of the sum and each part, each over its level', () => {
    const levels = { sum: 3, method: 1.5, context: 2, tonal: 1.2, modulation: 1.1 };
    const scales = { method: 10, context: 2, contextMap: 4, tonal: 0.5, modulation: 4, levels };
    const p: WindowParts = {
      ...parts(12, 1, 0.5, [
        [10, 20, 0, 5],
        [4, 0, 8, 0],
        [0, 0, 0, 3],
      ]),
      modulation: { windowScore: 6, comodulation: 0, map: Float32Array.from([0, 0, 16, 0]) },
    };
    // Scaled parts 1.2, 0.5, 1, 1.5 (sum 4.2): over their levels 0.8, 0.25, 0.83, 1.36 and 1.4.
    expect(fuseWindow(p, scales, 'union').windowScore).toBeCloseTo(4.2 / 3, 10);
    // A click that lifts the context memory alone (8 / 2 = 4, the others 0.5 each): the sum, 5.5, is 1.83
    // of its level, the memory alone 2.
    const click: WindowParts = {
      method: { windowScore: 5, map: new Float32Array(4) },
      context: { windowScore: 8, map: new Float32Array(4) },
      tonal: { windowScore: 0.25, map: new Float32Array(4) },
      modulation: { windowScore: 2, comodulation: 0, map: new Float32Array(4) },
    };
    expect(fuseWindow(click, scales, 'union').windowScore).toBeCloseTo(2, 10);
    expect(Array.from(fuseWindow(p, scales, 'union').map)).toEqual([1, 2, 4, 3]);
    expect(() => fuseWindow(p, { ...scales, levels: undefined }, 'union')).toThrow(
      /no levels for rule 'union'; fit the model again/,
    );
  });

  it("fits the union's levels with the threshold rule, never under a statistic's held-out maximum", () => {
    const clip = (m: number, c: number) => [parts(m, c, 0.5, [[0], [1], [0]])];
    const clips = [clip(4, 1), clip(5, 2), clip(2, 0.5)];
    const scales = fitFusionScales(clips);
    const seen: number[][][] = [];
    const levels = fitFusionLevels(clips, scales, (s) => {
      seen.push(s);
      return 0;
    });
    // Each statistic of a part the model has, per clip in time order; a rule under the held-out maximum
    // gives way to it (a part's is 1 on its own scale; the sum's is clip 2's 1 + 1 + 1).
    expect(seen.map((s) => s.length)).toEqual([3, 3, 3, 3]);
    expect(levels).toEqual({ sum: 3, method: 1, context: 1, tonal: 1, modulation: 0 });
    expect(fitFusionLevels(clips, scales, () => 7)).toMatchObject({ sum: 7, method: 7, modulation: 0 });
  });

  it('with the levels rule each part is over its own level (a gamma quantile of its held-out clip maxima)', () => {
    // Three held-out clips of one window each: method 4, 5, 2 and context 1, 2, 0.5 (tonal 0.5 each).
    const clip = (m: number, c: number) => [parts(m, c, 0.5, [[0], [1], [0]])];
    const clips = [clip(4, 1), clip(5, 2), clip(2, 0.5), clip(4.5, 0.8), clip(3, 1.1)];
    const scales = fitFusionScales(clips);
    const levels = fitPartLevels(clips, scales, 0.99);
    // Three parts share the 1 % (Bonferroni): each level is its gamma's 1 - 0.01 / 3 quantile.
    const gamma = (xs: number[]) => Calibration.fit(xs, { method: 'gamma', q: 1 - 0.01 / 3 }).threshold;
    // On each part's own scale (method / 5, context / 2): that quantile of its maxima; no sum.
    expect(levels.method).toBeCloseTo(gamma([4, 5, 2, 4.5, 3].map((x) => x / 5)), 10);
    expect(levels.context).toBeCloseTo(gamma([1, 2, 0.5, 0.8, 1.1].map((x) => x / 2)), 10);
    expect(levels).toMatchObject({ sum: 0, modulation: 0 });
    // The tonal envelope's maxima are all 0.5 (1 on its scale): no spread, no gamma; the level is that value.
    expect(levels.tonal).toBe(1);
    // Maxima at the envelope's floor in 15 clips of 16 and one clip over it: the gamma's quantile (0.85 of
    // that clip's) would pass a held-out clip; the level is never under the largest held-out maximum.
    const floor = Array.from({ length: 16 }, (_, i) => [
      parts(3 + (i % 5) * 0.3, 1 + (i % 3) * 0.2, i === 7 ? 1 : 0.53, [[0], [1], [0]]),
    ]);
    const tonal = [...Array(15).fill(0.53), 1];
    expect(gamma(tonal)).toBeLessThan(0.9);
    expect(fitPartLevels(floor, fitFusionScales(floor), 0.99).tonal).toBe(1);
    // A click that lifts the context memory alone: judged on the memory's level, whatever the method's tail.
    const click: WindowParts = {
      method: { windowScore: 2, map: new Float32Array(3) },
      context: { windowScore: 2.4, map: new Float32Array(3) },
      tonal: { windowScore: 0.25, map: new Float32Array(3) },
    };
    const s = { ...scales, levels };
    expect(fuseWindow(click, s, 'levels').windowScore).toBeCloseTo(2.4 / 2 / levels.context, 10);
    expect(() => fuseWindow(click, scales, 'levels')).toThrow(
      /no levels for rule 'levels'; fit the model again/,
    );
    const threshold = Calibration.atLevels([0.8, 0.9, 1.1], 0.99);
    expect(threshold.toJSON()).toMatchObject({ method: 'levels', q: 0.99, threshold: 1, n: 3 });
    expect(Calibration.fromJSON(JSON.parse(JSON.stringify(threshold))).normalise(1.5)).toBe(1.5);
  });

  it('judges the modulation spectrum on the larger of its cell and its comodulation, each on its own scale', () => {
    const mod = (windowScore: number, co: number) => ({
      windowScore,
      comodulation: co,
      map: new Float32Array(1),
    });
    const clip = (m: number, cell: number, co: number) => [
      { ...parts(m, 1, 0.5, [[0], [1], [0]]), modulation: mod(cell, co) },
    ];
    const clips = [clip(4, 3, 2), clip(5, 4, 3), clip(3, 5, 6), clip(4.5, 2, 1), clip(3.5, 3.5, 2.5)];
    const scales = fitFusionScales(clips);
    expect(scales).toMatchObject({ modulation: 5, comodulation: 6 });
    const window = { ...parts(1, 0, 0, [[0], [0], [0]]), modulation: mod(2.5, 9) };
    expect(fusionStatistics(window, scales).modulation).toBeCloseTo(9 / 6, 12);
    expect(fusionStatistics({ ...window, modulation: mod(4, 3) }, scales).modulation).toBeCloseTo(0.8, 12);
    // A model fitted before the comodulation has no scale for it: the cell alone, as it scored then.
    const { comodulation: _, ...before } = scales;
    expect(fusionStatistics(window, before).modulation).toBeCloseTo(0.5, 12);
    // One test, not two: the levels rule shares its 1 % over the same four parts.
    const levels = fitPartLevels(clips, scales, 0.99);
    expect(Object.keys(levels).sort()).toEqual(['context', 'method', 'modulation', 'sum', 'tonal']);
    const gamma = (xs: number[]) => Calibration.fit(xs, { method: 'gamma', q: 1 - 0.01 / 4 }).threshold;
    expect(levels.modulation).toBeCloseTo(gamma([0.6, 0.8, 1, 0.4, 0.7]), 10);
    // A damaged scale is refused by name.
    expect(() => fusionStatistics(window, { ...scales, comodulation: -1 })).toThrow(
      /no comodulation scale \(-1\); fit the model again/,
    );
  });

  it("mixes a share of each frame's mean over bins into its cells", () => {
    const map = Float32Array.from([0, 4, 2, 0]); // 2 bins x 2 frames: frame means 1 and 2
    expect(Array.from(shareTime(map, 2, 0.5))).toEqual([0.5, 3, 1.5, 1]);
    expect(Array.from(shareTime(Float32Array.from([1, 2]), 1, 0))).toEqual([1, 2]);
  });

  it('fits its scales on the held-out clips: the largest clip scores and a high quantile of the context cells', () => {
    const cells = Array.from({ length: 1000 }, (_, i) => i + 1);
    const clip1 = [parts(3, 0.5, 0.2, [[0], cells, [0]]), parts(5, 0.7, 0.2, [[0], [0], [0]])];
    const clip2 = [parts(4, 0.9, 0.2, [[0], [0], [0]])];
    const s = fitFusionScales([clip1, clip2]);
    expect(s).toMatchObject({ method: 5, context: 0.9, tonal: 0.2, modulation: 0 });
    expect(s.contextMap).toBeGreaterThan(990);
    expect(() => fitFusionScales([[parts(0, 1, 1, [[0], [1], [0]])]])).toThrow(/method scale of 0/);
  });

  it('is configured with validated fields', () => {
    expect(resolveDetectorConfig()).toMatchObject({
      contextFrames: 5,
      tonalMarginDb: 3,
      modulationBands: 16,
      impulseBands: 16,
      fusion: 'levels',
      calibrationFolds: 'leave-one-out',
      timeShare: 0.6,
    });
    expect(() => resolveDetectorConfig({ contextFrames: 4 })).toThrow(
      /contextFrames \(4\) must be 0 \(off\) or an odd/,
    );
    expect(() => resolveDetectorConfig({ contextFrames: 99 })).toThrow(/must be <= the window's 63 frames/);
    expect(() => resolveDetectorConfig({ tonalMarginDb: -1 })).toThrow(
      /tonalMarginDb \(-1\) must be a number >= 0/,
    );
    expect(() => resolveDetectorConfig({ timeShare: 1 })).toThrow(/timeShare \(1\) must be in \[0, 1\)/);
  });
});
