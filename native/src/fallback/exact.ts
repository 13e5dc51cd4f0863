/** FAISS's value for a missing neighbour's distance (FLT_MAX), negated for inner product. */
export const FLT_MAX = 3.4028234663852886e38;

/**
 * Exact k-NN of queries `[q0, q1)` against the first `count` rows of `data`, written into `distances` and
 * `labels` at the query's row. Squared L2 (`ip` false) or inner product; ties keep the earlier row.
 * `ids` maps rows to labels (IVF); rows are their own labels otherwise.
 *
 * The distance is the addon's ExactDistance (native/src/addon/flat_search.cc), operation for operation:
 * four interleaved double accumulators (element t to lane t % 4 below `dim - dim % 4`, the rest to lane 0),
 * summed as ((s0 + s1) + s2) + s3 and rounded once to float; neighbours are ranked by that float, then by
 * the earlier row. So a flat index answers the same, to the bit, on both backends and every BLAS.
 */
export function exactSearch(
  data: Float32Array,
  count: number,
  dim: number,
  ip: boolean,
  queries: Float32Array,
  q0: number,
  q1: number,
  k: number,
  ids: BigInt64Array | null,
  distances: Float32Array,
  labels: BigInt64Array,
): void {
  // Scores are "smaller is nearer": squared distance, or the negated inner product.
  const best = new Float64Array(k);
  const rows = new Int32Array(k);
  const tail = dim & ~3;
  for (let q = q0; q < q1; q++) {
    best.fill(Infinity);
    rows.fill(-1);
    let worst = Infinity;
    const qo = q * dim;
    for (let j = 0, o = 0; j < count; j++, o += dim) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t = 0;
      if (ip) {
        for (; t < tail; t += 4) {
          s0 += queries[qo + t] * data[o + t];
          s1 += queries[qo + t + 1] * data[o + t + 1];
          s2 += queries[qo + t + 2] * data[o + t + 2];
          s3 += queries[qo + t + 3] * data[o + t + 3];
        }
        for (; t < dim; t++) s0 += queries[qo + t] * data[o + t];
      } else {
        for (; t < tail; t += 4) {
          const d0 = queries[qo + t] - data[o + t];
          const d1 = queries[qo + t + 1] - data[o + t + 1];
          const d2 = queries[qo + t + 2] - data[o + t + 2];
          const d3 = queries[qo + t + 3] - data[o + t + 3];
          s0 += d0 * d0;
          s1 += d1 * d1;
          s2 += d2 * d2;
          s3 += d3 * d3;
        }
        for (; t < dim; t++) {
          const d = queries[qo + t] - data[o + t];
          s0 += d * d;
        }
      }
      const sum = Math.fround(s0 + s1 + s2 + s3);
      const score = ip ? -sum : sum;
      if (score < worst) {
        let p = k - 1;
        while (p > 0 && best[p - 1] > score) {
          best[p] = best[p - 1];
          rows[p] = rows[p - 1];
          p--;
        }
        best[p] = score;
        rows[p] = j;
        worst = best[k - 1];
      }
    }
    const out = q * k;
    for (let r = 0; r < k; r++) {
      const row = rows[r];
      labels[out + r] = row < 0 ? -1n : ids ? ids[row] : BigInt(row);
      distances[out + r] = row < 0 ? (ip ? -FLT_MAX : FLT_MAX) : ip ? -best[r] : best[r];
    }
  }
}
