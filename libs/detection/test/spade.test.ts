import { describe, expect, it } from 'vitest';
import { Random } from '@hark/dsp';
import { Spade } from '../src/spade/model.js';

/** `nWindows` windows of `[n, dim]` patches around `centres` shared centres (spread 0.1), each window in one of two states. */
function windows(nWindows: number, n: number, dim: number, seed: number, centres = 5): Float32Array {
  const rng = new Random(1000);
  const c = Float32Array.from({ length: centres * dim }, () => rng.gaussian() * 3);
  const state = Float32Array.from({ length: 2 * dim }, () => rng.gaussian());
  const noise = new Random(seed);
  const x = new Float32Array(nWindows * n * dim);
  for (let w = 0; w < nWindows; w++) {
    for (let p = 0; p < n; p++) {
      const row = (w * n + p) * dim;
      for (let j = 0; j < dim; j++)
        x[row + j] = c[(p % centres) * dim + j] + state[(w % 2) * dim + j] + 0.1 * noise.gaussian();
    }
  }
  return x;
}

const argmax = (a: Float32Array) => a.indexOf(Math.max(...a));

describe('SPADE', () => {
  // Windows of 1 x 2 patches, dim 1; f = the mean of the two patches.
  // w0 [0, 2] f = 1 · w1 [10, 12] f = 11 · w2 [3, 3] f = 3 · w3 [3.5, 8.5] f = 6.
  // Test y = [1, 3.5], f_y = 2.25: ‖f − f_y‖² = 1.5625, 76.5625, 0.5625, 14.0625.
  const train = Float32Array.from([0, 2, 10, 12, 3, 3, 3.5, 8.5]);
  const grid = { height: 1, width: 2, dim: 1 };
  const y = Float32Array.from([1, 3.5]);

  it('matches the paper on a hand-computed case: K nearest windows, then κ nearest patches of their gallery', async () => {
    // K = 2: N_K = {w2, w0}, d(y) = (0.5625 + 1.5625) / 2; gallery G = {0, 2, 3, 3} (w3's 3.5 is not in it).
    const model = new Spade({ topK: 2, windowScore: 'global' });
    model.fit(train, 4, grid);
    let s = await model.score(y);
    expect(s.windowScore).toBeCloseTo(1.0625, 6);
    expect(Array.from(s.patchScores)).toEqual([1, 0.25]); // 1 -> 0 or 2; 3.5 -> 3
    // κ = 3: patch 1 averages {0, 2, 3} -> (1 + 1 + 4) / 3, patch 3.5 averages {3, 3, 2} -> (0.25 + 0.25 + 2.25) / 3.
    const kappa3 = new Spade({ topK: 2, patchNeighbors: 3 });
    kappa3.fit(train, 4, grid);
    s = await kappa3.score(y);
    expect(s.patchScores[0]).toBeCloseTo(2, 6);
    expect(s.patchScores[1]).toBeCloseTo(2.75 / 3, 6);
    expect(s.windowScore).toBe(s.patchScores[0]); // max-patch
    // topK above the training windows uses all 4: 3.5 is then in the gallery.
    const all = new Spade({ topK: 50, windowScore: 'global' });
    all.fit(train, 4, grid);
    expect(all.k).toBe(4);
    s = await all.score(y);
    expect(s.windowScore).toBeCloseTo((1.5625 + 76.5625 + 0.5625 + 14.0625) / 4, 6);
    expect(Array.from(s.patchScores)).toEqual([1, 0]);
    for (const m of [model, kappa3, all]) m.dispose();
  });

  it('scores a training window zero everywhere and gives an injected odd patch the highest score', async () => {
    const n = 32;
    const train = windows(20, n, 16, 1);
    const model = new Spade();
    model.fit(train, 20, { height: 4, width: 8, dim: 16 });
    const own = await model.score(train.slice(3 * n * 16, 4 * n * 16));
    expect(Math.max(...own.patchScores)).toBe(0); // a training patch is its own nearest neighbour: the exact search sums (x - y)² = 0
    const window = windows(1, n, 16, 2);
    window.fill(6, 21 * 16, 22 * 16);
    const { patchScores, windowScore } = await model.score(window);
    expect(patchScores).toHaveLength(n);
    expect(argmax(patchScores)).toBe(21);
    expect(patchScores[21]).toBeGreaterThan(10 * Math.max(...patchScores.filter((_, i) => i !== 21)));
    expect(windowScore).toBe(patchScores[21]);
    model.dispose();
  });

  it('ranks windows with a small local fault above normal ones by max-patch (default), which the global score cannot', async () => {
    const [n, dim] = [32, 16];
    const grid = { height: 4, width: 8, dim };
    const rng = new Random(3);
    const fault = (x: Float32Array) => {
      for (let j = 0; j < dim; j++) x[9 * dim + j] += 0.8 * rng.gaussian();
      return x;
    };
    const normal = Array.from({ length: 10 }, (_, i) => windows(1, n, dim, 100 + i));
    const faulty = Array.from({ length: 10 }, (_, i) => fault(windows(1, n, dim, 200 + i)));
    const separation = async (model: Spade) => {
      model.fit(windows(30, n, dim, 4), 30, grid);
      const neg = await Promise.all(normal.map(async (x) => (await model.score(x)).windowScore));
      const pos = await Promise.all(faulty.map(async (x) => (await model.score(x)).windowScore));
      model.dispose();
      return Math.min(...pos) - Math.max(...neg);
    };
    expect(await separation(new Spade())).toBeGreaterThan(0);
    expect(await separation(new Spade({ windowScore: 'global' }))).toBeLessThan(0);
  });

  it('restores from its state with identical scores', async () => {
    const grid = { height: 2, width: 8, dim: 8 };
    for (const windowScore of ['max-patch', 'global'] as const) {
      const model = new Spade({ topK: 3, patchNeighbors: 2, windowScore });
      model.fit(windows(12, 16, 8, 5), 12, grid);
      const { json, arrays } = model.state();
      expect(arrays.patches).toHaveLength(12 * 16 * 8);
      expect(arrays.globals).toHaveLength(12 * 8);
      const restored = Spade.fromState({ json: JSON.parse(JSON.stringify(json)), arrays });
      const window = windows(1, 16, 8, 6);
      window.fill(3, 0, 8);
      expect(await restored.score(window)).toEqual(await model.score(window));
      model.dispose();
      restored.dispose();
    }
  });

  it('refuses to score before fit and rejects bad options, shapes and states', async () => {
    expect(() => new Spade({ topK: 0 })).toThrow(/topK \(0\) must be a whole number >= 1/);
    expect(() => new Spade({ patchNeighbors: 1.5 })).toThrow(/patchNeighbors \(1.5\)/);
    expect(() => new Spade({ windowScore: 'mean' as 'global' })).toThrow(
      /windowScore \('mean'\) must be 'max-patch' or 'global'/,
    );
    const model = new Spade();
    await expect(model.score(new Float32Array(2))).rejects.toThrow(/not fitted: call fit\(\)/);
    expect(() => model.state()).toThrow(/not fitted/);
    expect(() => model.fit(train, 3, grid)).toThrow(
      /expected nWindows \* height \* width \* dim = 3 \* 1 \* 2 \* 1/,
    );
    expect(() => model.fit(train, 4, { ...grid, dim: 0 })).toThrow(/grid.dim \(0\)/);
    model.fit(train, 4, grid);
    await expect(model.score(new Float32Array(3))).rejects.toThrow(
      /3 values, expected height \* width \* dim = 1 \* 2 \* 1/,
    );
    const { json, arrays } = model.state();
    expect(() => Spade.fromState({ json, arrays: { ...arrays, patches: new Float64Array(8) } })).toThrow(
      /no Float32Array "patches"/,
    );
    expect(() => Spade.fromState({ json, arrays: { ...arrays, globals: new Float32Array(3) } })).toThrow(
      /expected 4 windows of 1 \* 2 \* 1/,
    );
    model.dispose();
    await expect(model.score(y)).rejects.toThrow(/not fitted/);
  });
});
