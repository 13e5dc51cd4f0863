/** Shared test signals and encoders for the stream tests. */

/** Deterministic pseudo-random noise in [-amp, amp) (mulberry32). */
export function noise(n: number, amp = 0.5, seed = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * amp;
  }
  return out;
}

export function sine(n: number, rate: number, hz: number, amp: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));
}

/** Interleaved little-endian f32 bytes of `channels` (all the same length). */
export function f32Bytes(...channels: Float32Array[]): Uint8Array {
  const n = channels[0].length;
  const out = new Float32Array(n * channels.length);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < channels.length; c++) out[i * channels.length + c] = channels[c][i];
  return new Uint8Array(out.buffer);
}

/** Interleaved little-endian s16 bytes (x * 32768, clamped). */
export function s16Bytes(...channels: Float32Array[]): Uint8Array {
  const n = channels[0].length;
  const out = new Int16Array(n * channels.length);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < channels.length; c++)
      out[i * channels.length + c] = Math.max(-32768, Math.min(32767, Math.round(channels[c][i] * 32768)));
  return new Uint8Array(out.buffer);
}

/** Splits `bytes` at frame boundaries `cuts` (in frames). */
export function chunk(bytes: Uint8Array, frameBytes: number, cuts: number[]): Uint8Array[] {
  const frames = bytes.length / frameBytes;
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(frames, c))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, frames]) {
    if (p > prev) out.push(bytes.subarray(prev * frameBytes, p * frameBytes));
    prev = p;
  }
  return out;
}
