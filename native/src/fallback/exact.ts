/** FAISS's value for a missing neighbour's distance (FLT_MAX), negated for inner product. */
export const FLT_MAX = 3.4028234663852886e38;

/** Writes row `row` of an index's vectors, as floats, into `out` from `offset` (a uint8 index decodes). */
export type RowDecoder = (row: number, out: Float32Array, offset: number) => void;

/**
 * Decoded rows held at once (64 KB): each block is decoded once per call and stays in cache while every
 * query of the batch passes over it, instead of being decoded again for each query.
 */
const BLOCK_FLOATS = 1 << 14;

/**
 * Exact k-NN of queries `[q0, q1)` against the first `count` rows of `bank`, written into `distances` and
 * `labels` at the query's row. `bank` is the row-major floats themselves, or a decoder that writes a row's
 * floats (a uint8 index, which never holds its bank decoded: rows are decoded a block at a time into a
 * scratch array). Squared L2 (`ip` false) or inner product; ties keep the earlier row. `ids` maps rows to
 * labels (IVF); rows are their own labels otherwise.
 *
 * The distance is the addon's ExactDistance (native/src/addon/flat_search.cc), operation for operation:
 * four interleaved double accumulators (element t to lane t % 4 below `dim - dim % 4`, the rest to lane 0),
 * summed as ((s0 + s1) + s2) + s3 and rounded once to float; neighbours are ranked by that float, then by
 * the earlier row. So a flat index answers the same, to the bit, on both backends and every BLAS. Rows are
 * visited in increasing order for every query whatever the blocking, so the ranking and its ties do not
 * depend on it.
 */
export function exactSearch(
  bank: Float32Array | RowDecoder,
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
  // Scores are "smaller is nearer": squared distance, or the negated inner product. Each query's k best
  // scores are kept, sorted, where its distances go (a score is a float, so the array holds it exactly), as
  // the state that carries from one block of rows to the next; `rows` holds their rows.
  const rows = new Int32Array((q1 - q0) * k).fill(-1);
  distances.fill(Infinity, q0 * k, q1 * k);
  const tail = dim & ~3;
  const decode = typeof bank === 'function' ? bank : null;
  const block = decode ? Math.max(1, Math.floor(BLOCK_FLOATS / dim)) : Math.max(1, count);
  const data = decode ? new Float32Array(Math.min(block, count) * dim) : (bank as Float32Array);
  for (let j0 = 0; j0 < count; j0 += block) {
    const j1 = Math.min(count, j0 + block);
    if (decode) for (let j = j0; j < j1; j++) decode(j, data, (j - j0) * dim);
    const base = decode ? 0 : j0 * dim;
    for (let q = q0; q < q1; q++) {
      const qo = q * dim;
      const h = q * k;
      const hr = (q - q0) * k;
      let worst = distances[h + k - 1];
      for (let j = j0, o = base; j < j1; j++, o += dim) {
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
          while (p > 0 && distances[h + p - 1] > score) {
            distances[h + p] = distances[h + p - 1];
            rows[hr + p] = rows[hr + p - 1];
            p--;
          }
          distances[h + p] = score;
          rows[hr + p] = j;
          worst = distances[h + k - 1];
        }
      }
    }
  }
  for (let q = q0; q < q1; q++) {
    for (let r = 0, out = q * k; r < k; r++, out++) {
      const row = rows[(q - q0) * k + r];
      labels[out] = row < 0 ? -1n : ids ? ids[row] : BigInt(row);
      distances[out] = row < 0 ? (ip ? -FLT_MAX : FLT_MAX) : ip ? -distances[out] : distances[out];
    }
  }
}
