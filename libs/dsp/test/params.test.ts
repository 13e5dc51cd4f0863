import { describe, expect, it } from 'vitest';
import { frameCount, logMelSpectrogram, resolveMelParams } from '../src/index.js';

describe('resolveMelParams', () => {
  it('fills librosa-like defaults; winLength follows nFft and fMax follows sampleRate', () => {
    expect(resolveMelParams()).toEqual({
      sampleRate: 16000,
      nFft: 1024,
      winLength: 1024,
      hopLength: 256,
      nMels: 128,
      fMin: 0,
      fMax: 8000,
      center: false,
      melScale: 'slaney',
    });
    expect(resolveMelParams({ sampleRate: 22050, nFft: 512 })).toMatchObject({ winLength: 512, fMax: 11025 });
  });

  it.each([
    [{ hopLength: 0 }, 'hopLength (0) must be > 0'],
    [{ hopLength: 2.5 }, 'hopLength (2.5) must be a whole number'],
    [{ sampleRate: -1 }, 'sampleRate (-1) must be > 0'],
    [{ nFft: 1000 }, 'nFft (1000) must be a power of two >= 4 and <= 65536 (e.g. 512, 1024, 2048)'],
    // The bitwise power-of-two test once passed these two (it truncates to 32 bits); a model file said them.
    [{ nFft: 2 ** 31 }, 'nFft (2147483648) must be a power of two >= 4 and <= 65536'],
    [{ nFft: 1e308 }, 'nFft (1e+308) must be a power of two >= 4 and <= 65536'],
    [{ sampleRate: 1e308 }, 'sampleRate (1e+308) must be <= 768000 Hz'],
    [{ nMels: 600 }, 'nMels (600) must be <= nFft / 2 + 1 (513)'],
    [{ winLength: 2048 }, 'winLength (2048) must be <= nFft (1024)'],
    [{ nMels: 0 }, 'nMels (0) must be > 0'],
    [{ fMin: -5 }, 'fMin (-5) must be >= 0 Hz'],
    [{ fMax: 9000 }, 'fMax (9000) must be <= sampleRate / 2 (8000)'],
    [{ fMin: 4000, fMax: 3000 }, 'fMax (3000) must be > fMin (4000)'],
    [{ melScale: 'bark' as never }, "melScale ('bark') must be 'slaney' or 'htk'"],
  ])('rejects %o: %s', (options, message) => {
    expect(() => resolveMelParams(options)).toThrow(message);
  });

  it('rejects too many mels for nFft, naming the empty band', () => {
    expect(() => logMelSpectrogram(new Float32Array(4096), { nFft: 256, nMels: 128 })).toThrow(
      /^nMels \(128\) is too many for nFft \(256\) between fMin \(0\) and fMax \(8000\) Hz: mel band 0 .* contains no FFT bin \(bins are 62\.50 Hz apart\); use fewer mels or a larger nFft$/,
    );
  });
});

describe('frame counts and layout', () => {
  it('counts whole frames without padding, and 1 + floor(n / hop) with centring', () => {
    expect([
      frameCount(1023, 1024, 256),
      frameCount(1024, 1024, 256),
      frameCount(1024 + 255, 1024, 256),
      frameCount(1280, 1024, 256),
    ]).toEqual([0, 1, 1, 2]);
    expect(logMelSpectrogram(new Float32Array(1000), {}).nFrames).toBe(0);
    expect(logMelSpectrogram(new Float32Array(1000), { center: true }).nFrames).toBe(
      1 + Math.floor(1000 / 256),
    );
    expect(() => logMelSpectrogram(new Float32Array(300), { center: true })).toThrow(
      'reflect padding of 512 samples needs a signal longer than 512 (got 300)',
    );
  });

  it('is [nMels, nFrames] with band 0 lowest: a 200 Hz tone peaks in a low row, 6 kHz in a high row', () => {
    for (const [f, expectLow] of [
      [200, true],
      [6000, false],
    ] as const) {
      const x = Float32Array.from({ length: 16000 }, (_, i) => Math.sin((2 * Math.PI * f * i) / 16000));
      const s = logMelSpectrogram(x);
      const t = 10;
      let best = 0;
      for (let m = 1; m < s.nMels; m++)
        if (s.data[m * s.nFrames + t] > s.data[best * s.nFrames + t]) best = m;
      expect(best < 40).toBe(expectLow);
      expect(s.params.nMels).toBe(128);
    }
  });
});
