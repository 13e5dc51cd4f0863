import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  GREY_RGB,
  MAGMA_RGB,
  blend,
  dbScale,
  encodePng,
  heatmap,
  overlay,
  readableScale,
  upscale,
} from '../src/render/index.js';

const pixel = (img: { width: number; data: Uint8Array }, x: number, y: number) =>
  Array.from(img.data.subarray(4 * (y * img.width + x), 4 * (y * img.width + x) + 4));

describe('render', () => {
  it('magma runs from near-black purple to pale yellow in 256 steps', () => {
    expect(MAGMA_RGB.length).toBe(768);
    expect(Array.from(MAGMA_RGB.subarray(0, 3))).toEqual([0, 0, 4]);
    expect(Array.from(MAGMA_RGB.subarray(765))).toEqual([252, 253, 191]);
  });

  it('dbScale keeps the top 80 dB below the maximum, or the whole range when smaller', () => {
    expect(dbScale([-100, -30, 10])).toEqual({ vmin: -70, vmax: 10 });
    expect(dbScale([-20, 10, NaN], 80)).toEqual({ vmin: -20, vmax: 10 });
    expect(dbScale([5, 5])).toEqual({ vmin: 5, vmax: 6 });
  });

  it('heatmap draws row 0 at the bottom, one pixel per cell, clamping outside [vmin, vmax]', () => {
    // rows = 2 (row 0 low, row 1 high), cols = 3
    const img = heatmap({ rows: 2, cols: 3, data: [0, 5, 20, 10, -3, 10] }, { vmin: 0, vmax: 10 });
    expect([img.width, img.height]).toEqual([3, 2]);
    expect(pixel(img, 0, 1)).toEqual([0, 0, 4, 255]); // row 0, col 0 = vmin, bottom-left
    expect(pixel(img, 2, 1)).toEqual([252, 253, 191, 255]); // 20 clamps to vmax
    expect(pixel(img, 0, 0)).toEqual([252, 253, 191, 255]); // row 1, col 0 = vmax, top-left
    expect(pixel(img, 1, 0)).toEqual([0, 0, 4, 255]); // -3 clamps to vmin
    expect(pixel(img, 1, 1)).toEqual([...MAGMA_RGB.subarray(3 * 128, 3 * 128 + 3), 255]); // midpoint
  });

  it('blend mixes an overlay by per-pixel alpha', () => {
    const base = heatmap({ rows: 1, cols: 2, data: [0, 0] }, { vmin: 0, vmax: 1 });
    const top = { width: 2, height: 1, data: Uint8Array.of(255, 0, 0, 255, 255, 0, 0, 255) };
    blend(base, top, [0, 0.5]);
    expect(pixel(base, 0, 0)).toEqual([0, 0, 4, 255]);
    expect(pixel(base, 1, 0)).toEqual([128, 0, 2, 255]);
    expect(() => blend(base, { width: 1, height: 1, data: new Uint8Array(4) })).toThrow(
      'images differ in size (2x1 vs 1x1)',
    );
  });

  it('encodePng round-trips through pngjs', () => {
    const img = heatmap(
      { rows: 3, cols: 4, data: Array.from({ length: 12 }, (_, i) => i) },
      { vmin: 0, vmax: 11 },
    );
    const back = PNG.sync.read(encodePng(img));
    expect([back.width, back.height]).toEqual([4, 3]);
    expect(new Uint8Array(back.data)).toEqual(img.data);
  });
});

describe('compose', () => {
  it('upscale repeats each pixel sx by sy times', () => {
    const img = { width: 2, height: 1, data: Uint8Array.of(1, 2, 3, 255, 4, 5, 6, 255) };
    const big = upscale(img, 2, 3);
    expect([big.width, big.height]).toEqual([4, 3]);
    for (let y = 0; y < 3; y++) {
      expect(pixel(big, 0, y)).toEqual([1, 2, 3, 255]);
      expect(pixel(big, 1, y)).toEqual([1, 2, 3, 255]);
      expect(pixel(big, 2, y)).toEqual([4, 5, 6, 255]);
      expect(pixel(big, 3, y)).toEqual([4, 5, 6, 255]);
    }
    expect(upscale(img, 1, 1)).toBe(img);
    expect(() => upscale(img, 0, 1)).toThrow('upscale: factors (0, 1) must be integers >= 1');
  });

  it('readableScale picks whole factors up to a cap', () => {
    expect(readableScale(700, 64)).toEqual([1, 4]);
    expect(readableScale(100, 128, 640, 256)).toEqual([7, 2]);
    expect(readableScale(10, 10)).toEqual([8, 8]);
  });

  it('overlay shows grey below alphaFrom and magma at alphaTo and above', () => {
    const spectrogram = { rows: 1, cols: 3, data: [0, 255, 128] };
    const anomaly = { rows: 1, cols: 3, data: [0, 1, 2] };
    const img = overlay(spectrogram, anomaly, {
      spectrogramScale: { vmin: 0, vmax: 255 },
      anomalyScale: { vmin: 0, vmax: 2 },
      alphaFrom: 0.5,
      alphaTo: 1,
      maxAlpha: 1,
    });
    expect(pixel(img, 0, 0)).toEqual([0, 0, 0, 255]); // grey, no anomaly
    expect(pixel(img, 1, 0)).toEqual([...MAGMA_RGB.subarray(3 * 128, 3 * 128 + 3), 255]); // at alphaTo
    expect(pixel(img, 2, 0)).toEqual([252, 253, 191, 255]); // above: the top of magma
    expect(Array.from(GREY_RGB.subarray(3 * 77, 3 * 78))).toEqual([77, 77, 77]);
    expect(() => overlay(spectrogram, { rows: 3, cols: 1, data: [0, 0, 0] }, {} as never)).toThrow(
      'overlay: spectrogram is 1x3 but the anomaly map is 3x1',
    );
  });
});
