import { describe, expect, it } from 'vitest';
import { nativeKCenterGreedy } from '../src/index.js';
import { caught, clusteredVectors } from './helpers.js';

/** Greedy k-center in float64, the textbook loop: the farthest row from those chosen, ties to the smaller index. */
function reference(x: Float32Array, dim: number, count: number, first: number): number[] {
  const n = x.length / dim;
  const min = new Float64Array(n).fill(Infinity);
  const out: number[] = [];
  let last = first;
  for (let s = 0; s < count; s++) {
    out.push(last);
    let best = -1;
    for (let p = 0; p < n; p++) {
      let d = 0;
      for (let j = 0; j < dim; j++) d += (x[p * dim + j] - x[last * dim + j]) ** 2;
      min[p] = Math.min(min[p], d);
      if (min[p] > (best < 0 ? -1 : min[best])) best = p;
    }
    last = best;
  }
  return out;
}

describe('k-center greedy in the addon', () => {
  it('selects the same rows as a float64 reference on clustered data, over several threads', () => {
    const dim = 24;
    const x = clusteredVectors(10_000, dim, 5);
    const picked = nativeKCenterGreedy(x, dim, 120, 17)!;
    expect(picked).toBeInstanceOf(Int32Array);
    expect(Array.from(picked)).toEqual(reference(x, dim, 120, 17));
    expect(new Set(picked).size).toBe(120);
  });

  it('rejects bad arguments with coded errors', async () => {
    const x = new Float32Array(12);
    for (const [call, message, code] of [
      [() => nativeKCenterGreedy(x, 5, 1, 0), /multiple of/, 'ERR_HARK_FAISS_DIM'],
      [
        () => nativeKCenterGreedy(x, 4, 4, 0),
        /count \(4\) must be <= the number of rows \(3\)/,
        'ERR_HARK_FAISS_ARG',
      ],
      [() => nativeKCenterGreedy(x, 4, 0, 0), /count/, 'ERR_HARK_FAISS_ARG'],
      [() => nativeKCenterGreedy(x, 4, 1, 3), /first/, 'ERR_HARK_FAISS_ARG'],
      [
        () => nativeKCenterGreedy([1, 2] as unknown as Float32Array, 2, 1, 0),
        /Float32Array/,
        'ERR_HARK_FAISS_ARG',
      ],
    ] as const) {
      const err = await caught(call);
      expect(err.message).toMatch(message);
      expect(err.code).toBe(code);
    }
  });
});
