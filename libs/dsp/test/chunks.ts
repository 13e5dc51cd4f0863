/** Cuts `x` into consecutive chunks whose sizes cycle through `sizes` (the last chunk may be shorter). */
export function splitBySizes(x: Float32Array, sizes: readonly number[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0, k = 0; i < x.length; k++) {
    const n = sizes[k % sizes.length];
    out.push(x.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** Joins blocks (the library's own `concatSamples`). */
export { concatSamples as concat } from '../src/concat.js';

/** The bytes of a float array, to compare bitwise. */
export const bits = (x: Float32Array): Uint8Array => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

/** 'same' when two arrays are bitwise equal, else where they first differ (fast, unlike a deep equal). */
export function bitDifference(actual: Float32Array, expected: Float32Array): string {
  if (actual.length !== expected.length) return `lengths differ: ${actual.length} vs ${expected.length}`;
  const a = bits(actual);
  const b = bits(expected);
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i]) return `sample ${i >> 2} differs: ${actual[i >> 2]} vs ${expected[i >> 2]}`;
  return 'same';
}
