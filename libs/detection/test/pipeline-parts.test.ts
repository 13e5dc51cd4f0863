import { describe, expect, it } from 'vitest';
import {
  anomalyBoxes,
  appendFrequencyPosition,
  fitDetector,
  holdoutIndices,
  learnInputScaling,
  median,
  normaliseRows,
  poolChannels,
  removeWindowLevel,
  removeWindowTilt,
  RowLevels,
  resolveDetectorConfig,
  standardiseBins,
} from '../src/index.js';

const FAST = { imageHeight: 128, imageWidth: 64 } as const;

describe('pipeline parts', () => {
  it('validates the config, quoting the bad value', () => {
    expect(() => resolveDetectorConfig({ hopSeconds: 2 })).toThrow(
      /hopSeconds \(2\) must be <= windowSeconds \(1\)/,
    );
    // A damaged model file's 1e308 once asked V8 for an array no memory holds, and the server died (fuzz seed
    // 1464569498 of test/server/corrupt-model.test.ts).
    expect(() => resolveDetectorConfig({ windowSeconds: 1e308 })).toThrow(
      /windowSeconds \(1e\+308\) must be <= 60/,
    );
    expect(() => resolveDetectorConfig({ windowSeconds: 60, mel: { hopLength: 16 } })).toThrow(
      /windowSeconds \(60\) gives 60000 frames at mel.hopLength 16; a window holds at most 16384/,
    );
    // A blur as long as the map's axis already spreads over all of it; 1e6 took seconds per window.
    expect(() => resolveDetectorConfig({ blurSigmaMel: 1e6 })).toThrow(
      /blurSigmaMel \(1000000\) must be <= nMels \(128\)/,
    );
    expect(() => resolveDetectorConfig({ blurSigmaTime: 64 })).toThrow(
      /blurSigmaTime \(64\) must be <= the window's 63 frames/,
    );
    expect(resolveDetectorConfig({ blurSigmaMel: 128, blurSigmaTime: 63 }).blurSigmaTime).toBe(63);
    expect(() => resolveDetectorConfig({ imageHeight: 33 })).toThrow(
      /imageHeight \(33\) must be an even whole number >= 32/,
    );
    expect(() => resolveDetectorConfig({ imageHeight: 2 ** 31 })).toThrow(
      /imageHeight \(2147483648\) must be an even whole number >= 32 and <= 2048/,
    );
    expect(() => resolveDetectorConfig({ method: 'knn' as never })).toThrow(
      /method \('knn'\) must be one of patchcore, padim, spade/,
    );
    expect(() => resolveDetectorConfig({ dbPercentiles: [50, 10] })).toThrow(/dbPercentiles/);
  });

  it('names a bad value of any type readably, never [object Object]', () => {
    const bad = (input: Record<string, unknown>) => {
      try {
        resolveDetectorConfig(input);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error(`${JSON.stringify(input)} was accepted`);
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ methodOptions: { coresetRatio: {} } }, 'coresetRatio ({}) must be in (0, 1]'],
      [{ methodOptions: { x: {} } }, "methodOptions has 'x', not an option of patchcore; its options:"],
      [{ methodOptions: [1] }, 'methodOptions ([1]) must be an object'],
      [{ method: 'padim', methodOptions: { pooling: { a: 1 } } }, 'pooling ({"a":1}) must be'],
      [{ mel: { nMels: { n: 64 } } }, 'nMels ({"n":64}) must be > 0'],
      [{ mel: 'big' }, "mel ('big') must be an object"],
      [{ fusion: { a: 1 } }, 'fusion ({"a":1}) must be one of sum, max, union'],
      [{ backbone: ['mobilenetv2'] }, 'backbone (["mobilenetv2"]) must be one of'],
      [{ taps: [{}] }, 'taps ([{}]) must be an array of layer names'],
      [{ dbPercentiles: [{}, 1] }, 'dbPercentiles ([{},1]) must be two numbers'],
      [{ dbPercentiles: [50, 10] }, 'dbPercentiles ([50,10]) must satisfy'],
      [{ timeShare: '0.5' }, "timeShare ('0.5') must be in [0, 1)"],
      [{ blurSigmaMel: { sigma: 8 } }, 'blurSigmaMel ({"sigma":8}) must be a number >= 0'],
      [{ standardiseBins: 'no' }, "standardiseBins ('no') must be true or false"],
      [{ mapWindowGate: 1 }, 'mapWindowGate (1) must be true or false'],
      [{ contextFrames: [5] }, 'contextFrames ([5]) must be 0 (off) or an odd whole number'],
    ];
    for (const [input, message] of cases) {
      const m = bad(input);
      expect(m, JSON.stringify(input)).toContain(message);
      expect(m).not.toContain('[object');
    }
    const long = bad({ methodOptions: { coresetRatio: { bank: new Array(500).fill(1) } } });
    expect(long.length).toBeLessThan(140);
  });

  it('holds out evenly spread clips for calibration and refuses too few clips', async () => {
    expect(holdoutIndices(16, 5)).toEqual([1, 4, 8, 11, 14]);
    await expect(fitDetector([new Float32Array(16000)], FAST)).rejects.toThrow(
      /need at least 6 normal training clips/,
    );
  });

  it('draws boxes around the regions over 1.0 in seconds and Hz, strongest first', () => {
    const mel = resolveDetectorConfig().mel;
    const nFrames = 100;
    const map = new Float32Array(128 * nFrames).fill(0.2);
    for (let m = 40; m < 50; m++) for (let t = 20; t < 30; t++) map[m * nFrames + t] = 1.5;
    map[10 * nFrames + 80] = 3;
    const boxes = anomalyBoxes(map, nFrames, mel);
    expect(boxes).toHaveLength(2);
    expect(boxes[0]).toMatchObject({ peak: 3, overThreshold: true });
    expect(boxes[1].onset).toBeCloseTo((20 * 256 + 512) / 16000, 6);
    expect(boxes[1].offset).toBeCloseTo((29 * 256 + 512) / 16000, 6);
    expect(boxes[1].lowHz).toBeLessThan(boxes[1].highHz);
    const quiet = anomalyBoxes(new Float32Array(128 * nFrames).fill(0.5).fill(0.9, 0, 3), nFrames, mel);
    expect(quiet[0]).toMatchObject({ overThreshold: false, peak: Math.fround(0.9) });
  });
});

