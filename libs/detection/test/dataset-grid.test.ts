import { describe, expect, it } from 'vitest';
import {
  frameCentreTimes,
  frameCount,
  groundTruthMask,
  hzToMel,
  melBinCentres,
  melFrequencies,
  melToHz,
  readDataset,
  type GroundTruthEvent,
} from '../src/dataset/index.js';
import { CORPUS, corpusOrWarn } from '../../../test/support/corpus.js';

describe('mel scale', () => {
  it('Slaney: linear below 1 kHz, 27 mels per factor 6.4 above', () => {
    expect(hzToMel(0)).toBe(0);
    expect(hzToMel(200)).toBeCloseTo(3, 14);
    expect(hzToMel(1000)).toBeCloseTo(15, 14);
    expect(hzToMel(6400)).toBeCloseTo(42, 13);
    expect(melToHz(42)).toBeCloseTo(6400, 9);
  });

  it('HTK: 2595 log10(1 + f / 700)', () => {
    expect(hzToMel(700, true)).toBeCloseTo(2595 * Math.log10(2), 12);
    expect(melToHz(hzToMel(3210, true), true)).toBeCloseTo(3210, 9);
  });

  it('round-trips on both scales', () => {
    for (const hz of [0, 50, 999, 1000, 1001, 4321, 8000, 22050]) {
      expect(melToHz(hzToMel(hz))).toBeCloseTo(hz, 8);
      expect(melToHz(hzToMel(hz, true), true)).toBeCloseTo(hz, 8);
    }
  });

  it('matches the librosa.mel_frequencies(n_mels=40) values printed in its documentation', () => {
    const f = melFrequencies(40, 0, 11025);
    // librosa docs: array([0., 85.317, 170.635, 255.952, ..., 1024.856, 1119.114, ..., 11025.])
    expect([f[0], f[1], f[2], f[3], f[12], f[13], f[39]].map((x) => Math.round(x * 1000) / 1000)).toEqual([
      0, 85.317, 170.635, 255.952, 1024.856, 1119.114, 11025,
    ]);
  });

  it('mel bin centres drop the two edge frequencies', () => {
    const edges = melFrequencies(130, 0, 8000);
    const centres = melBinCentres(128, 0, 8000);
    expect(centres.length).toBe(128);
    expect(centres[0]).toBe(edges[1]);
    expect(centres[127]).toBe(edges[128]);
    expect(centres[0]).toBeGreaterThan(0);
    expect(() => melBinCentres(0, 0, 8000)).toThrow('nMels (0) must be a positive integer');
    expect(() => melBinCentres(64, 8000, 8000)).toThrow('must satisfy 0 <= fMin < fMax');
  });
});

describe('frames with center = false', () => {
  const framing = { nFft: 1024, hopLength: 256, sampleRate: 16000 };

  it('counts whole frames only', () => {
    expect(frameCount(80000, framing)).toBe(309); // 1 + floor((80000 - 1024) / 256)
    expect(frameCount(1024, framing)).toBe(1);
    expect(frameCount(1023, framing)).toBe(0);
    expect(() => frameCount(100, { ...framing, hopLength: 0 })).toThrow('hopLength (0) must be > 0');
  });

  it('puts each frame centre half a window after its first sample', () => {
    const t = frameCentreTimes(3, framing);
    expect(Array.from(t)).toEqual([512 / 16000, 768 / 16000, 1024 / 16000]);
  });
});

describe('groundTruthMask', () => {
  // 4 mel bins at 100, 200, 300, 400 Hz; 5 frames at 0.0 .. 0.4 s
  const grid = { frameTimes: [0, 0.1, 0.2, 0.3, 0.4], melFrequencies: [100, 200, 300, 400] };

  it('marks cells whose centres fall inside an event box, bounds inclusive', () => {
    const event: GroundTruthEvent = { onset: 0.1, offset: 0.3, lowHz: 200, highHz: 300, label: '' };
    // prettier-ignore
    expect(Array.from(groundTruthMask([event], grid))).toEqual([
      0, 0, 0, 0, 0,
      0, 1, 1, 1, 0,
      0, 1, 1, 1, 0,
      0, 0, 0, 0, 0,
    ]);
  });

  it('unions several events and is empty without events', () => {
    const a: GroundTruthEvent = { onset: 0, offset: 0.05, lowHz: 0, highHz: 150, label: '' };
    const b: GroundTruthEvent = { onset: 0.35, offset: 9, lowHz: 350, highHz: 1e4, label: '' };
    const mask = groundTruthMask([a, b], grid);
    expect(Array.from(mask).reduce((s, v) => s + v, 0)).toBe(2);
    expect([mask[0], mask[3 * 5 + 4]]).toEqual([1, 1]);
    expect(Array.from(groundTruthMask([], grid)).every((v) => v === 0)).toBe(true);
  });

  it('misses an event that falls between frame centres (documented behaviour)', () => {
    const short: GroundTruthEvent = { onset: 0.12, offset: 0.18, lowHz: 0, highHz: 1e4, label: '' };
    expect(Array.from(groundTruthMask([short], grid)).every((v) => v === 0)).toBe(true);
  });
});

const hasCorpus = corpusOrWarn('dataset-grid.test.ts');

describe.skipIf(!hasCorpus)('real corpus masks (128 mels, nFft 1024, hop 256, 16 kHz, 5 s clips)', () => {
  it('gives every anomalous clip a non-empty mask that covers its events and nothing else', async () => {
    const framing = { nFft: 1024, hopLength: 256, sampleRate: 16000 };
    const grid = {
      frameTimes: frameCentreTimes(frameCount(80000, framing), framing),
      melFrequencies: melBinCentres(128, 0, 8000),
    };
    for (const g of await readDataset(CORPUS)) {
      for (const clip of g.test.filter((c) => c.groundTruth)) {
        const events = clip.groundTruth?.events ?? [];
        const mask = groundTruthMask(events, grid);
        const cells = mask.reduce((s, v) => s + v, 0);
        expect(cells, `${g.name}/${clip.name}`).toBeGreaterThan(0);
        // every marked cell lies inside some event's box
        for (let k = 0; k < mask.length; k++) {
          if (!mask[k]) continue;
          const [f, t] = [grid.melFrequencies[(k / 309) | 0], grid.frameTimes[k % 309]];
          expect(events.some((e) => f >= e.lowHz && f <= e.highHz && t >= e.onset && t <= e.offset)).toBe(
            true,
          );
        }
      }
    }
  });
});
