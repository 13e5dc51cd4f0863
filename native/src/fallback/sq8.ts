/**
 * The one-byte codes of a flat 'uint8' index: FAISS's ScalarQuantizer with qtype QT_8bit (factory 'SQ8'),
 * the per-dimension ("non-uniform") min-max codec of FAISS 1.7.3 (ScalarQuantizer.cpp: train_NonUniform,
 * Codec8bit, QuantizerTemplate<Codec8bit, false, 1>). Every operation is the float operation the C++ performs:
 * a JavaScript +, -, * or / of two floats rounded once by Math.fround is the correctly rounded float result
 * (a double holds such a result before rounding without a second rounding error), so the codes, the ranges and
 * the decoded floats equal the addon's bit for bit. The formulas are those of `Storage` in types.ts.
 */

/** faiss::ScalarQuantizer::QT_8bit, the only qtype the fallback reads. */
export const QT_8BIT = 0;
/** faiss::ScalarQuantizer::RS_minmax, FAISS's default range statistic: the ranges hark's train takes. */
export const RS_MINMAX = 0;

/** The state of a uint8 flat index beyond the index header, as FAISS serialises it. */
export interface Sq8State {
  /** The range statistic and its argument, kept so bytes read from FAISS are written back unchanged. */
  rangestat: number;
  rangestatArg: number;
  /** Each dimension's smallest value and range (largest minus smallest), `dim` floats each; null untrained. */
  vmin: Float32Array | null;
  vdiff: Float32Array | null;
  /** `count * dim` codes, row-major; may be longer (the spare capacity `add` grows). */
  codes: Uint8Array;
}

/**
 * What each code decodes to before scaling: (code + 0.5f) / 255.0f (Codec8bit::decode_component). Storing into
 * a Float32Array rounds the double quotient to the nearest float, as the C++ division does.
 */
const CENTRES = Float32Array.from({ length: 256 }, (_, c) => (c + 0.5) / 255);

/**
 * The ranges `train` takes from `n >= 1` finite rows: per dimension the smallest value and the float difference
 * of the largest and the smallest. The comparisons are FAISS's strict ones from the first row on, so between
 * -0 and +0 the earlier one stays (Math.min would pick -0), and the ranges are the addon's to the bit.
 */
export function trainRanges(
  vectors: Float32Array,
  n: number,
  dim: number,
): { vmin: Float32Array; vdiff: Float32Array } {
  const vmin = vectors.slice(0, dim);
  const vmax = vectors.slice(0, dim);
  for (let r = 1, o = dim; r < n; r++, o += dim) {
    for (let i = 0; i < dim; i++) {
      const x = vectors[o + i];
      if (x < vmin[i]) vmin[i] = x;
      if (x > vmax[i]) vmax[i] = x;
    }
  }
  const vdiff = new Float32Array(dim);
  for (let i = 0; i < dim; i++) vdiff[i] = Math.fround(vmax[i] - vmin[i]);
  return { vmin, vdiff };
}

/**
 * Encodes `n` rows of `vectors` into `codes` from byte `offset`. A value is placed in its dimension's range,
 * t = (x - vmin) / vdiff clamped to [0, 1], and stored as trunc(255 * t); a dimension whose range is 0 stores 0
 * (its every value decodes to vmin). `!(t > 0)` is FAISS's `t < 0` that also sends a NaN to 0, where the C++
 * conversion of NaN to int is undefined; finite values over finite ranges (what `train` and `add` let in) make
 * no NaN.
 */
export function encodeRows(
  vectors: Float32Array,
  n: number,
  dim: number,
  vmin: Float32Array,
  vdiff: Float32Array,
  codes: Uint8Array,
  offset: number,
): void {
  for (let r = 0, o = 0; r < n; r++, o += dim) {
    for (let i = 0; i < dim; i++) {
      const range = vdiff[i];
      let code = 0;
      if (range !== 0) {
        let t = Math.fround(Math.fround(vectors[o + i] - vmin[i]) / range);
        if (!(t > 0)) t = 0;
        if (t > 1) t = 1;
        code = Math.min(255, Math.trunc(Math.fround(255 * t)));
      }
      codes[offset + o + i] = code;
    }
  }
}

/** Decodes row `row` of `codes` into `out` from float `offset`: vmin + centre(code) * vdiff, in float. */
export function decodeRow(
  codes: Uint8Array,
  row: number,
  dim: number,
  vmin: Float32Array,
  vdiff: Float32Array,
  out: Float32Array,
  offset: number,
): void {
  const c = row * dim;
  // The store into the Float32Array rounds the sum; the product is rounded first, as the C++ rounds it.
  for (let i = 0; i < dim; i++) out[offset + i] = vmin[i] + Math.fround(CENTRES[codes[c + i]] * vdiff[i]);
}
