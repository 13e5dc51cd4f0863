import { describe, expect, it } from 'vitest';
import { resolveMelParams } from '@hark/dsp';
import { anomalyBoxes } from '../src/pipeline/boxes.js';
import { shareTime, type FusionScales, type WindowParts } from '../src/pipeline/fusion.js';
import { binLevelRise, toneEvidence } from '../src/pipeline/tone-map.js';
import { gaussianBlur2d } from '../src/components/gaussian-blur.js';
import { melFrequencies } from '../src/dataset/grid.js';

const mel = resolveMelParams({ sampleRate: 16000 });
const { nMels } = mel;
const nFrames = 100;
// Mel filter centres in Hz (filter m spans edges m..m+2).
const centres = melFrequencies(nMels + 2, mel.fMin, mel.fMax, mel.melScale === 'htk').subarray(1, nMels + 1);
const times = (frame: number) => (frame * mel.hopLength + mel.nFft / 2) / mel.sampleRate;
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

  it('cuts a tone out of a blurred map by the tone map, and keeps the blurred extent where there is none', () => {
    // The fused map as a real detector makes it: a 3 kHz whine blurred over 8 mel bins (blurSigmaMel) and
    // spread by patch rows, plus a broadband event in frames 75..90 where no window has a tone.
    const at = nearest(3000);
    const local = new Float32Array(nMels * nFrames).fill(0.3);
    for (let t = 30; t < 70; t++) local[at * nFrames + t] = 40;
    for (let m = 0; m < nMels; m++) for (let t = 75; t <= 90; t++) local[m * nFrames + t] = 2.5;
    const blurred = gaussianBlur2d(local, nMels, nFrames, 8, 2);
    const mixed = shareTime(Float32Array.from(blurred), nMels, 0.6);
    // The tone map: the envelope's excess in the whine's mel filter and half of it in the next, frames 30..69.
    const tone = new Float32Array(nMels * nFrames);
    for (let t = 30; t < 70; t++) {
      tone[at * nFrames + t] = 2;
      tone[(at + 1) * nFrames + t] = 1;
    }
    const octaves = (b: { lowHz: number; highHz: number }) => Math.log2(b.highHz / b.lowHz);
    const whine = (boxes: ReturnType<typeof anomalyBoxes>) => boxes.find((b) => b.offset < times(75))!;
    const wide = whine(anomalyBoxes(mixed, nFrames, mel, { localMap: blurred }));
    expect(octaves(wide)).toBeGreaterThan(1 / 3);
    // Windows of 38 frames at a hop of 19; the tonal envelope carries those over the whine (scaled 3 against 1).
    const starts = [0, 19, 38, 57];
    const windows = (others: number[]) => ({
      starts,
      frames: 38,
      scores: [0.5, 2, 2, 1.5],
      tonal: [0.5, 3, 3, 0.5],
      others,
    });
    const carried = windows([0.5, 1, 1, 1.5]);
    const boxes = anomalyBoxes(mixed, nFrames, mel, { localMap: blurred, toneMap: tone, windows: carried });
    const narrow = whine(boxes);
    expect(narrow.lowHz).toBeLessThan(3000);
    expect(narrow.highHz).toBeGreaterThan(3000);
    expect(octaves(narrow)).toBeLessThanOrEqual(1 / 3);
    expect([narrow.onset, narrow.offset, narrow.mapPeak]).toEqual([wide.onset, wide.offset, wide.mapPeak]);
    // Another part further over its normal maximum in a window the box spans: the tone does not carry it.
    const speed = windows([0.5, 4, 1, 1.5]);
    const kept = whine(
      anomalyBoxes(mixed, nFrames, mel, { localMap: blurred, toneMap: tone, windows: speed }),
    );
    expect(octaves(kept)).toBeCloseTo(octaves(wide), 10);
    // A broadband event ringing at 3 kHz: the fused map peaks elsewhere (at 500 Hz), so its box covers it.
    const bang = new Float32Array(nMels * nFrames).fill(0.3);
    for (let m = 0; m < nMels; m++)
      for (let t = 30; t < 70; t++)
        bang[m * nFrames + t] = 2 + 2 * Math.exp(-0.5 * ((m - nearest(500)) / 10) ** 2);
    const bangMixed = shareTime(Float32Array.from(bang), nMels, 0.6);
    const [covered] = anomalyBoxes(bangMixed, nFrames, mel, {
      localMap: bang,
      toneMap: tone,
      windows: carried,
    });
    expect(octaves(covered)).toBeGreaterThan(3);
    // Without the parts' scores nothing says the tone carries the box.
    const bare = whine(anomalyBoxes(mixed, nFrames, mel, { localMap: blurred, toneMap: tone }));
    expect(octaves(bare)).toBeCloseTo(octaves(wide), 10);
    // The broadband event spans no tone frames: it keeps the blurred map's extent, most of the band.
    const event = boxes.find((b) => b.onset >= times(70))!;
    expect(event.lowHz).toBeLessThan(300);
    expect(event.highHz).toBeGreaterThan(6000);
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
    expect(() => anomalyBoxes(mixed, nFrames, mel, { toneMap: new Float32Array(3) })).toThrow(
      /toneMap has 3 values/,
    );
  });
});

