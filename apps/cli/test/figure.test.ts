import { describe, expect, it } from 'vitest';
import { hzToMel, resolveMelParams } from '@hark/dsp';
import { anomalyBoxes } from '@hark/detection';
import { glyph, textWidth } from '../src/figure/font.js';
import {
  BOX_RGB,
  maxPool,
  overlayAlpha,
  scoreFigure,
  type ScoreFigureInput,
} from '../src/figure/score-figure.js';

// `hark score --png`: a picture a person can read (size, axes, legends, overlay, boxes), checked pixel by pixel.

const mel = resolveMelParams({ sampleRate: 16000, nFft: 1024, hopLength: 256, nMels: 128 });
const nMels = 128;

/**
 * A synthetic scored clip: the spectrogram rises from -60 dB (lowest band) to -20 dB (highest), the map is
 * 0.2 everywhere but `value` in frames 40-59 x bands 30-49.
 */
function clip(nFrames = 122, value = 2): ScoreFigureInput {
  const data = new Float32Array(nMels * nFrames);
  const map = new Float32Array(nMels * nFrames).fill(0.2);
  for (let m = 0; m < nMels; m++)
    for (let t = 0; t < nFrames; t++) data[m * nFrames + t] = -60 + (40 * m) / 127;
  for (let m = 30; m < 50; m++) for (let t = 40; t < 60; t++) map[m * nFrames + t] = value;
  return {
    title: 'pump.wav',
    spectrogram: { data, nMels, nFrames, params: mel },
    result: { map, normalised: value, overThreshold: value > 1, boxes: anomalyBoxes(map, nFrames, mel) },
  };
}

const isGrey = ([r, g, b]: readonly number[]) => r === g && g === b;
const chroma = ([r, g, b]: readonly number[]) => Math.max(r, g, b) - Math.min(r, g, b);
const dark = (p: readonly number[]) => p[0] + p[1] + p[2] < 150;

