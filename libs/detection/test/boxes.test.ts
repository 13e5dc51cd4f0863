import { describe, expect, it } from 'vitest';
import { resolveMelParams } from '@hark/dsp';
import { anomalyBoxes } from '../src/pipeline/boxes.js';
import { shareTime } from '../src/pipeline/fusion.js';
import { melFrequencies } from '../src/dataset/grid.js';

const mel = resolveMelParams({ sampleRate: 16000 });
const { nMels } = mel;
const nFrames = 100;
// Mel filter centres in Hz (filter m spans edges m..m+2).
const centres = melFrequencies(nMels + 2, mel.fMin, mel.fMax, mel.melScale === 'htk').subarray(1, nMels + 1);
const nearest = (hz: number) =>
  centres.reduce((best, c, m) => (Math.abs(c - hz) < Math.abs(centres[best] - hz) ? m : best), 0);

/** A map of a 3 kHz whine in frames 30..69 over a quiet floor, and the same after time-share mixing. */
function whine(): { local: Float32Array; mixed: Float32Array } {
  const local = new Float32Array(nMels * nFrames).fill(0.3);
  const at = nearest(3000);
  for (let m = 0; m < nMels; m++) {
    const level = 0.3 + 4 * Math.exp(-0.5 * ((m - at) / 1.5) ** 2);
    for (let t = 30; t < 70; t++) local[m * nFrames + t] = level;
  }
  return { local, mixed: shareTime(Float32Array.from(local), nMels, 0.6) };
}

describe('anomalyBoxes', () => {
  it('gives a narrowband tone a box within a third of an octave around it, with the time extent and peak of the mixed map', () => {
    const { local, mixed } = whine();
    const plain = anomalyBoxes(mixed, nFrames, mel)[0];
    const [top] = anomalyBoxes(mixed, nFrames, mel, { localMap: local });
    expect(top.lowHz).toBeLessThan(3000);
    expect(top.highHz).toBeGreaterThan(3000);
    expect(Math.log2(top.highHz / top.lowHz)).toBeLessThanOrEqual(1 / 3);
    expect([top.onset, top.offset, top.peak]).toEqual([plain.onset, plain.offset, plain.peak]);
  });

  it('keeps a broadband anomaly broad', () => {
    const local = new Float32Array(nMels * nFrames).fill(0.3);
    for (let m = 0; m < nMels; m++) for (let t = 30; t < 70; t++) local[m * nFrames + t] = 3;
    const mixed = shareTime(Float32Array.from(local), nMels, 0.6);
    const [top] = anomalyBoxes(mixed, nFrames, mel, { localMap: local });
    expect(top.lowHz).toBeLessThanOrEqual(mel.fMin + 50);
    expect(top.highHz).toBeGreaterThanOrEqual(mel.fMax - 1);
  });

  it('scores a box as the strongest window it spans, so an over-threshold clip has an over-threshold box at its peak', () => {
    // The blurred, averaged map stays under 1 everywhere, while the second window's score is over it.
    const map = new Float32Array(nMels * nFrames).fill(0.2);
    for (let m = 40; m < 50; m++) for (let t = 40; t < 60; t++) map[m * nFrames + t] = 0.9;
    const windows = { starts: [0, 31, 62], frames: 38, scores: [0.4, 1.3, 0.7] };
    const [top] = anomalyBoxes(map, nFrames, mel, { windows });
    expect(top.peak).toBe(1.3);
    expect(top.mapPeak).toBeCloseTo(0.9, 6);
    expect(top.overThreshold).toBe(true);
    // A region only in the last window reads that window's score, under the threshold.
    const late = new Float32Array(nMels * nFrames).fill(0.2);
    for (let m = 40; m < 50; m++) for (let t = 80; t < 95; t++) late[m * nFrames + t] = 2;
    const [quiet] = anomalyBoxes(late, nFrames, mel, { windows });
    expect([quiet.peak, quiet.mapPeak, quiet.overThreshold]).toEqual([0.7, 2, false]);
    // Without windows the map value is the score.
    expect(anomalyBoxes(late, nFrames, mel)[0]).toMatchObject({ peak: 2, mapPeak: 2, overThreshold: true });
  });

  it('rejects windows without one score per start', () => {
    const { mixed } = whine();
    expect(() =>
      anomalyBoxes(mixed, nFrames, mel, { windows: { starts: [0, 50], frames: 50, scores: [1] } }),
    ).toThrow(/2 starts and 1 scores/);
  });

  it('rejects a local map of another shape', () => {
    const { mixed } = whine();
    expect(() => anomalyBoxes(mixed, nFrames, mel, { localMap: new Float32Array(3) })).toThrow(
      /localMap has 3 values/,
    );
  });
});
