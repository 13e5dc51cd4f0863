import { describe, expect, it } from 'vitest';
import {
  anomalyLut,
  cssColor,
  packRgba,
  spectrogramLut,
  thresholdByte,
  unpackRgba,
} from '../src/lib/colormap';

describe('colour maps', () => {
  it('packs and unpacks pixels in both byte orders', () => {
    for (const le of [true, false]) expect(unpackRgba(packRgba(1, 2, 3, 4, le), le)).toEqual([1, 2, 3, 4]);
    // Little-endian views write R first in memory.
    const px = new Uint32Array([packRgba(10, 20, 30, 255, true)]);
    expect([...new Uint8Array(px.buffer)]).toEqual([10, 20, 30, 255]);
  });

  it('grey runs black to white; cividis runs dark blue to yellow with rising lightness', () => {
    const grey = spectrogramLut('grey', true);
    expect(unpackRgba(grey[0], true)).toEqual([0, 0, 0, 255]);
    expect(unpackRgba(grey[255], true)).toEqual([255, 255, 255, 255]);
    const cividis = spectrogramLut('cividis', true);
    expect(unpackRgba(cividis[0], true)).toEqual([0, 32, 76, 255]);
    expect(unpackRgba(cividis[255], true)).toEqual([255, 233, 69, 255]);
    const luma = (p: number) => {
      const [r, g, b] = unpackRgba(p, true);
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    for (let i = 8; i < 256; i += 8)
      expect(luma(cividis[i])).toBeGreaterThanOrEqual(luma(cividis[i - 8]) - 1);
  });

  it('the anomaly overlay leaves normal sound transparent, grows with the score and never hides the spectrogram', () => {
    const scale = 4;
    const lut = anomalyLut(scale, 'overlay', 0.55, true);
    const at = thresholdByte(scale);
    expect(at).toBe(64);
    expect(unpackRgba(lut[0], true)[3]).toBe(0);
    // Normal sound's map sits around 0.6-0.7 of the threshold: untouched.
    expect(unpackRgba(lut[Math.floor(at * 0.75)], true)[3]).toBe(0);
    expect(unpackRgba(lut[Math.floor(at * 0.9)], true)[3]).toBeGreaterThan(0);
    expect(unpackRgba(lut[at], true)[3]).toBeGreaterThanOrEqual(Math.round(0.35 * 255) - 2);
    expect(unpackRgba(lut[Math.floor(at * 2.5)], true)[3]).toBeGreaterThan(unpackRgba(lut[at], true)[3]);
    // The strongest (broadband) anomaly: at most 55 % overlay, the spectrogram stays visible under it.
    expect(unpackRgba(lut[255], true)[3]).toBe(Math.round(0.55 * 255));
  });

  it('the anomaly heatmap is opaque magma', () => {
    const lut = anomalyLut(4, 'heatmap', 0.85, true);
    expect(unpackRgba(lut[0], true)).toEqual([0, 0, 4, 255]);
    expect(unpackRgba(lut[255], true)).toEqual([252, 253, 191, 255]);
    expect(() => anomalyLut(0, 'heatmap')).toThrow(/anomalyScale \(0\) must be > 0/);
  });

  it('gives CSS colours for legends', () => {
    expect(cssColor('grey', 1)).toBe('rgb(255, 255, 255)');
    expect(cssColor('magma', 0)).toBe('rgb(0, 0, 4)');
  });
});
