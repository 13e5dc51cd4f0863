import { describe, expect, it } from 'vitest';
import { FramePowerSpectrum, hann, kaiser, padWindow, powerToDb, reflectPad, stft } from '../src/index.js';

describe('windows', () => {
  it('hann is periodic by default (torch.hann_window) and symmetric on request', () => {
    expect(Array.from(hann(4))).toEqual(
      [0, 0.5, 1, 0.5].map((v, i) => (i === 1 || i === 3 ? expect.closeTo(v, 15) : v)),
    );
    expect(Array.from(hann(5, false)).map((v) => +v.toFixed(12))).toEqual([0, 0.5, 1, 0.5, 0]);
    expect(Array.from(padWindow(Float64Array.of(1, 2, 3), 8))).toEqual([0, 0, 1, 2, 3, 0, 0, 0]);
  });

  it('kaiser is 1 at the centre, symmetric, 1 / I0(beta) at the ends, 0 outside', () => {
    expect(kaiser(0, 8)).toBe(1);
    expect(kaiser(0.3, 8)).toBeCloseTo(kaiser(-0.3, 8), 15);
    expect(kaiser(1, 8)).toBeCloseTo(1 / 427.56411572180474, 12); // scipy.special.i0(8)
    expect(kaiser(1.01, 8)).toBe(0);
  });
});

describe('stft', () => {
  it('puts a bin-centred tone of amplitude A in its bin with power (A * nFft / 4)^2 (Hann)', () => {
    const nFft = 256;
    const x = Float32Array.from({ length: 2048 }, (_, i) => 0.5 * Math.cos((2 * Math.PI * 10 * i) / nFft));
    const s = stft(x, { nFft, hopLength: 128 });
    expect([s.nFreqs, s.nFrames]).toEqual([129, 15]);
    expect(s.data[10 * s.nFrames + 3]).toBeCloseTo(((0.5 * nFft) / 4) ** 2, 1);
    expect(s.data[9 * s.nFrames + 3] / s.data[10 * s.nFrames + 3]).toBeCloseTo(0.25, 5); // Hann's neighbours
    expect(s.data[40 * s.nFrames + 3]).toBeLessThan(1e-6);
  });

  it('equals FramePowerSpectrum frame by frame and centres with reflect padding', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.3) + 0.1 * Math.cos(i * 1.7));
    const s = stft(x, { nFft: 128, hopLength: 50, winLength: 100, center: true });
    const padded = reflectPad(x, 64);
    const k = new FramePowerSpectrum(128, hann(100));
    const p = k.compute(padded, 7 * 50);
    for (let f = 0; f < 65; f++) expect(s.data[f * s.nFrames + 7]).toBe(Math.fround(p[f]));
    expect(s.nFrames).toBe(1 + Math.floor(1000 / 50));
  });

  it('reflectPad mirrors without repeating the edge (numpy "reflect")', () => {
    expect(Array.from(reflectPad(Float32Array.of(1, 2, 3, 4), 2))).toEqual([3, 2, 1, 2, 3, 4, 3, 2]);
  });

  it('powerToDb is 10 log10 clamped at 1e-10', () => {
    expect(Array.from(powerToDb([1, 100, 0, 1e-12], new Float64Array(4)))).toEqual([0, 20, -100, -100]);
  });
});
