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
 * Exact agreement with the reference: same distances (float32 rounding and FAISS's BLAS form
 * |x|^2 + |y|^2 - 2xy allowed for), and the same labels except between near-equal distances.
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
