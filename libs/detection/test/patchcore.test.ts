import { describe, expect, it } from 'vitest';
import { Random } from '@hark/dsp';
import { PatchCore } from '../src/patchcore/model.js';
import { reweightedScore } from '../src/patchcore/reweight.js';

/** `n` points around `centres` cluster centres in `dim` dimensions (spread 0.1). */
function clusters(n: number, dim: number, centres: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const c = Float32Array.from({ length: centres * dim }, () => rng.gaussian() * 3);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < dim; j++) x[i * dim + j] = c[(i % centres) * dim + j] + 0.1 * rng.gaussian();
  return x;
}

describe('PatchCore', () => {
  const dim = 16;

  it('keeps coresetRatio of the patches and scores training-like patches near zero, unseen ones high', async () => {
    const train = clusters(2000, dim, 20, 1);
    const model = new PatchCore({ coresetRatio: 0.1 });
    model.fitPatches(train, 2000, dim);
    expect(model.bankSize).toBe(200);
    const normal = clusters(50, dim, 20, 1); // the first 50 training patches; most are not in the coreset
    const far = new Float32Array(dim).fill(9);
    const queries = new Float32Array(51 * dim);
    queries.set(normal);
    queries.set(far, 50 * dim);
    const { scores, nearest } = await model.scorePatches(queries, 51);
    const maxNormal = Math.max(...scores.subarray(0, 50));
    expect(maxNormal).toBeLessThan(1);
    expect(scores[50]).toBeGreaterThan(10 * maxNormal);
    expect(nearest.every((l) => l >= 0 && l < 200)).toBe(true);
  });

  it('gives the maximum patch score with scoreMode max, and a down-weighted one with eq. 7', async () => {
    const train = clusters(500, dim, 5, 2);
    const max = new PatchCore({ scoreMode: 'max', coresetRatio: 0.5 });
    const rew = new PatchCore({ coresetRatio: 0.5 });
    max.fitPatches(train, 500, dim);
    rew.fitPatches(train, 500, dim);
    const q = clusters(10, dim, 5, 3);
    const pMax = await max.scorePatches(q, 10);
    const sMax = await max.windowScore(q, pMax);
    expect(sMax).toBeCloseTo(Math.max(...pMax.scores), 6);
    const pRew = await rew.scorePatches(q, 10);
    const sRew = await rew.windowScore(q, pRew);
    expect(sRew).toBeGreaterThan(0);
    expect(sRew).toBeLessThan(Math.max(...pRew.scores));
  });

  it('refuses to score before fit and rejects bad options and shapes', async () => {
    expect(() => new PatchCore({ coresetRatio: 0 })).toThrow(/coresetRatio \(0\)/);
    expect(() => new PatchCore({ numNeighbors: 0 })).toThrow(/numNeighbors \(0\)/);
    const model = new PatchCore();
    await expect(model.scorePatches(new Float32Array(dim), 1)).rejects.toThrow(/not fitted/);
    expect(() => model.fitPatches(new Float32Array(10), 1, dim)).toThrow(/expected n \* dim/);
    model.fitPatches(clusters(20, dim, 2, 4), 20, dim);
    await expect(model.scorePatches(new Float32Array(dim + 1), 1)).rejects.toThrow(/expected 1 \* 16/);
  });
});

describe('PatchCore as an AnomalyMethod', () => {
  it('fits on windows, scores a window, and restores from its state with identical scores', async () => {
    const grid = { height: 4, width: 5, dim: 16 };
    const train = clusters(30 * 20, 16, 7, 5);
    const model = new PatchCore({ coresetRatio: 0.25 });
    model.fit(train, 30, grid);
    expect(model.bankSize).toBe(150);
    const window = clusters(20, 16, 7, 5); // training-like patches (same centres)...
    window.fill(40, 3 * 16, 4 * 16); // ...and one far from all of them
    const a = await model.score(window);
    expect(a.patchScores).toHaveLength(20);
    expect(Array.from(a.patchScores).indexOf(Math.max(...a.patchScores))).toBe(3);
    const restored = PatchCore.fromState(model.state());
    const b = await restored.score(window);
    expect(b.patchScores).toEqual(a.patchScores);
    expect(b.windowScore).toBe(a.windowScore);
  });
});

