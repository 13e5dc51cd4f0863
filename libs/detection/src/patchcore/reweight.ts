/**
 * PatchCore's image-level score (Roth et al., arXiv 2106.08265, eq. 7). With m^{test,*} the test patch of
 * largest nearest-neighbour distance s* and m* its nearest bank patch,
 *
 *   s = (1 − exp‖m^{test,*} − m*‖₂ / Σ_{m ∈ N_b(m*)} exp‖m^{test,*} − m‖₂) · s*
 *
 * where N_b(m*) are the b nearest bank patches of m* (m* itself first). The weight is small when m* sits in a
 * dense region of the bank, so a rare-but-normal patch scores lower than a truly unseen one. As anomalib,
 * the ratio is computed as a softmax (shift-invariant, so no overflow for large distances).
 */
export function reweightedScore(
  testPatch: Float32Array,
  testOffset: number,
  bank: Float32Array,
  dim: number,
  support: ArrayLike<number>,
  sStar: number,
): number {
  const n = support.length;
  if (n === 0) throw new RangeError('reweightedScore needs at least one support patch');
  const d = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const row = support[i] * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const diff = testPatch[testOffset + j] - bank[row + j];
      s += diff * diff;
    }
    d[i] = Math.sqrt(s);
    if (d[i] > max) max = d[i];
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(d[i] - max);
  const weight = 1 - Math.exp(d[0] - max) / sum;
  return weight * sStar;
}
