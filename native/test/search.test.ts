import { describe, expect, it } from 'vitest';
import { FlatIndex, HNSWIndex, IVFIndex, KnnIndex, type Metric } from '../src/index.js';
import {
  BACKENDS,
  bruteForce,
  clusteredVectors,
  expectExact,
  fixedOrderSearch,
  randomVectors,
  recallAt1,
  rows,
} from './helpers.js';

// Search results against a float64 brute force: exact for Flat, recall@1 reported for HNSW and IVF.

const D = 24;
const N = 3000;
const data = randomVectors(N, D, 11);
const queries = randomVectors(100, D, 12);

describe.each(BACKENDS)('search vs brute force (%s)', (backend) => {
  it.each([
    ['l2', 100, 5],
    ['l2', 7, 1], // < 20 queries: FAISS would take its direct loop; hark's tiled search answers every flat search
    ['l2', 100, 1],
    ['l2', 100, 32],
    ['l2', 100, 33], // FAISS's heaps would answer k > 32
    ['ip', 64, 1],
    ['ip', 100, 3],
    ['ip', 100, 32],
    ['ip', 3, 4],
  ] as [Metric, number, number][])('Flat %s with %i queries, k = %i, is exact', (metric, nq, k) => {
    const index = new FlatIndex(D, { backend, metric });
    index.add(data);
    const q = rows(queries, D, 0, nq);
    const result = index.search(q, k);
    expect(result.distances).toHaveLength(nq * k);
    expect(result.labels).toBeInstanceOf(BigInt64Array);
    expectExact(result, bruteForce(data, q, D, k, metric), k);
  });

  it.each(['l2', 'ip'] as Metric[])(
    'Flat %s over several tiles of queries and of the bank (1100 x 3000, k = 1 and 7) is exact',
    (metric) => {
      // 1100 queries and 3000 vectors span two query tiles and three bank tiles of 1024, the last ones partial.
      const many = randomVectors(1100, D, 13);
      const index = new FlatIndex(D, { backend, metric });
      index.add(data);
      for (const k of [1, 7]) expectExact(index.search(many, k), bruteForce(data, many, D, k, metric), k);
    },
  );

  it.each([
    ['l2', 100, 1],
    ['l2', 100, 32],
    ['l2', 100, 33],
    ['l2', 7, 1],
    ['l2', 7, 40],
    ['ip', 100, 5],
    ['ip', 3, 33],
  ] as [Metric, number, number][])(
    'Flat %s with %i queries, k = %i, returns the fixed-order distances, to the bit',
    (metric, nq, k) => {
      const index = new FlatIndex(D, { backend, metric });
      index.add(data);
      const q = rows(queries, D, 0, nq);
      expect(index.search(q, k)).toEqual(fixedOrderSearch(data, q, D, k, metric));
    },
  );

  it.each([1, 5, 40])(
    'Flat ranks 400 exact duplicates by label, more than a shortlist holds (k = %i)',
    (k) => {
      // Every third row is the same vector: 400 exact ties, interleaved with the bank and spread over its
      // tiles; a shortlist holds 2 k + 32 entries, so the addon must re-rank on the way.
      const bank = new Float32Array(data.subarray(0, 1200 * D));
      const copy = rows(data, D, 2000, 2001);
      for (let i = 0; i < 1200; i += 3) bank.set(copy, i * D);
      const near = new Float32Array(30 * D);
      const noise = randomVectors(30, D, 31);
      near.forEach((_, j) => (near[j] = copy[j % D] + 1e-3 * noise[j]));
      const index = new FlatIndex(D, { backend });
      index.add(bank);
      for (const q of [near, rows(near, D, 0, 3)]) {
        const result = index.search(q, k);
        expect(result).toEqual(fixedOrderSearch(bank, q, D, k));
        expect([...result.labels.subarray(0, k)]).toEqual(Array.from({ length: k }, (_, r) => BigInt(3 * r)));
      }
    },
  );

  it.each(['l2', 'ip'] as Metric[])(
    'Flat %s stays exact, to the bit, when norms span six orders of magnitude',
    (metric) => {
      // Rows scaled by 10^-3 .. 10^3: the shortlist's rounding bound grows with the norms of each tile.
      const scales = randomVectors(2500, 1, 41);
      const bank = new Float32Array(data.subarray(0, 2500 * D));
      bank.forEach((x, j) => (bank[j] = (x - 0.5) * 10 ** (6 * scales[Math.floor(j / D)] - 3)));
      const q = new Float32Array(rows(bank, D, 0, 25));
      q.forEach((x, j) => (q[j] = x * 1.01 + 1e-4));
      const index = new FlatIndex(D, { backend, metric });
      index.add(bank);
      expect(index.search(q, 3)).toEqual(fixedOrderSearch(bank, q, D, 3, metric));
    },
  );

  it('Flat keeps the smaller label between exact duplicates, in every tile', () => {
    // The bank twice over: rows i and i + N are equal, so every query has tied pairs, split across tiles.
    const doubled = new Float32Array(2 * N * D);
    doubled.set(data);
    doubled.set(data, N * D);
    const index = new FlatIndex(D, { backend });
    index.add(doubled);
    const { labels } = index.search(queries, 2);
    for (let q = 0; q < 100; q++) {
      expect(Number(labels[2 * q])).toBeLessThan(N);
      expect(Number(labels[2 * q + 1])).toBe(Number(labels[2 * q]) + N);
    }
  });

  it.each(['float32', 'uint8'] as const)(
    'Flat (%s) answers as a fresh index after every change, its kept row norms included',
    async (storage) => {
      // The addon keeps the rows' norms from the first search until the index changes; every change below
      // leaves the row count where it was, so norms kept by mistake would still fit and answer wrongly.
      const sample = randomVectors(200, D, 31);
      const make = (contents: Float32Array) => {
        const index = new FlatIndex(D, { backend, storage });
        if (storage === 'uint8') index.train(sample);
        index.add(contents);
        return index;
      };
      const q = rows(queries, D, 0, 40);
      const same = async (index: FlatIndex, contents: Float32Array) => {
        const fresh = make(contents);
        for (const k of [1, 3]) {
          expect(index.search(q, k)).toEqual(fresh.search(q, k));
          expect(await index.searchAsync(q, k)).toEqual(fresh.search(q, k));
        }
      };
      const first = rows(data, D, 0, 300);
      const index = make(first);
      await same(index, first);
      // removeIds then add as many other rows: the same count, other rows.
      index.removeIds(new BigInt64Array([3n, 150n]));
      index.add(rows(data, D, 1000, 1002));
      const changed = new Float32Array(300 * D);
      changed.set(rows(first, D, 0, 3));
      changed.set(rows(first, D, 4, 150), 3 * D);
      changed.set(rows(first, D, 151, 300), 149 * D);
      changed.set(rows(data, D, 1000, 1002), 298 * D);
      await same(index, changed);
      // reset, then as many rows again, with a projection: k = 1 goes through the bounded or flat search.
      const other = rows(data, D, 2000, 2300);
      index.reset();
      index.add(other);
      index.setProjection(randomVectors(4, D, 33));
      await same(index, other);
      for (let i = 0; i < 6; i++) expect(index.search(q, 1)).toEqual(make(other).search(q, 1));
    },
  );

  it('k = 1 on a large batch is exact asynchronously too', async () => {
    const index = new FlatIndex(D, { backend });
    index.add(data);
    expectExact(await index.searchAsync(queries, 1), bruteForce(data, queries, D, 1, 'l2'), 1);
  });

  it('returns label -1 and FLT_MAX for missing neighbours, and empty arrays for no queries', () => {
    for (const metric of ['l2', 'ip'] as const) {
      const index = new FlatIndex(D, { backend, metric });
      index.add(rows(data, D, 0, 2));
      const { labels, distances } = index.search(rows(queries, D, 0, 1), 4);
      expect([...labels.slice(2)]).toEqual([-1n, -1n]);
      expect([...distances.slice(2)]).toEqual(
        Array(2).fill(metric === 'l2' ? 3.4028234663852886e38 : -3.4028234663852886e38),
      );
    }
    const empty = new FlatIndex(D, { backend }).search(new Float32Array(0), 3);
    expect(empty.labels).toHaveLength(0);
    expect(empty.distances).toHaveLength(0);
  });

  it('HNSW reaches high recall@1 on clustered data and is exact on its own points', () => {
    const bank = clusteredVectors(4000, D, 21);
    const q = clusteredVectors(200, D, 22);
    const index = new HNSWIndex(D, { backend, M: 16, efConstruction: 40, efSearch: 64 });
    index.add(bank);
    expect([index.M, index.efConstruction, index.efSearch]).toEqual([16, 40, 64]);
    const recall = recallAt1(index.search(q, 1), bruteForce(bank, q, D, 1), 1);
    console.info(
      `HNSW recall@1 (${backend}, n 4000, d ${D}, M 16, efSearch 64, clustered): ${recall.toFixed(3)}`,
    );
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(index.search(rows(bank, D, 100, 101), 1).labels[0]).toBe(100n);
  });

  it('IVF recall@1 grows with nprobe and is exact with nprobe = nlist', () => {
    const index = new IVFIndex(D, { backend, nlist: 16, nprobe: 1 });
    index.train(data);
    index.add(data);
    const truth = bruteForce(data, queries, D, 1);
    const recall = [1, 4, 16].map((nprobe) => {
      index.nprobe = nprobe;
      return recallAt1(index.search(queries, 1), truth, 1);
    });
    console.info(
      `IVF recall@1 (${backend}, n ${N}, d ${D}, nlist 16, random) at nprobe 1/4/16: ${recall.map((r) => r.toFixed(2)).join(' / ')}`,
    );
    expect(recall[0]).toBeLessThanOrEqual(recall[1]);
    expect(recall[2]).toBe(1);
    expectExact(index.search(queries, 3), bruteForce(data, queries, D, 3), 3);
  });

  it('removeIds renumbers a Flat index and keeps an IVF index`s ids, as FAISS does', () => {
    const small = rows(data, D, 0, 10);
    const flat = new FlatIndex(D, { backend });
    flat.add(small);
    expect(flat.removeIds(new BigInt64Array([2n, 5n, 99n]))).toBe(2);
    expect(flat.ntotal).toBe(8);
    // row 6 moved to position 4 after two earlier rows went
    expect(flat.search(rows(small, D, 6, 7), 1).labels[0]).toBe(4n);

    const ivf = new IVFIndex(D, { backend, nlist: 2, nprobe: 2 });
    ivf.train(data);
    ivf.add(small);
    expect(ivf.removeIds(new BigInt64Array([2n, 5n]))).toBe(2);
    expect(ivf.ntotal).toBe(8);
    expect(ivf.search(rows(small, D, 6, 7), 1).labels[0]).toBe(6n);
    expect([...ivf.search(rows(small, D, 2, 3), 10).labels]).not.toContain(2n);
  });

  it('reset() empties the index; an IVF index stays trained', () => {
    const ivf = new IVFIndex(D, { backend, nlist: 4 });
    ivf.train(data);
    ivf.add(data);
    ivf.reset();
    expect([ivf.ntotal, ivf.isTrained]).toEqual([0, true]);
    ivf.add(rows(data, D, 0, 5));
    expect(ivf.ntotal).toBe(5);
  });

  it('a factory string builds the matching class', () => {
    const hnsw = KnnIndex.factory(D, 'HNSW8', { backend });
    expect(hnsw).toBeInstanceOf(HNSWIndex);
    expect((hnsw as HNSWIndex).M).toBe(8);
    const ivf = KnnIndex.factory(D, 'IVF8,Flat', { backend, metric: 'ip' });
    expect(ivf).toBeInstanceOf(IVFIndex);
    expect([ivf.metric, (ivf as IVFIndex).nlist, ivf.isTrained]).toEqual(['ip', 8, false]);
    expect(KnnIndex.factory(D, 'Flat', { backend })).toBeInstanceOf(FlatIndex);
  });
});
