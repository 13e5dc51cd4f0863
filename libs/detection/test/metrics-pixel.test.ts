import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  aupro,
  clipPixelAuc,
  connectedComponents8,
  PixelMetricAccumulator,
  pixelAuc,
  pixelMetrics,
  type PixelClip,
} from '../src/metrics/index.js';

const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`./fixtures/metrics/${name}`, import.meta.url), 'utf8')) as T;

/** Golden values: pixel AUC from scikit-learn, AUPRO from the MVTec AD algorithm in numpy/scipy. */
interface PixelCase {
  name: string;
  nMels: number;
  nFrames: number;
  maps: number[][];
  masks: (number[] | null)[];
  pixelAuc: number;
  aupro: Record<string, number>;
  regions: number;
}
const pixel = load<{ cases: PixelCase[] }>('pixel.json');
const components = load<{
  cases: { rows: number; cols: number; mask: number[]; labels: number[]; count: number }[];
}>('components.json');

const toClips = (c: PixelCase): PixelClip[] =>
  c.maps.map((map, k) => ({
    map: Float32Array.from(map),
    mask: c.masks[k],
    nMels: c.nMels,
    nFrames: c.nFrames,
  }));

describe('pixel metrics: a 1x4 map computed by hand', () => {
  // anomalous cells 0.8, 0.4 (one region of 2); normal cells 0.6, 0.2.
  // (FPR, PRO) by descending threshold: (0,0) (0,.5) (.5,.5) (.5,1) (1,1).
  const clip: PixelClip = { map: [0.4, 0.8, 0.6, 0.2], mask: [1, 1, 0, 0], nMels: 1, nFrames: 4 };

  it('pixelAuc counts correctly ordered cell pairs: (2 + 1) / 4', () => {
    expect(pixelAuc([clip])).toBe(0.75);
  });

  it('aupro integrates PRO over FPR and divides by the limit', () => {
    expect(aupro([clip], 1)).toBe(0.75); // .5 * .5 + .5 * 1
    expect(aupro([clip], 0.3)).toBeCloseTo(0.5, 15); // PRO is .5 on [0, .5]
  });

  it('averages PRO over regions, not cells, and counts FPR over normal clips too', () => {
    // region A: 1 cell scored 0.9; region B: 3 cells scored 0.1; normal clip cell 0.5.
    const a: PixelClip = { map: [0.9, 0, 0.1, 0.1, 0.1], mask: [1, 0, 1, 1, 1], nMels: 1, nFrames: 5 };
    const normal: PixelClip = { map: [0.5], nMels: 1, nFrames: 1 };
    // thresholds .9: (0, .5); .5: (.5, .5); .1: (.5, 1); 0: (1, 1) -> area .25 + .5
    expect(aupro([a, normal], 1)).toBeCloseTo(0.75, 15);
    // pixel AUC: 0.9 beats 2 normals; each 0.1 beats only the 0 -> (2 + 3) / 8
    expect(pixelAuc([a, normal])).toBe(5 / 8);
  });

  it('treats tied anomalous and normal cells as one diagonal step', () => {
    const tied: PixelClip = { map: [1, 1, 1, 1], mask: [1, 0, 1, 0], nMels: 2, nFrames: 2 };
    expect(pixelMetrics([tied], 0.3)).toEqual({ pixelAuc: 0.5, aupro: 0.15 }); // PRO = FPR up to .3: .3^2/2/.3
  });
});

describe('pixel metrics against scikit-learn and the MVTec AD AUPRO reference', () => {
  it.each(pixel.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const acc = new PixelMetricAccumulator();
    for (const clip of toClips(c)) acc.update(clip.map, clip.mask ?? null, c.nMels, c.nFrames);
    expect(acc.counts.regions).toBe(c.regions);
    expect(acc.pixelAuc()).toBeCloseTo(c.pixelAuc, 13);
    expect(acc.aupro()).toBeCloseTo(c.aupro['0.3'], 12);
    expect(aupro(toClips(c), 0.1)).toBeCloseTo(c.aupro['0.1'], 12);
    expect(aupro(toClips(c), 1)).toBeCloseTo(c.aupro['1.0'], 12);
  });

  it('gives the same result whatever the clip order, and after more updates', () => {
    const c = pixel.cases[0];
    const clips = toClips(c);
    const acc = new PixelMetricAccumulator();
    for (const clip of clips.slice(0, 3)) acc.update(clip.map, clip.mask ?? null, c.nMels, c.nFrames);
    acc.compute(); // sorts in place; later updates must still count
    for (const clip of clips.slice(3)) acc.update(clip.map, clip.mask ?? null, c.nMels, c.nFrames);
    expect(acc.compute().aupro).toBeCloseTo(c.aupro['0.3'], 12);
    expect(pixelMetrics([...clips].reverse()).pixelAuc).toBeCloseTo(c.pixelAuc, 13);
  });
});