describe('toneEvidence', () => {
  const frames = 8;
  const scales: FusionScales = { method: 2, context: 4, contextMap: 1, tonal: 0.5, modulation: 0 };
  /** A window whose tonal envelope stands `excessDb` over its envelope in bin 60 (margin 3 dB). */
  function parts(excessDb: number, method = 1, context = 2): WindowParts {
    const map = new Float32Array(nMels * frames);
    map.fill(excessDb / 3, 60 * frames, 61 * frames);
    map.fill(excessDb / 6, 61 * frames, 62 * frames);
    return {
      method: { windowScore: method, map: new Float32Array(nMels * frames) },
      context: { windowScore: context, map: new Float32Array(nMels * frames) },
      tonal: { windowScore: (1 + excessDb) / 4, map },
    };
  }
  const rise = (at: number, db: number) => {
    const r = new Float32Array(nMels);
    r[at] = db;
    return r;
  };

  it("is the tonal map where the peak bin rose, with each part's score over its normal maximum", () => {
    const p = parts(6, 1, 6);
    // Tonal 1.75 / 0.5; the method 1 / 2, the memory 6 / 4.
    expect(toneEvidence(p, scales, rise(60, 6), 3)).toEqual({ map: p.tonal!.map, tonal: 3.5, others: 1.5 });
    // Half the excess is enough: the tone's power is shared with the bin's own sound.
    expect(toneEvidence(p, scales, rise(60, 3), 3)!.map).toBe(p.tonal!.map);
  });

  it('has no map beside a lost band: the bin stands out but did not rise', () => {
    expect(toneEvidence(parts(6), scales, rise(60, 0.5), 3)!.map).toBeNull();
    expect(toneEvidence(parts(6), scales, rise(59, 6), 3)!.map).toBeNull();
    expect(toneEvidence(parts(0), scales, rise(60, 6), 3)!.map).toBeNull();
  });

  it('has no map when several peaks share the excess (moved harmonics, a ringing clang)', () => {
    const p = parts(6);
    // Two more peaks as high as the first: the first run holds a third of the excess.
    p.tonal!.map.fill(2, 20 * frames, 21 * frames);
    p.tonal!.map.fill(2, 100 * frames, 101 * frames);
    expect(toneEvidence(p, scales, rise(20, 6), 3)!.map).toBeNull();
    // A weaker harmonic (a quarter of the peak) leaves the tone most of it.
    const q = parts(6);
    q.tonal!.map.fill(0.5, 120 * frames, 121 * frames);
    expect(toneEvidence(q, scales, rise(60, 6), 3)!.map).toBe(q.tonal!.map);
  });

  it('is null without a tonal part, its scale or per-bin statistics', () => {
    expect(toneEvidence({ ...parts(6), tonal: null }, scales, rise(60, 6), 3)).toBeNull();
    expect(toneEvidence(parts(6), { ...scales, tonal: undefined }, rise(60, 6), 3)).toBeNull();
    expect(toneEvidence(parts(6), scales, null, 3)).toBeNull();
  });

  it("measures a bin's rise as its mean standardised level times its deviation", () => {
    const z = new Float32Array(nMels * frames);
    z.fill(2, 5 * frames, 6 * frames);
    z.fill(-1, 7 * frames, 8 * frames);
    const std = Array.from({ length: nMels }, () => 1.5);
    const r = binLevelRise(z, nMels, std);
    expect([r[5], r[6], r[7]]).toEqual([3, 0, -1.5]);
  });
});
