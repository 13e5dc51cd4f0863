import { describe, expect, it } from 'vitest';
import { QUICK, runBenchKnn } from '../src/bench/knn.js';

type KnnOptions = Parameters<typeof runBenchKnn>[0];

/** `--quick` on one small bank (3000 x 16, 32 queries, k 1), not written to BENCHMARKS.md. */
const small = (o: Partial<KnnOptions>): KnnOptions =>
  ({
    ...QUICK,
    sizes: [3000],
    dims: [16],
    queries: 32,
    k: [1],
    M: 16,
    efConstruction: 40,
    tsFlops: 1e6,
    write: false,
    ...o,
  }) as KnnOptions;

describe('bench knn', () => {
  it('measures Flat, HNSW, IVF and the fallback against the sgemm ceiling and states each target', async () => {
    const body = await runBenchKnn({
      sizes: [4000],
      dims: [32],
      queries: 64,
      k: [1, 3],
      data: 'clustered',
      M: 16,
      efConstruction: 40,
      hnsw: true,
      ivf: true,
      uniformCheck: false,
      tsFlops: 1e6,
      write: false,
    });
    const lines = body.split('\n');
    const exact = lines.filter((l) => l.startsWith('| 4000 | 32 |'));
    // One row per k in the exact table and one in the approximate table.
    expect(exact).toHaveLength(4);
    for (const row of exact.slice(0, 2)) {
      const cells = row.split('|').map((c) => c.trim());
      expect(Number(cells[5])).toBeGreaterThan(0); // Flat q/s
      expect(cells[7]).toMatch(/^\d+%$/); // fraction of the ceiling
      expect(Number(cells[8])).toBeGreaterThan(0); // ceiling per CPU-second
      expect(cells[9]).toMatch(/^\d+%$/); // fraction of the ceiling in CPU time
      expect(cells[11]).toMatch(/^[\d.]+x$/); // Flat / TS
    }
    for (const row of exact.slice(2)) {
      const cells = row.split('|').map((c) => c.trim());
      expect(cells[4]).toMatch(/^16 \/ \d+$/); // M / efSearch
      expect(Number(cells[5])).toBeGreaterThanOrEqual(0.9); // recall@1 on clustered data
      expect(cells[9]).toMatch(/^\d+ \/ \d+$/); // nlist / nprobe
    }
    expect(body).toMatch(/- Exact Flat search >= 80% of the BLAS ceiling on large batches: lowest \d+%/);
    expect(body).toMatch(/- Flat >= 50x the TypeScript fallback: lowest [\d.]+x \((met|not met)\)/);
    expect(body).toMatch(
      /- An HNSW setting with recall@1 >= 0.99 at >= 5x Flat on the largest bank \(4000\): \d+ of 2 rows/,
    );
  }, 120_000);

  it('--quick measures exact search only and says so', async () => {
    expect([QUICK.hnsw, QUICK.ivf, QUICK.uniformCheck]).toEqual([false, false, false]);
    const body = await runBenchKnn(small({ data: 'uniform' }));
    expect(body.split('\n').filter((l) => l.startsWith('| 3000 | 16 | 1 |'))).toHaveLength(1);
    expect(body).toContain('Not measured (--no-hnsw, --no-ivf or --quick).');
    expect(body).not.toContain('An HNSW setting');
    expect(body).toMatch(/load average [\d.]+ at the start, [\d.]+ at the end/);
  }, 60_000);

  it('--storage uint8 times exact indexes that hold one byte per value, and says so', async () => {
    const body = await runBenchKnn(small({ data: 'clustered', storage: 'uint8' }));
    const row = body.split('\n').find((l) => l.startsWith('| 3000 | 16 | 1 |'));
    const cells = row!.split('|').map((c) => c.trim());
    expect(Number(cells[5])).toBeGreaterThan(0); // Flat q/s, on the codes
    expect(cells[11]).toMatch(/^[\d.]+x$/); // against the fallback, on the same codes
    expect(body).toContain('exact indexes hold one byte per value (--storage uint8)');
  }, 60_000);
});
