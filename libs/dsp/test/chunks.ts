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

/** Concatenates arrays. */
export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The bytes of a float array, to compare bitwise. */
export const bits = (x: Float32Array): Uint8Array => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