describe('PatchCore taught by operator feedback', () => {
  it('adds taught patches to the fitted coreset, replaces them when taught again, and restores it on []', async () => {
    const dim = 16;
    const model = new PatchCore({ coresetRatio: 0.1 });
    model.fitPatches(clusters(1000, dim, 10, 6), 1000, dim);
    const fitted = model.bank;
    const far = new Float32Array(2 * dim).fill(9);
    far.fill(-9, dim);
    const before = await model.scorePatches(far, 2);
    expect(Math.min(...before.scores)).toBeGreaterThan(10);
    model.teach(far);
    expect(model.bankSize).toBe(102);
    expect(Array.from((await model.scorePatches(far, 2)).scores)).toEqual([0, 0]);
    model.teach(far.subarray(0, dim)); // replaces the first teaching: only the first patch is known now
    expect(model.bankSize).toBe(101);
    const once = await model.scorePatches(far, 2);
    expect(once.scores[0]).toBe(0);
    expect(once.scores[1]).toBe(before.scores[1]);
    // The state is the fitted coreset: a saved model does not carry the feedback.
    expect(model.state().arrays.bank).toBe(fitted);
    expect(model.baseBank).toBe(fitted);
    model.teach(new Float32Array(0));
    // Restored: the fitted coreset, held once (the bank is the new index's storage, and it is the base).
    expect(Array.from(model.bank)).toEqual(Array.from(fitted));
    expect(model.baseBank).toBe(model.bank);
    expect(Array.from((await model.scorePatches(far, 2)).scores)).toEqual(Array.from(before.scores));
    expect(() => model.teach(new Float32Array(dim + 1))).toThrow(
      /17 values, not a whole number of rows of dim 16/,
    );
    expect(() => new PatchCore().teach(far)).toThrow(/not fitted/);
  });
});

describe('PatchCore without some training patches (cross-fitting)', () => {
  it('keeps the coreset rows not dropped, scores with them, and says null once the rows are unknown', async () => {
    const dim = 8;
    // Two far-apart halves: rows 0-499 around one set of centres, rows 500-999 around another.
    const a = clusters(500, dim, 5, 2);
    const b = clusters(500, dim, 5, 3).map((v) => v + 50);
    const train = new Float32Array(1000 * dim);
    train.set(a);
    train.set(b, 500 * dim);
    const model = new PatchCore({ coresetRatio: 0.1 });
    model.fitPatches(train, 1000, dim);
    const onlyA = model.without((row) => row >= 500)!;
    expect(onlyA.bankSize).toBeGreaterThan(0);
    expect(onlyA.bankSize).toBeLessThan(model.bankSize);
    expect(model.without(() => false)!.bankSize).toBe(model.bankSize);
    for (let i = 0; i < onlyA.bankSize; i++) expect(onlyA.bank[i * dim]).toBeLessThan(25); // all from half a
    // A patch of half b: near zero for the whole model, far for the model without half b.
    const q = b.subarray(0, dim);
    const whole = (await model.scorePatches(q, 1)).scores[0];
    const without = (await onlyA.scorePatches(q, 1)).scores[0];
    expect(whole).toBeLessThan(1);
    expect(without).toBeGreaterThan(30);
    expect(model.without(() => true)).toBeNull();
    const loaded = PatchCore.fromState(model.state());
    expect(loaded.without(() => false)).toBeNull();
    for (const m of [model, onlyA, loaded]) m.dispose();
  });
});

describe('reweightedScore (eq. 7)', () => {
  it('matches the formula on a hand-computed case', () => {
    // Test patch at 0; support patches at distances 1 (m*), 2 and 3.
    const bank = Float32Array.from([1, 2, 3]);
    const w = 1 - Math.exp(1) / (Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(reweightedScore(Float32Array.from([0]), 0, bank, 1, [0, 1, 2], 1)).toBeCloseTo(w, 12);
    // A lone support patch gives weight 0: nothing to compare against.
    expect(reweightedScore(Float32Array.from([0]), 0, bank, 1, [0], 5)).toBe(0);
  });
});