describe('score figure', () => {
  const input = clip();
  const fig = scoreFigure(input);
  const at = (x: number, y: number) => {
    const i = 4 * (Math.round(y) * fig.image.width + Math.round(x));
    return Array.from(fig.image.data.subarray(i, i + 3));
  };
  const { plot } = fig;
  const bottom = plot.y + plot.height;
  // Whole pixels per cell: 7 per frame (122 frames -> 854 px), 3 per mel band (128 -> 384 px).
  const cellX = (t: number) => plot.x + t * 7;
  const cellY = (m: number) => bottom - (m + 1) * 3; // top row of band m

  it('is at least 1000 pixels wide, with whole pixels per frame and per band', () => {
    expect(fig.image.width).toBeGreaterThanOrEqual(1000);
    expect([plot.width, plot.height]).toEqual([854, 384]);
    expect(fig.image.data).toHaveLength(fig.image.width * fig.image.height * 4);
  });

  it('has time ticks in seconds and frequency ticks in Hz, with labels', () => {
    // 1 s is the centre of frame (16000 - 512) / 256 = 60.5, i.e. the middle of its column.
    const x1s = Math.round(plot.x + (60.5 + 0.5) * 7);
    expect(dark(at(x1s, bottom + 3))).toBe(true);
    expect(dark(at(x1s + 4, bottom + 3))).toBe(false); // a tick, not a line
    const labelBelow = [...Array(20).keys()].some((dx) => dark(at(x1s - 10 + dx, bottom + 16)));
    expect(labelBelow).toBe(true);
    // 1 kHz on the Slaney mel axis: edges are 130 points equally spaced in mel, band m centred on edge m + 1.
    const edge = (hzToMel(1000) / hzToMel(8000)) * 129;
    const y1k = Math.round(bottom - (edge - 1 + 0.5) * 3);
    expect(dark(at(plot.x - 4, y1k))).toBe(true);
    expect(dark(at(plot.x - 4, y1k - 4))).toBe(false);
    const labelLeft = [...Array(30).keys()].some((dx) => dark(at(plot.x - 40 + dx, y1k)));
    expect(labelLeft).toBe(true);
  });

  it('has a grey dB legend and a score legend showing the overlay over black and over white', () => {
    const s = fig.legends.spectrogram;
    const top = at(s.x + s.width / 2, s.y + 2);
    const low = at(s.x + s.width / 2, s.y + s.height - 2);
    expect(isGrey(top) && isGrey(low)).toBe(true);
    expect(top[0]).toBeGreaterThan(240);
    expect(low[0]).toBeLessThan(15);
    const a = fig.legends.anomaly;
    const y2 = a.y + a.height / 3; // score 2 on a 0-3 bar
    expect(chroma(at(a.x + 2, y2))).toBeGreaterThan(40);
    expect(chroma(at(a.x + a.width - 3, y2))).toBeGreaterThan(40);
    const y02 = a.y + a.height * (1 - 0.2 / 3); // score 0.2: nothing drawn
    expect(at(a.x + 2, y02)).toEqual([0, 0, 0]);
    expect(at(a.x + a.width - 3, y02)).toEqual([255, 255, 255]);
  });

  it('colours the anomalous cells over the grey spectrogram and leaves normal ones grey', () => {
    expect(chroma(at(cellX(50) + 3, cellY(40) + 1))).toBeGreaterThan(40);
    expect(isGrey(at(cellX(10) + 3, cellY(100) + 1))).toBe(true);
  });

  it('outlines each region 3 px outside its cells and labels it with its peak score', () => {
    expect(input.result.boxes).toHaveLength(1);
    expect(fig.boxes[0]).toEqual({ x: cellX(40), y: cellY(49), width: 20 * 7, height: 20 * 3 });
    const midY = cellY(40);
    expect(at(cellX(40) - 3, midY)).toEqual([...BOX_RGB]);
    expect(at(cellX(60) + 2, midY)).toEqual([...BOX_RGB]);
    expect(at(cellX(50), cellY(49) - 3)).toEqual([...BOX_RGB]);
    expect(at(cellX(50), cellY(29) + 2)).toEqual([...BOX_RGB]);
    expect(at(cellX(40) + 1, midY)).not.toEqual([...BOX_RGB]); // the cells themselves stay visible
    // '2.00' above the box: cyan text on black.
    const label = [...Array(50).keys()].filter((dx) => {
      const p = at(cellX(40) + dx, cellY(49) - 16);
      return p[0] === BOX_RGB[0] && p[2] === BOX_RGB[2];
    });
    expect(label.length).toBeGreaterThan(5);
  });

  it('keeps the outline and label of a region at the top edge inside the plot', () => {
    const top = clip();
    top.result.map.fill(0.2);
    for (let m = 120; m < 128; m++) for (let t = 40; t < 60; t++) top.result.map[m * 122 + t] = 2;
    top.result.boxes = anomalyBoxes(top.result.map, 122, mel);
    const f = scoreFigure(top);
    const cyan = (x: number, y: number) => {
      const i = 4 * (y * f.image.width + x);
      return f.image.data[i] === BOX_RGB[0] && f.image.data[i + 2] === BOX_RGB[2];
    };
    const counts = { outside: 0, inside: 0 };
    for (let y = 0; y < f.image.height; y++)
      for (let x = 0; x < f.image.width; x++) if (cyan(x, y)) counts[y < f.plot.y ? 'outside' : 'inside']++;
    const { outside, inside } = counts;
    expect(outside).toBe(0);
    expect(inside).toBeGreaterThan(100);
  });

  it('keeps the overlay visible whatever the score, and never opaque', () => {
    expect(overlayAlpha(0.5)).toBe(0);
    expect(overlayAlpha(0.9)).toBeLessThanOrEqual(0.15);
    expect(overlayAlpha(1)).toBeCloseTo(0.45, 6);
    expect(overlayAlpha(50)).toBe(0.75);
    for (let v = 0; v < 5; v += 0.05) expect(overlayAlpha(v + 0.05)).toBeGreaterThanOrEqual(overlayAlpha(v));
    // A map just at the threshold still shows on the dark (low bands) and on the bright spectrogram.
    const weak = scoreFigure(clip(122, 1));
    const px = (x: number, y: number) =>
      Array.from(
        weak.image.data.subarray(4 * (y * weak.image.width + x), 4 * (y * weak.image.width + x) + 3),
      );
    expect(chroma(px(cellX(50) + 3, cellY(31) + 1))).toBeGreaterThan(30);
    expect(chroma(px(cellX(50) + 3, cellY(48) + 1))).toBeGreaterThan(30);
  });

  it('max-pools a long clip to 2400 columns, keeping a one-frame anomaly', () => {
    const long = clip(6000, 0.2);
    long.result.map[64 * 6000 + 4321] = 3;
    long.result.boxes = anomalyBoxes(long.result.map, 6000, mel);
    const f = scoreFigure(long);
    expect(f.plot.width).toBe(2400);
    const x = Math.floor((4321 * 2400) / 6000) + f.plot.x;
    const y = f.plot.y + f.plot.height - 64 * 3 - 2;
    const i = 4 * (y * f.image.width + x);
    expect(chroma(Array.from(f.image.data.subarray(i, i + 3)))).toBeGreaterThan(40);
    expect(Array.from(maxPool([1, 5, 2, 0, 7, 3], 1, 6, 1, 2))).toEqual([5, 7]);
    expect(Array.from(maxPool([1, 2], 1, 2, 1, 4))).toEqual([1, 1, 2, 2]);
  });
});

describe('5x7 font', () => {
  it('has a glyph for every printable ASCII character and draws others as ?', () => {
    const question = glyph('?').join();
    for (let c = 33; c < 127; c++) {
      const g = glyph(String.fromCharCode(c));
      expect(g.some((row) => row !== 0)).toBe(true);
      if (c !== 63) expect(g.join()).not.toBe(question);
    }
    expect(glyph('°').join()).toBe(question);
    expect(textWidth('1.5k', 2)).toBe((4 * 6 - 1) * 2);
  });
});
