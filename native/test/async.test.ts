import { afterEach, describe, expect, it } from 'vitest';
import {
  ErrorCode,
  FlatIndex,
  HNSWIndex,
  IVFIndex,
  setMaxConcurrentJobs,
  type SearchResult,
} from '../src/index.js';
import { BACKENDS, bruteForce, caught, expectExact, randomVectors, rows } from './helpers.js';

// Async methods never block the event loop, keep call order with the default single job slot, and
// stay correct when a search and an add on one index overlap.

afterEach(() => setMaxConcurrentJobs(1));

const sameLabels = (a: SearchResult, b: SearchResult) => a.labels.every((x, i) => x === b.labels[i]);

describe.each(BACKENDS)('async work (%s)', (backend) => {
  it('a large searchAsync leaves the event loop free (a 5 ms timer keeps ticking)', async () => {
    // About 10 GFLOP for FAISS (~0.1-0.3 s on 2 cores); 60x less for the single-threaded fallback.
    const [n, d, nq] = backend === 'faiss' ? [40_000, 128, 1000] : [10_000, 64, 160];
    const index = new FlatIndex(d, { backend });
    await index.addAsync(randomVectors(n, d, 41));
    const queries = randomVectors(nq, d, 42);
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 5);
    const t0 = performance.now();
    const result = await index.searchAsync(queries, 3);
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]);
    console.info(
      `searchAsync (${backend}) ${elapsed.toFixed(0)} ms, ${ticks.length} ticks, longest gap ${Math.max(...gaps).toFixed(0)} ms`,
    );
    expect(result.labels).toHaveLength(nq * 3);
    expect(ticks.length).toBeGreaterThanOrEqual(Math.min(5, Math.floor(elapsed / 20)));
    expect(Math.max(...gaps)).toBeLessThan(Math.max(100, elapsed / 3));
  });

  it('runs async calls in call order: a search queued after an add sees the added vectors', async () => {
    const d = 16;
    const index = new IVFIndex(d, { backend, nlist: 4, nprobe: 4 });
    const data = randomVectors(500, d, 43);
    const pending = [index.trainAsync(data), index.addAsync(data)];
    const found = index.searchAsync(rows(data, d, 7, 8), 1);
    await Promise.all(pending);
    expect((await found).labels[0]).toBe(7n);
  });

  it('refuses conflicting synchronous calls while async work is pending, with ERR_HARK_FAISS_BUSY', async () => {
    const d = 16;
    const data = randomVectors(2000, d, 44);
    const index = new HNSWIndex(d, { backend });
    const adding = index.addAsync(data);
    for (const call of [
      () => index.search(data.subarray(0, d), 1),
      () => index.add(data),
      () => index.toBuffer(),
      () => (index.efSearch = 32),
    ]) {
      const err = await caught(call);
      expect(err.code).toBe(ErrorCode.BUSY);
      expect(err.message).toMatch(/busy with asynchronous add or train; await it/);
    }
    await adding;
    const searching = index.searchAsync(data, 1);
    expect(index.search(data.subarray(0, d), 1).labels[0]).toBe(0n); // reads share the index
    expect((await caught(() => index.reset())).code).toBe(ErrorCode.BUSY);
    await searching;
    index.reset();
    expect(index.ntotal).toBe(0);
  });

  it('overlapping searchAsync and addAsync on one index (two job slots) give one of the two consistent answers', async () => {
    setMaxConcurrentJobs(2);
    const d = 32;
    const first = randomVectors(3000, d, 45);
    const second = randomVectors(20_000, d, 46);
    const queries = randomVectors(40, d, 47);
    const both = new Float32Array(first.length + second.length);
    both.set(first);
    both.set(second, first.length);
    const before = bruteForce(first, queries, d, 2);
    const after = bruteForce(both, queries, d, 2);
    for (let round = 0; round < 3; round++) {
      const index = new FlatIndex(d, { backend });
      index.add(first);
      const [, result, result2] = await Promise.all([
        index.addAsync(second),
        index.searchAsync(queries, 2),
        index.searchAsync(queries, 2),
      ]);
      for (const r of [result, result2]) {
        const matchesBefore = r.labels.every((l, i) => Number(l) === before.labels[Math.floor(i / 2)][i % 2]);
        expectExact(r, matchesBefore ? before : after, 2);
      }
      expect(index.ntotal).toBe(23_000);
    }
  });

  it('many concurrent searches on one index agree with the synchronous search', async () => {
    setMaxConcurrentJobs(4);
    const d = 16;
    const index = new FlatIndex(d, { backend });
    index.add(randomVectors(5000, d, 48));
    const queries = randomVectors(64, d, 49);
    const expected = index.search(queries, 4);
    const results = await Promise.all(Array.from({ length: 8 }, () => index.searchAsync(queries, 4)));
    for (const r of results) expect(sameLabels(r, expected)).toBe(true);
  });
});