describe('clipPixelAuc: one clip against normal cells', () => {
  it('counts the normal cells under each of its anomalous cells, ties one half, and ignores its normal cells', () => {
    const normal = Float32Array.from([0.1, 0.2, 0.2, 0.5]);
    // Anomalous cells 0.2 (1 below, 2 tied: 2 of 4) and 0.6 (4 of 4); the cell 9 is outside the mask.
    expect(clipPixelAuc(normal, [0.2, 9, 0.6], [1, 0, 1])).toBeCloseTo((2 / 4 + 4 / 4) / 2, 12);
    // The same as the pooled pixelAuc when every cell of the clip is anomalous.
    const normalClips = [
      { map: [0.5, 0.1], nMels: 1, nFrames: 2 },
      { map: [0.2, 0.2], nMels: 1, nFrames: 2 },
    ];
    const clip = { map: [0.2, 0.6, 0.05], mask: [1, 1, 1], nMels: 1, nFrames: 3 };
    expect(clipPixelAuc(normal, clip.map, clip.mask)).toBeCloseTo(pixelAuc([...normalClips, clip]), 12);
    // Compared at float32 precision, as the accumulator compares them: 0.1 ties the stored float32 0.1.
    expect(clipPixelAuc(normal, [0.1], [1])).toBeCloseTo(0.5 / 4, 12);
    expect(clipPixelAuc(normal, [1], [0])).toBeNaN();
    expect(() => clipPixelAuc(normal, [1, 2], [1])).toThrow(/must have the same length/);
    expect(() => clipPixelAuc(new Float32Array(0), [1], [1])).toThrow(/needs normal cells/);
  });
});

describe('pixel metrics at scale', () => {
  it('is exact on 2.5 M cells (checked against a histogram count of integer scores)', () => {
    const [nMels, nFrames, nClips, levels] = [128, 313, 64, 50];
    const hist = { pos: new Float64Array(levels), neg: new Float64Array(levels) };
    const acc = new PixelMetricAccumulator();
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let k = 0; k < nClips; k++) {
      const map = new Float32Array(nMels * nFrames);
      const mask = new Uint8Array(map.length);
      for (let i = 0; i < map.length; i++) {
        mask[i] = k % 2 === 1 && i % nFrames > 100 && i % nFrames < 140 ? 1 : 0;
        map[i] = Math.min(levels - 1, Math.floor(rand() * 40 + mask[i] * 10));
        (mask[i] ? hist.pos : hist.neg)[map[i]]++;
      }
      acc.update(map, k % 2 === 1 ? mask : null, nMels, nFrames);
    }
    let u = 0;
    let negBelow = 0;
    for (let v = 0; v < levels; v++) {
      u += hist.pos[v] * (negBelow + hist.neg[v] / 2);
      negBelow += hist.neg[v];
    }
    const total = hist.pos.reduce((a, b) => a + b) * negBelow;
    const t0 = performance.now();
    expect(acc.pixelAuc()).toBeCloseTo(u / total, 12);
    expect(acc.counts).toEqual({
      clips: 64,
      normalCells: 64 * 128 * 313 - 159_744,
      anomalousCells: 159_744,
      regions: 32,
    });
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('connectedComponents8', () => {
  it('joins diagonal neighbours (8-connectivity) and numbers regions in raster order', () => {
    // 1 0 0 1
    // 0 1 0 1
    // 0 0 0 0
    // 1 1 0 0
    const { labels, count, sizes } = connectedComponents8(
      [1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0],
      4,
      4,
    );
    expect(count).toBe(3);
    expect(Array.from(labels)).toEqual([1, 0, 0, 2, 0, 1, 0, 2, 0, 0, 0, 0, 3, 3, 0, 0]);
    expect(Array.from(sizes)).toEqual([2, 2, 2]);
  });

  it.each(components.cases.map((c, k) => [k, c] as const))(
    'matches scipy.ndimage.label, 3x3 structure (#%i)',
    (_k, c) => {
      const out = connectedComponents8(c.mask, c.rows, c.cols);
      expect(out.count).toBe(c.count);
      expect(Array.from(out.labels)).toEqual(c.labels);
    },
  );
});

describe('pixel metrics: clear errors', () => {
  const map = [0.1, 0.2];
  it('names the clip and cell of a bad input', () => {
    const acc = new PixelMetricAccumulator();
    acc.update(map, null, 1, 2);
    expect(() => acc.update([0.1, NaN], [0, 1], 1, 2)).toThrow('clip 1: map cell (mel 0, frame 1) is NaN');
    expect(() => acc.update([0.1, 1e39], [0, 1], 1, 2)).toThrow('is 1e+39; scores must be finite float32');
    expect(() => acc.update(map, [0, 2], 1, 2)).toThrow('clip 1: mask cell 1 is 2');
    expect(() => acc.update(map, [0, 1, 0], 1, 2)).toThrow('mask length (3) must equal nMels * nFrames (2)');
    expect(() => acc.update(map, null, 2, 2)).toThrow('map length (2) must equal nMels * nFrames (4)');
    expect(() => acc.update(map, null, 0, 2)).toThrow('nMels (0) and nFrames (2) must be positive integers');
  });

  it('needs normal and anomalous cells', () => {
    expect(() => pixelAuc([{ map, nMels: 1, nFrames: 2 }])).toThrow(
      /only one class present \(0 anomalous, 2 normal/,
    );
    expect(() => aupro([{ map, mask: [1, 1], nMels: 1, nFrames: 2 }])).toThrow(/only one class present/);
    expect(() => new PixelMetricAccumulator(0)).toThrow('fprLimit (0) must be in (0, 1]');
  });
});