describe('embeddings and input scaling', () => {
  it('pools channels like adaptive_avg_pool1d and leaves them alone at 0', () => {
    const x = Float32Array.from([1, 2, 3, 4, 5, 10, 20, 30, 40, 50]);
    expect(Array.from(poolChannels(x, 2, 5, 2).data)).toEqual([2, 4, 20, 40]); // bins [0,3) and [2,5)
    expect(poolChannels(x, 2, 5, 0).data).toBe(x);
  });

  it('appends the frequency row position, scaled, after each patch embedding', () => {
    const grid = { height: 2, width: 3, dim: 1 };
    const x = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const out = appendFrequencyPosition(x, 1, grid, 4);
    expect(Array.from(out)).toEqual([1, 1, 2, 1, 3, 1, 4, 3, 5, 3, 6, 3]); // 4 * (row + 0.5) / 2
    expect(appendFrequencyPosition(x, 1, grid, 0)).toBe(x);
  });

  it('standardises each mel bin with the training statistics and maps the percentiles', () => {
    // 2 mel bins x 4 frames: bin 0 around 10 dB (std 1), bin 1 constant 50 dB (std floored at 0.5).
    const spec = { nMels: 2, nFrames: 4, data: Float32Array.from([9, 11, 9, 11, 50, 50, 50, 50]) };
    const s = learnInputScaling([spec], { dbPercentiles: [0, 100], standardiseBins: true });
    expect(s.binMean).toEqual([10, 50]);
    expect(s.binStd).toEqual([1, 0.5]);
    expect(s.range).toEqual({ min: -1, max: 1 });
    expect(Array.from(standardiseBins(Float32Array.from([12, 10, 51, 49]), 2, s))).toEqual([2, 0, 2, -2]);
    const raw = learnInputScaling([spec], { dbPercentiles: [0, 100], standardiseBins: false });
    expect(raw).toEqual({ range: { min: 9, max: 50 }, binMean: null, binStd: null });
    const silent = { nMels: 2, nFrames: 2, data: new Float32Array(4) };
    expect(() => learnInputScaling([silent], { dbPercentiles: [1, 99], standardiseBins: false })).toThrow(
      /silent or constant/,
    );
  });

  it('gain invariance removes the window median level, so a gain change leaves the window unchanged', () => {
    const w = Float32Array.from([-60, -40, -52, -45, -70, -41]);
    expect(median(w)).toBe(-52); // lower middle of six values
    expect(median(new Float32Array(0))).toBe(0);
    const levelled = removeWindowLevel(w, true);
    expect(Array.from(levelled)).toEqual([-8, 12, 0, 7, -18, 11]);
    expect(Array.from(w)).toEqual([-60, -40, -52, -45, -70, -41]); // the copy left the input alone
    const louder = removeWindowLevel(w.map((v) => v + 12.5));
    expect(Array.from(louder)).toEqual(Array.from(levelled));
    expect(Array.from(removeWindowLevel(levelled.slice()))).toEqual(Array.from(levelled)); // idempotent
    // An event in a third of the cells moves the median little, so the event stays in the levelled window.
    const event = Float32Array.from({ length: 30 }, (_, i) => (i < 10 ? -20 : -50 + (i % 3)));
    const e = removeWindowLevel(event);
    expect(e[0]).toBeGreaterThanOrEqual(28); // 30 dB over the background, within 2 dB
  });

  it("median is a sorted copy's lower middle value, for any values, lengths and repeats, and leaves x alone", () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const sorted = (x: Float32Array) => Float32Array.from(x).sort()[(x.length - 1) >> 1];
    // Long then short inputs, so the reused scratch holds stale values past the current length.
    for (const n of [1, 2, 3, 4, 5, 63, 64, 500, 8064, 7, 6, 128, 1, 2]) {
      for (const kind of ['spread', 'repeats', 'constant', 'ascending', 'descending', 'two values']) {
        const x = Float32Array.from({ length: n }, (_, i) => {
          if (kind === 'spread') return rand() * 80 - 40;
          if (kind === 'repeats') return Math.round(rand() * 3);
          if (kind === 'constant') return -52.5;
          if (kind === 'ascending') return i / 7;
          if (kind === 'descending') return -i / 7;
          return i % 2 ? 1e-30 : -3.4e38;
        });
        const before = x.slice();
        expect(median(x), `${kind}, n = ${n}`).toBe(sorted(x));
        expect(x, `${kind}, n = ${n}: input unchanged`).toEqual(before);
      }
    }
    // A NaN is sorted last, as before; infinities are values like any other.
    expect(median(Float32Array.from([3, NaN, 1, 2]))).toBe(2);
    expect(median(Float32Array.from([NaN, NaN, 1]))).toBeNaN();
    expect(median(Float32Array.from([Infinity, -Infinity, 5]))).toBe(5);
    // Signed zeros: a sort puts -0 first, and toBe tells the two apart.
    expect(median(Float32Array.from([0, -0, 0]))).toBe(0);
    expect(median(Float32Array.from([-0, 0, -0]))).toBe(-0);
    expect(median(Float32Array.from([-1, 0, -0, 2]))).toBe(-0);
    expect(median(Float32Array.from([-1, 0, -0, 2, 3]))).toBe(0);
  });

  it('tilt invariance removes a level and a straight spectral slope, and keeps a local event', () => {
    // 16 mel bins x 8 frames of a bumpy spectrum, with a 4-frame event in bins 5-6.
    const nMels = 16;
    const frames = 8;
    const base = Float32Array.from({ length: nMels * frames }, (_, i) => {
      const [m, t] = [Math.floor(i / frames), i % frames];
      return -50 + 3 * Math.sin(m) + ((m * 7 + t * 3) % 5) * 0.2 + (m >= 5 && m <= 6 && t < 4 ? 20 : 0);
    });
    const tilted = base.map((v, i) => v - 9 + 0.8 * Math.floor(i / frames)); // -9 dB and +0.8 dB per bin
    const a = removeWindowTilt(base, nMels, true);
    const b = removeWindowTilt(tilted, nMels, true);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 4);
    expect(a[5 * frames]).toBeGreaterThan(a[5 * frames + 7] + 15); // the event stands out in its bins
    expect(Array.from(removeWindowTilt(a.slice(), nMels)).every((v, i) => Math.abs(v - a[i]) < 1e-4)).toBe(
      true,
    );
  });
});

describe('per-frequency map calibration', () => {
  it("divides each mel bin by the quantile of its normal values, so 1.0 is the band's normal level", () => {
    const rows = new RowLevels(2);
    rows.add(Float32Array.from([1, 2, 3, 10, 20, 30])); // 2 bins x 3 frames
    rows.add(Float32Array.from([4, 5, 0, 40, 50, 0]));
    expect(rows.levels(0.5, 1e-6)).toEqual([2.5, 25]);
    expect(rows.levels(1, 100)).toEqual([100, 100]);
    expect(Array.from(normaliseRows(Float32Array.from([5, 2.5, 50, 25]), [2.5, 25]))).toEqual([2, 1, 2, 1]);
    expect(() => new RowLevels(1).levels(0.5, 1)).toThrow(/no normal window maps/);
  });
});
