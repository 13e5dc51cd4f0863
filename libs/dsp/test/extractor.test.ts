import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogMelExtractor, logMelSpectrogram, transpose, type MelParams } from '../src/index.js';
import { bits, concat, splitBySizes } from './chunks.js';

const signal = (n: number, seed: number) =>
  Float32Array.from(
    { length: n },
    (_, i) => 0.5 * Math.sin(i * 0.05 * (1 + (seed % 7))) + 0.1 * Math.sin(i * i * 1e-4 + seed),
  );

/** Batch columns, frame-major `[nFrames, nMels]`, for comparison with streaming output. */
const batchColumns = (x: Float32Array, p: Partial<MelParams>) => {
  const s = logMelSpectrogram(x, p);
  return transpose(s.data, s.nMels, s.nFrames);
};

const params = fc.record({
  nFft: fc.constantFrom(64, 128, 256, 512, 1024),
  hopFraction: fc.double({ min: 0.05, max: 1.6, noNaN: true }),
  winFraction: fc.double({ min: 0.5, max: 1, noNaN: true }),
  nMels: fc.integer({ min: 4, max: 20 }),
  melScale: fc.constantFrom('slaney' as const, 'htk' as const),
});
const resolve = (q: {
  nFft: number;
  hopFraction: number;
  winFraction: number;
  nMels: number;
  melScale: 'slaney' | 'htk';
}) => ({
  nFft: q.nFft,
  hopLength: Math.max(1, Math.round(q.nFft * q.hopFraction)),
  winLength: Math.max(1, Math.round(q.nFft * q.winFraction)),
  nMels: Math.min(q.nMels, q.nFft / 16), // more would leave some bands without an FFT bin
  melScale: q.melScale,
});

describe('LogMelExtractor: streaming equals batch', () => {
  it('for random parameters (hop above and below nFft) and random chunkings, bitwise', () => {
    fc.assert(
      fc.property(
        params,
        fc.integer({ min: 0, max: 12000 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 30 }),
        fc.nat(),
        (q, n, sizes, seed) => {
          const p = resolve(q);
          const x = signal(n, seed);
          const expected = batchColumns(x, p);
          const ex = new LogMelExtractor(p);
          const pushed = concat(splitBySizes(x, sizes).map((c) => ex.push(c)));
          expect(bits(pushed)).toEqual(bits(expected));
          expect(ex.frames).toBe(expected.length / p.nMels);
          // The callback path emits the same columns with consecutive frame indices.
          const cb = new LogMelExtractor(p);
          const seen: number[] = [];
          const viaCallback: Float32Array[] = [];
          for (const c of splitBySizes(x, sizes))
            cb.process(c, (col, t) => (seen.push(t), viaCallback.push(col.slice())));
          expect(bits(concat(viaCallback))).toEqual(bits(expected));
          expect(seen).toEqual(seen.map((_, i) => i));
        },
      ),
      { numRuns: 120 },
    );
  });

  it('with default parameters fed one sample at a time and in 20 ms chunks', () => {
    const x = signal(16000, 3);
    const expected = batchColumns(x, {});
    for (const size of [1, 320]) {
      const ex = new LogMelExtractor();
      expect(bits(concat(splitBySizes(x, [size]).map((c) => ex.push(c))))).toEqual(bits(expected));
    }
    expect(expected.length).toBe(59 * 128); // floor((16000 - 1024) / 256) + 1 frames
  });

  it('takes chunks of any array kind, each sample converted to float32 as one assignment would', () => {
    const x = Float64Array.from(signal(4000, 5), (v, i) => v + (i % 3) * 1e-9); // not all float32 values
    const asF32 = Float32Array.from(x);
    const expected = batchColumns(asF32, {});
    for (const chunks of [
      splitBySizes(asF32, [700]),
      [x.subarray(0, 1500), x.subarray(1500)],
      [Array.from(x.subarray(0, 900)), Array.from(x.subarray(900))],
    ]) {
      const ex = new LogMelExtractor();
      expect(bits(concat(chunks.map((c) => ex.push(c))))).toEqual(bits(expected));
    }
  });

  it('emits a frame exactly when its last sample arrives; reset() starts a new stream', () => {
    const ex = new LogMelExtractor({ nFft: 256, hopLength: 100, nMels: 16 });
    expect(ex.push(new Float32Array(255)).length).toBe(0);
    expect(ex.push(new Float32Array(1)).length).toBe(16);
    expect(ex.framesAfter(99)).toBe(0);
    expect(ex.framesAfter(100)).toBe(1);
    expect(ex.push(new Float32Array(250)).length).toBe(2 * 16);
    expect([ex.frames, ex.samples]).toEqual([3, 506]);
    ex.reset();
    expect(ex.push(new Float32Array(255)).length).toBe(0);
    expect([ex.frames, ex.samples]).toEqual([0, 255]);
  });

  it('rejects center = true and invalid parameters', () => {
    expect(() => new LogMelExtractor({ center: true })).toThrow('center (true) is batch-only');
    expect(() => new LogMelExtractor({ hopLength: 0 })).toThrow('hopLength (0) must be > 0');
  });
});
