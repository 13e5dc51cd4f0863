import { describe, expect, it } from 'vitest';
import { Random } from '@hark/dsp';
import { Padim, chooseChannels } from '../src/padim/model.js';

/**
 * `nWindows` windows of `[height * width, dim]` whose row r patches lie around `rowCentre(r)` (spread 0.3),
 * whatever the column: a spectrogram whose bands differ but whose statistics do not change over time.
 */
function bands(
  nWindows: number,
  height: number,
  width: number,
  dim: number,
  seed: number,
  rowCentre = (r: number) => 4 * r,
): Float32Array {
  const rng = new Random(seed);
  const x = new Float32Array(nWindows * height * width * dim);
  for (let p = 0; p < nWindows * height * width; p++) {
    const row = Math.floor(p / width) % height;
    for (let j = 0; j < dim; j++)
      x[p * dim + j] = rowCentre(row) + (j % 2 ? 1 : -1) * row + 0.3 * rng.gaussian();
  }
  return x;
}

const argmax = (a: Float32Array) => a.indexOf(Math.max(...a));

describe('PaDiM', () => {
  // Four samples (1, 1), (-1, -1), (1, 0), (-1, 0): μ = 0, Σ (N - 1) = [[4/3, 2/3], [2/3, 2/3]], plus 0.01 I.
  // For v = (1, -1): M² = (Σ22 + 2 Σ12 + Σ11) / det = 3.35333 / 0.464544 = 7.218541, M = 2.686734.
  // For v = (2, 0):  M² = 4 Σ22 / det, M = 2.413814.
  const samples = Float32Array.from([1, 1, -1, -1, 1, 0, -1, 0]);

  it('scores the Mahalanobis distance of a known Gaussian (per position, as in the paper)', async () => {
    const model = new Padim({ pooling: 'position' });
    model.fit(samples, 4, { height: 1, width: 1, dim: 2 });
    expect((await model.score(Float32Array.from([1, -1]))).patchScores[0]).toBeCloseTo(2.686734349, 6);
    expect((await model.score(Float32Array.from([2, 0]))).windowScore).toBeCloseTo(2.413813723, 6);
    expect((await model.score(Float32Array.from([0, 0]))).windowScore).toBe(0);
  });

  it('pools each frequency row over time: one 1 x 4 window fits the same Gaussian as four 1 x 1 windows', async () => {
    const model = new Padim();
    model.fit(samples, 1, { height: 1, width: 4, dim: 2 });
    const { patchScores, windowScore } = await model.score(Float32Array.from([1, -1, 2, 0, 0, 0, -1, 1]));
    expect(Array.from(patchScores)).toEqual([
      expect.closeTo(2.686734349, 6),
      expect.closeTo(2.413813723, 6),
      0,
      expect.closeTo(2.686734349, 6),
    ]);
    expect(windowScore).toBe(patchScores[0]);
  });

  it('flags a patch that is normal in one frequency row but placed in another', async () => {
    const grid = { height: 2, width: 4, dim: 3 };
    const model = new Padim();
    model.fit(bands(20, 2, 4, 3, 1), 20, grid);
    const window = bands(1, 2, 4, 3, 2);
    const before = (await model.score(window)).patchScores;
    expect(Math.max(...before)).toBeLessThan(5);
    // Column 2 of row 0 gets the content of column 2 of row 1 (index 6): a high band sounding in a low one.
    window.copyWithin(2 * 3, 6 * 3, 7 * 3);
    const { patchScores, windowScore } = await model.score(window);
    expect(argmax(patchScores)).toBe(2);
    expect(patchScores[2]).toBeGreaterThan(5 * Math.max(...before));
    expect(patchScores[6]).toBe(before[6]); // the same content where it belongs stays normal
    expect(windowScore).toBe(patchScores[2]);
  });

  it('is shift-invariant in time with frequency-row pooling: moving columns moves the scores', async () => {
    const model = new Padim();
    model.fit(bands(10, 3, 5, 4, 3), 10, { height: 3, width: 5, dim: 4 });
    const window = bands(1, 3, 5, 4, 4);
    const shifted = new Float32Array(window.length);
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 5; c++)
        shifted.set(window.subarray((r * 5 + c) * 4, (r * 5 + c + 1) * 4), (r * 5 + ((c + 2) % 5)) * 4);
    const a = (await model.score(window)).patchScores;
    const b = (await model.score(shifted)).patchScores;
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 5; c++) expect(b[r * 5 + ((c + 2) % 5)]).toBe(a[r * 5 + c]);
  });

  it('gives an injected odd patch the highest score with either pooling', async () => {
    const grid = { height: 4, width: 8, dim: 16 };
    const train = bands(30, 4, 8, 16, 5);
    const window = bands(1, 4, 8, 16, 6);
    window.fill(5, 13 * 16, 14 * 16);
    for (const pooling of ['frequency-row', 'position'] as const) {
      const model = new Padim({ pooling });
      model.fit(train, 30, grid);
      const { patchScores, windowScore } = await model.score(window);
      expect(patchScores).toHaveLength(32);
      expect(argmax(patchScores)).toBe(13);
      expect(windowScore).toBe(Math.max(...patchScores));
    }
  });

  it('keeps a seeded random channel subset: the same as fitting on those channels alone', async () => {
    const grid = { height: 2, width: 6, dim: 10 };
    const train = bands(8, 2, 6, 10, 7);
    const window = bands(1, 2, 6, 10, 8);
    const model = new Padim({ channels: 4, seed: 3 });
    model.fit(train, 8, grid);
    const kept = model.channels;
    expect(kept).toEqual(chooseChannels(10, 4, 3));
    expect(new Set(kept).size).toBe(4);
    expect(Array.from(kept)).toEqual(Array.from(kept).sort((a, b) => a - b));
    expect(kept.every((c) => c >= 0 && c < 10)).toBe(true);
    expect(chooseChannels(10, 4, 4)).not.toEqual(kept);
    const pick = (x: Float32Array) =>
      Float32Array.from({ length: (x.length / 10) * 4 }, (_, i) => x[Math.floor(i / 4) * 10 + kept[i % 4]]);
    const reduced = new Padim();
    reduced.fit(pick(train), 8, { ...grid, dim: 4 });
    expect((await model.score(window)).patchScores).toEqual((await reduced.score(pick(window))).patchScores);
    expect(chooseChannels(5, 100, 0)).toEqual(Int32Array.from([0, 1, 2, 3, 4]));
  });

  it('restores from its state with identical scores', async () => {
    const grid = { height: 3, width: 4, dim: 12 };
    for (const pooling of ['frequency-row', 'position'] as const) {
      const model = new Padim({ channels: 5, seed: 9, pooling });
      model.fit(bands(6, 3, 4, 12, 10), 6, grid);
      const { json, arrays } = model.state();
      expect(arrays.means).toBeInstanceOf(Float64Array);
      expect(arrays.cholesky).toHaveLength((pooling === 'position' ? 12 : 3) * 25);
      const restored = Padim.fromState({ json: JSON.parse(JSON.stringify(json)), arrays });
      const window = bands(1, 3, 4, 12, 11);
      expect(await restored.score(window)).toEqual(await model.score(window));
    }
  });

  it('refuses to score before fit and rejects bad options, shapes and states', async () => {
    expect(() => new Padim({ channels: 0 })).toThrow(/channels \(0\) must be a whole number >= 1/);
    expect(() => new Padim({ epsilon: -1 })).toThrow(/epsilon \(-1\)/);
    expect(() => new Padim({ pooling: 'column' as 'position' })).toThrow(
      /pooling \('column'\) must be 'frequency-row' or 'position'/,
    );
    const model = new Padim({ pooling: 'position' });
    await expect(model.score(new Float32Array(4))).rejects.toThrow(/not fitted: call fit\(\)/);
    expect(() => model.state()).toThrow(/not fitted/);
    const grid = { height: 2, width: 2, dim: 3 };
    expect(() => model.fit(new Float32Array(11), 1, grid)).toThrow(
      /expected nWindows \* height \* width \* dim = 1 \* 2 \* 2 \* 3/,
    );
    expect(() => model.fit(new Float32Array(12), 1, { ...grid, width: 0 })).toThrow(/grid.width \(0\)/);
    expect(() => model.fit(new Float32Array(12), 1, grid)).toThrow(
      /needs >= 2 samples per Gaussian, got 1; fit on more windows/,
    );
    model.fit(bands(4, 2, 2, 3, 12), 4, grid);
    await expect(model.score(new Float32Array(13))).rejects.toThrow(
      /13 values, expected height \* width \* dim = 2 \* 2 \* 3/,
    );
    const { json, arrays } = model.state();
    expect(() => Padim.fromState({ json, arrays: { ...arrays, means: new Float32Array(12) } })).toThrow(
      /no Float64Array "means"/,
    );
    expect(() => Padim.fromState({ json, arrays: { ...arrays, means: new Float64Array(5) } })).toThrow(
      /expected 4 Gaussians of d = 3/,
    );
  });
});
