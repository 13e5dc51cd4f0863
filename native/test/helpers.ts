import { expect } from 'vitest';
import type { Backend, Metric, SearchResult } from '../src/index.js';

/** Both backends; every shared suite runs once per backend. */
export const BACKENDS: readonly Backend[] = ['faiss', 'typescript'];

/** Deterministic uniform floats in [0, 1) (mulberry32). */
export function randomVectors(n: number, dim: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

/**
 * Low-intrinsic-dimension data resembling patch embeddings: each point lies on one of `clusters` random
 * 8-dimensional planes through nearby centres, plus a little noise in every dimension. Approximate
 * indexes reach high recall on it (on uniform random vectors they do not).
 */
export function clusteredVectors(n: number, dim: number, seed: number, clusters = 16): Float32Array {
  const r = 8;
  const centres = randomVectors(clusters, dim, 777);
  const bases = randomVectors(clusters * r, dim, 778);
  const latent = randomVectors(n, r + 1, seed);
  const noise = randomVectors(n, dim, seed + 1);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(latent[i * (r + 1)] * clusters);
    for (let j = 0; j < dim; j++) {
      let s = 0.3 * (centres[c * dim + j] - 0.5) + 0.02 * (noise[i * dim + j] - 0.5);
      for (let t = 0; t < r; t++)
        s += (latent[i * (r + 1) + 1 + t] - 0.5) * (bases[(c * r + t) * dim + j] - 0.5);
      out[i * dim + j] = s;
    }
  }
  return out;
}

/** Reference k-NN in float64 by full sort (independent of both backends' top-k code). */
export function bruteForce(
  data: Float32Array,
  queries: Float32Array,
  dim: number,
  k: number,
  metric: Metric = 'l2',
) {
  const n = data.length / dim;
  const nq = queries.length / dim;
  const labels: number[][] = [];
  const distances: number[][] = [];
  for (let q = 0; q < nq; q++) {
    const scored: { i: number; d: number }[] = [];
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const a = queries[q * dim + j];
        const b = data[i * dim + j];
        s += metric === 'l2' ? (a - b) * (a - b) : a * b;
      }
      scored.push({ i, d: s });
    }
    scored.sort((x, y) => (metric === 'l2' ? x.d - y.d : y.d - x.d) || x.i - y.i);
    labels.push(scored.slice(0, k).map((s) => s.i));
    distances.push(scored.slice(0, k).map((s) => s.d));
  }
  return { labels, distances };
}

/**
 * The distance every flat search returns, written out independently of both backends: four interleaved
 * double accumulators (element t to lane t % 4 below `dim - dim % 4`, the rest to lane 0), summed as
 * ((s0 + s1) + s2) + s3 and rounded once to float (native/src/addon/flat_search.h, ExactDistance).
 */
export function fixedOrderDistance(a: Float32Array, b: Float32Array, metric: Metric): number {
  const lanes = [0, 0, 0, 0];
  const tail = a.length - (a.length % 4);
  for (let t = 0; t < a.length; t++) {
    const term = metric === 'l2' ? (a[t] - b[t]) * (a[t] - b[t]) : a[t] * b[t];
    lanes[t < tail ? t % 4 : 0] += term;
  }
  return Math.fround(lanes[0] + lanes[1] + lanes[2] + lanes[3]);
}

/**
 * What a flat search must return, to the bit: every row ranked by its fixed-order distance (nearest first),
 * the smaller label first between equal distances, padded with -1 and FLT_MAX (-FLT_MAX for ip).
 */
export function fixedOrderSearch(
  data: Float32Array,
  queries: Float32Array,
  dim: number,
  k: number,
  metric: Metric = 'l2',
): SearchResult {
  const n = data.length / dim;
  const nq = queries.length / dim;
  const distances = new Float32Array(nq * k).fill(
    metric === 'l2' ? 3.4028234663852886e38 : -3.4028234663852886e38,
  );
  const labels = new BigInt64Array(nq * k).fill(-1n);
  for (let q = 0; q < nq; q++) {
    const query = rows(queries, dim, q, q + 1);
    const scored = Array.from({ length: n }, (_, i) => ({
      i,
      d: fixedOrderDistance(query, rows(data, dim, i, i + 1), metric),
    }));
    scored.sort((x, y) => (metric === 'l2' ? x.d - y.d : y.d - x.d) || x.i - y.i);
    scored.slice(0, k).forEach((s, r) => {
      distances[q * k + r] = s.d;
      labels[q * k + r] = BigInt(s.i);
    });
  }
  return { distances, labels };
}

/**
 * Exact agreement with the float64 reference: same distances (float32 rounding allowed for), and the same
 * labels except between near-equal distances. Flat search is checked to the bit by fixedOrderSearch.
 */
export function expectExact(
  result: SearchResult,
  ref: ReturnType<typeof bruteForce>,
  k: number,
  tol = 1e-4,
): void {
  for (let q = 0; q < ref.labels.length; q++) {
    for (let r = 0; r < k; r++) {
      const d = result.distances[q * k + r];
      const refD = ref.distances[q][r];
      expect(Math.abs(d - refD), `query ${q} rank ${r}: distance ${d} vs ${refD}`).toBeLessThanOrEqual(
        tol * (1 + Math.abs(refD)),
      );
      const label = Number(result.labels[q * k + r]);
      if (label !== ref.labels[q][r]) {
        const ties = ref.distances[q].filter((x) => Math.abs(x - refD) <= tol * (1 + Math.abs(refD)));
        expect(
          ties.length,
          `query ${q} rank ${r}: label ${label} vs ${ref.labels[q][r]} without a tie`,
        ).toBeGreaterThan(1);
      }
    }
  }
}

/** Fraction of queries whose first neighbour is the true nearest. */
export function recallAt1(result: SearchResult, truth: ReturnType<typeof bruteForce>, k: number): number {
  let hits = 0;
  truth.labels.forEach((labels, q) => (hits += Number(result.labels[q * k]) === labels[0] ? 1 : 0));
  return hits / truth.labels.length;
}

/** The thrown (or rejected) error, for assertions on class, code and message. */
export async function caught(fn: () => unknown): Promise<Error & { code?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected an error, none was thrown');
}

/** Rows `[from, to)` of a row-major matrix. */
export const rows = (m: Float32Array, dim: number, from: number, to: number) =>
  m.subarray(from * dim, to * dim);
