/**
 * RIFF WAV encoding of mono float samples, for recordings hark writes itself (alert clips, demo and test
 * fixtures). Decoding of arbitrary WAVs lives in the decoder; this is the small, exact inverse for our own output.
 */
export type WavSampleFormat = 's16' | 'f32';

/** Full scale of 16-bit PCM as hark writes it: a sample x is stored as {@link toS16}(x) / S16_SCALE. */
export const S16_SCALE = 32767;

/** The 16-bit PCM value of one sample: clipped to [-1, 1], scaled by {@link S16_SCALE} and rounded (NaN: 0). */
export function toS16(x: number): number {
  return Math.round(Math.max(-1, Math.min(1, x)) * S16_SCALE) || 0;
}

/**
 * Encodes mono samples in [-1, 1] as a WAV file.
 * `s16`: 16-bit PCM, values clipped to [-1, 1] and rounded; `f32`: IEEE float, bit-exact.
 */
export function encodeWav(
  samples: Float32Array,
  sampleRate: number,
  format: WavSampleFormat = 's16',
): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`sampleRate (${sampleRate}) must be a positive integer`);
  }
  const bytesPerSample = format === 's16' ? 2 : 4;
  const dataBytes = samples.length * bytesPerSample;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, format === 's16' ? 1 : 3, true); // 1 = PCM, 3 = IEEE float
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * bytesPerSample, true);
  view.setUint16(32, bytesPerSample, true);
  view.setUint16(34, bytesPerSample * 8, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  if (format === 's16') {
    for (let i = 0; i < samples.length; i++) view.setInt16(44 + 2 * i, toS16(samples[i]), true);
  } else {
    for (let i = 0; i < samples.length; i++) view.setFloat32(44 + 4 * i, samples[i], true);
  }
  return out;
}
