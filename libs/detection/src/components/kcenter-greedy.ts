import { Random } from '@hark/dsp';
import { nativeKCenterGreedy } from '@hark/native';

/**
 * Greedy k-center coreset selection (PatchCore, arXiv 2106.08265, Algorithm 1; Sener & Savarese 2018):
 * repeatedly pick the point farthest from the points chosen so far, in a random projection of the features
 * (Johnson-Lindenstrauss), which keeps distances and makes each step cheap.
 */
export interface KCenterOptions {
  /** Dimension of the sparse random projection; 0 to use the features as they are. Default 128. */
  projectionDim?: number;
  seed?: number;
  /** Called with the number selected so far, every 256 picks (once, at the end, in native code). */
  onProgress?: (selected: number, total: number) => void;
  /** Run the loop in the FAISS addon when it is loaded (default); false forces the TypeScript loop. */
  native?: boolean;
}

/**
 * Sparse random projection (Achlioptas / Li et al., density 1 / sqrt(dim), as scikit-learn's
 * SparseRandomProjection): `[n, dim]` to `[n, outDim]`.
 */
export function sparseRandomProjection(
  x: Float32Array,
  n: number,
  dim: number,
  outDim: number,
  seed = 0,
): Float32Array {
  const rng = new Random(seed + 1);
  const density = 1 / Math.sqrt(dim);
  const value = Math.sqrt(1 / density / outDim);
  const cols: number[][] = [];
  const signs: number[][] = [];
  for (let o = 0; o < outDim; o++) {
    const c: number[] = [];
    const s: number[] = [];
    for (let i = 0; i < dim; i++) {
      if (rng.next() < density) {
        c.push(i);
        s.push(rng.next() < 0.5 ? -value : value);
      }
    }
    cols.push(c);
    signs.push(s);
  }
  const out = new Float32Array(n * outDim);
  for (let p = 0; p < n; p++) {
    const row = p * dim;
    for (let o = 0; o < outDim; o++) {
      const c = cols[o];
      const s = signs[o];
      let acc = 0;
      for (let j = 0; j < c.length; j++) acc += s[j] * x[row + c[j]];
      out[p * outDim + o] = acc;
    }
  }
  return out;
}

/** Indices of `count` coreset points among `n` rows of `features` (`[n, dim]`), in selection order. */
export function kCenterGreedy(
  features: Float32Array,
  n: number,
  dim: number,
  count: number,
  opts: KCenterOptions = {},
): Int32Array {
  if (features.length !== n * dim)
    throw new RangeError(`features has ${features.length} values, expected n * dim = ${n * dim}`);
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`coreset size (${count}) must be a whole number >= 1`);
  if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const projDim = opts.projectionDim ?? 128;
  const useProjection = projDim > 0 && projDim < dim;
  const x = useProjection ? sparseRandomProjection(features, n, dim, projDim, opts.seed ?? 0) : features;
  const d = useProjection ? projDim : dim;
  const rng = new Random((opts.seed ?? 0) + 17);
  let last = Math.floor(rng.next() * n);
  if (opts.native !== false) {
    const picked = nativeKCenterGreedy(x, d, count, last);
    if (picked) {
      opts.onProgress?.(count, count);
      return picked;
    }
  }
  const minDist = new Float32Array(n).fill(Infinity);
  const selected = new Int32Array(count);
  for (let s = 0; s < count; s++) {
    selected[s] = last;
    const c = last * d;
    let best = -1;
    let bestDist = -1;
    for (let p = 0; p < n; p++) {
      let m = minDist[p];
      if (m > 0) {
        const row = p * d;
        let acc = 0;
        for (let j = 0; j < d; j++) {
          const diff = x[row + j] - x[c + j];
          acc += diff * diff;
        }
        if (acc < m) m = minDist[p] = acc;
      }
      if (m > bestDist) {
        bestDist = m;
        best = p;
      }
    }
    last = best;
    if (opts.onProgress && (s + 1) % 256 === 0) opts.onProgress(s + 1, count);
  }
  opts.onProgress?.(count, count);
  return selected;
}
