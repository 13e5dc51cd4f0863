import { describe, expect, it } from 'vitest';
import { FlatIndex, IVFIndex, type Metric } from '../src/index.js';
import { bruteForce, expectExact, randomVectors, rows } from './helpers.js';

// The fallback stands in for FAISS: on the same data both backends return the same neighbours.

const D = 48;
const data = randomVectors(4000, D, 51);
const queries = randomVectors(64, D, 52);

function labelsAgree(a: BigInt64Array, b: BigInt64Array): number {
  let same = 0;
  a.forEach((x, i) => (same += x === b[i] ? 1 : 0));
  return same / a.length;
}

describe('FAISS and the TypeScript fallback agree', () => {
  it.each(['l2', 'ip'] as Metric[])('Flat %s: the same neighbours and distances, to the bit', (metric) => {
    const [faiss, ts] = (['faiss', 'typescript'] as const).map((backend) => {
      const index = new FlatIndex(D, { backend, metric });
      index.add(data);
      return index.search(queries, 5);
    });
    // Both compute the same fixed-order distance (flat_search.h, fallback/exact.ts) and rank by it.
    expectExact(faiss, bruteForce(data, queries, D, 5, metric), 5);
    expect(ts.labels).toEqual(faiss.labels);
    expect(ts.distances).toEqual(faiss.distances);
  });

  it('IVF probing every cell equals the exact fallback, also after removeIds and further adds', () => {
    const indexes = (['faiss', 'typescript'] as const).map((backend) => {
      const index = new IVFIndex(D, { backend, nlist: 8, nprobe: 8 });
      index.train(data);
      index.add(rows(data, D, 0, 3000));
      index.removeIds(new BigInt64Array(Array.from({ length: 100 }, (_, i) => BigInt(i * 7))));
      index.add(rows(data, D, 3000, 4000)); // FAISS IVF numbers new vectors from ntotal: ids repeat
      return index;
    });
    expect(indexes.map((i) => i.ntotal)).toEqual([3900, 3900]);
    const [a, b] = indexes.map((index) => index.search(queries, 3));
    expect(labelsAgree(a.labels, b.labels)).toBeGreaterThanOrEqual(0.99);
  });
});
