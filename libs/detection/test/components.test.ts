import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  avgPool3x3,
  patchEmbeddings,
  resizeBilinear,
  type FeatureMap,
} from '../src/components/feature-maps.js';
import { gaussianBlur2d, gaussianKernel } from '../src/components/gaussian-blur.js';
import { kCenterGreedy, sparseRandomProjection } from '../src/components/kcenter-greedy.js';
import { MultivariateGaussian } from '../src/components/multivariate-gaussian.js';
import { windowAnomalyMap } from '../src/pipeline/anomaly-map.js';

const golden = JSON.parse(
  readFileSync(new URL('./fixtures/components/components.json', import.meta.url), 'utf8'),
);
const input: FeatureMap = {
  data: Float32Array.from(golden.input.data),
  channels: golden.input.shape[0],
  height: golden.input.shape[1],
  width: golden.input.shape[2],
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('feature maps (against torch)', () => {
  it('avgPool3x3 equals AvgPool2d(3, 1, 1)', () => {
    expect(maxAbsDiff(avgPool3x3(input).data, golden.avgPool3x3)).toBeLessThan(1e-6);
  });

  it('resizeBilinear equals F.interpolate(bilinear, align_corners=False), up and down', () => {
    expect(maxAbsDiff(resizeBilinear(input, 11, 16).data, golden.resizeUp.data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(resizeBilinear(input, 3, 4).data, golden.resizeDown.data)).toBeLessThan(1e-5);
  });

  it('patchEmbeddings concatenates pooled taps on the first tap grid, one row per patch', () => {
    const deep: FeatureMap = { data: new Float32Array(2 * 2 * 3).fill(1), channels: 2, height: 2, width: 3 };
    const e = patchEmbeddings([input, deep]);
    expect([e.height, e.width, e.dim]).toEqual([5, 7, 5]);
    const pooled = avgPool3x3(input).data;
    // Patch (row 2, col 3): its first 3 values are the pooled shallow channels.
    const p = 2 * 7 + 3;
    for (let c = 0; c < 3; c++) expect(e.data[p * 5 + c]).toBeCloseTo(pooled[c * 35 + p], 6);
    // The deep 2x3 map of ones pools to 6/9 in its middle column (zero padding counts), and patch (2, 3)
    // samples exactly that column, between its two rows.
    expect(e.data[p * 5 + 3]).toBeCloseTo(6 / 9, 6);
    expect(e.data[0 * 5 + 3]).toBeCloseTo(4 / 9, 6);
  });
});

describe('patchEmbeddings (fused pooling, resize and concatenation)', () => {
  const random = (channels: number, height: number, width: number, seed: number): FeatureMap => {
    let x = seed;
    const data = Float32Array.from({ length: channels * height * width }, () => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x / 2 ** 30 - 1;
    });
    return { data, channels, height, width };
  };
  /** The composition it replaces: pool, resize, then copy each plane into the rows. */
  const composed = (taps: FeatureMap[]) => {
    const { height, width } = taps[0];
    const maps = taps.map((t) => resizeBilinear(avgPool3x3(t), height, width));
    const dim = maps.reduce((s, m) => s + m.channels, 0);
    const n = height * width;
    const out = new Float32Array(n * dim);
    let offset = 0;
    for (const m of maps) {
      for (let ch = 0; ch < m.channels; ch++)
        for (let p = 0; p < n; p++) out[p * dim + offset + ch] = m.data[ch * n + p];
      offset += m.channels;
    }
    return out;
  };

  it('gives bit for bit the pooled, resized and concatenated taps, call after call (its scratch reused)', () => {
    const cases = [
      [random(4, 8, 12, 1), random(6, 4, 6, 2), random(3, 2, 3, 3)],
      [random(2, 3, 5, 4)],
      // A deeper tap larger than the first (resized down), and a scratch that must grow.
      [random(3, 5, 7, 5), random(9, 10, 14, 6)],
      [random(4, 8, 12, 7), random(6, 4, 6, 8)],
    ];
    for (const taps of cases) {
      const e = patchEmbeddings(taps);
      expect([e.height, e.width]).toEqual([taps[0].height, taps[0].width]);
      expect(Buffer.from(e.data.buffer).equals(Buffer.from(composed(taps).buffer))).toBe(true);
    }
  });
});

describe('gaussianBlur2d (against scipy, mode mirror, truncate 4)', () => {
  it('matches scipy.ndimage.gaussian_filter with different sigmas per axis', () => {
    const { shape, input: m, output, sigmaY, sigmaX } = golden.blur;
    const out = gaussianBlur2d(Float32Array.from(m), shape[0], shape[1], sigmaY, sigmaX);
    expect(maxAbsDiff(out, output)).toBeLessThan(1e-5);
  });

  it('kernel sums to 1 and has radius floor(4 sigma + 0.5)', () => {
    const k = gaussianKernel(4);
    expect(k.length).toBe(2 * 16 + 1);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(() => gaussianKernel(0)).toThrow(/sigma \(0\) must be > 0/);
  });

  it('gives bit for bit what the direct per-cell sum gives (same terms, same order), edges and small maps included', () => {
    // The plain form: every cell sums k[j + r] * src[reflect(p + j)] for j = -r..r in double.
    const reflect = (i: number, n: number) => {
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      i = ((i % period) + period) % period;
      return i < n ? i : period - i;
    };
    const plain = (m: Float32Array, h: number, w: number, sy: number, sx: number) => {
      let src = m;
      if (sx > 0) {
        const k = gaussianKernel(sx);
        const r = (k.length - 1) / 2;
        const dst = new Float32Array(m.length);
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            let s = 0;
            for (let j = -r; j <= r; j++) s += k[j + r] * src[y * w + reflect(x + j, w)];
            dst[y * w + x] = s;
          }
        src = dst;
      }
      if (sy > 0) {
        const k = gaussianKernel(sy);
        const r = (k.length - 1) / 2;
        const dst = new Float32Array(m.length);
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            let s = 0;
            for (let j = -r; j <= r; j++) s += k[j + r] * src[reflect(y + j, h) * w + x];
            dst[y * w + x] = s;
          }
        src = dst;
      }
      return src === m ? m.slice() : src;
    };
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 10 - 3;
    for (const [h, w, sy, sx] of [
      [64, 101, 4, 2],
      [64, 63, 2, 4],
      [5, 7, 4, 4],
      [1, 40, 1.5, 0],
      [33, 1, 0, 3],
      [16, 16, 0, 0],
    ]) {
      const m = Float32Array.from({ length: h * w }, rand);
      expect(Buffer.from(gaussianBlur2d(m, h, w, sy, sx).buffer)).toEqual(
        Buffer.from(plain(m, h, w, sy, sx).buffer),
      );
    }
    // A result is its own array: the next blur (whose first pass reuses a scratch) leaves it as it was.
    const first = gaussianBlur2d(Float32Array.from({ length: 64 * 63 }, rand), 64, 63, 2, 2);
    const kept = first.slice();
    gaussianBlur2d(Float32Array.from({ length: 64 * 63 }, rand), 64, 63, 2, 2);
    expect(first).toEqual(kept);
  });

  it('rejects a map whose size does not match its shape', () => {
    expect(() => gaussianBlur2d(new Float32Array(10), 3, 4, 1)).toThrow(
      /10 values but height \* width = 3 \* 4/,
    );
  });
});

describe('windowAnomalyMap (upsampling and blur folded into one matrix per axis)', () => {
  it('gives the map of resizeBilinear then gaussianBlur2d within float rounding, defaults and edge cases', () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 4;
    for (const [gh, gw, nMels, frames, sy, sx] of [
      [32, 16, 128, 63, 8, 4], // the older defaults (256 x 128 image, stride 8)
      [16, 16, 128, 63, 8, 4], // the defaults (128 x 128 image, stride 8)
      [16, 8, 128, 63, 8, 4], // the window's native size
      [4, 3, 6, 5, 4, 4], // kernels wider than the map: reflected taps add up
      [8, 8, 8, 8, 2, 0], // same size (no upsampling), one axis unblurred
      [1, 5, 9, 20, 0, 0], // no blur at all
    ]) {
      const p = Float32Array.from({ length: gh * gw }, rand);
      const up = resizeBilinear({ data: p, channels: 1, height: gh, width: gw }, nMels, frames).data;
      const want = gaussianBlur2d(up, nMels, frames, sy, sx);
      const got = windowAnomalyMap(
        p,
        { height: gh, width: gw },
        {
          nMels,
          windowFrames: frames,
          blurSigmaMel: sy,
          blurSigmaTime: sx,
        },
      );
      let peak = 0;
      for (const v of want) peak = Math.max(peak, Math.abs(v));
      // Float32 storage of the old path's intermediate maps: a few ulps of the map's largest value.
      expect(maxAbsDiff(got, want)).toBeLessThan(4e-7 * peak);
    }
  });

  it('rejects patch scores that do not fill the grid', () => {
    const shape = { nMels: 8, windowFrames: 8, blurSigmaMel: 1, blurSigmaTime: 1 };
    expect(() => windowAnomalyMap(new Float32Array(5), { height: 2, width: 3 }, shape)).toThrow(
      /5 values, the grid 2 x 3/,
    );
  });
});

describe('kCenterGreedy', () => {
  it('picks one point per well-separated cluster before any second point of a cluster', () => {
    const dim = 8;
    const centres = 6;
    const perCluster = 50;
    const n = centres * perCluster;
    const x = new Float32Array(n * dim);
    let s = 1;
    const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.01;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < dim; j++) x[i * dim + j] = (j === i % centres ? 10 : 0) + rand();
    const picked = kCenterGreedy(x, n, dim, centres, { projectionDim: 0 });
    expect(new Set(Array.from(picked, (i) => i % centres)).size).toBe(centres);
  });

  it('covers the data: the coreset radius shrinks as the coreset grows', () => {
    const n = 400;
    const dim = 32;
    const x = new Float32Array(n * dim).map((_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1);
    const radius = (idx: Int32Array) => {
      let worst = 0;
      for (let p = 0; p < n; p++) {
        let best = Infinity;
        for (const c of idx) {
          let d = 0;
          for (let j = 0; j < dim; j++) d += (x[p * dim + j] - x[c * dim + j]) ** 2;
          best = Math.min(best, d);
        }
        worst = Math.max(worst, best);
      }
      return worst;
    };
    const r10 = radius(kCenterGreedy(x, n, dim, 10, { projectionDim: 16 }));
    const r80 = radius(kCenterGreedy(x, n, dim, 80, { projectionDim: 16 }));
    expect(r80).toBeLessThan(r10);
    expect(new Set(kCenterGreedy(x, n, dim, 80)).size).toBe(80);
  });

  it('selects the same points in the FAISS addon as in the TypeScript loop, across threads', () => {
    // 9000 rows: the addon splits them over its threads, so the cross-thread argmax and ties are exercised.
    const n = 9000;
    const dim = 20;
    let s = 7;
    const x = new Float32Array(n * dim).map(() => (s = (s * 16807) % 2147483647) / 2147483647);
    const native = kCenterGreedy(x, n, dim, 300, { projectionDim: 0 });
    const ts = kCenterGreedy(x, n, dim, 300, { projectionDim: 0, native: false });
    expect(Array.from(native)).toEqual(Array.from(ts));
    // Exact duplicates of the first point: after it, their distance is 0 and none is picked.
    const dup = new Float32Array(40 * dim);
    for (let i = 0; i < 40; i++) dup.set(x.subarray(0, dim), i * dim);
    dup.set(x.subarray(dim, 2 * dim), 39 * dim);
    for (const native of [true, false]) {
      const picked = Array.from(kCenterGreedy(dup, 40, dim, 3, { projectionDim: 0, native }));
      expect(picked).toContain(39);
      expect(picked.filter((i) => i !== 39)).toHaveLength(2);
    }
  });

  it('returns every index when the coreset is as large as the data, and rejects bad sizes', () => {
    expect(Array.from(kCenterGreedy(new Float32Array(6), 3, 2, 5))).toEqual([0, 1, 2]);
    expect(() => kCenterGreedy(new Float32Array(6), 3, 2, 0)).toThrow(/coreset size \(0\)/);
    expect(() => kCenterGreedy(new Float32Array(5), 3, 2, 1)).toThrow(/expected n \* dim = 6/);
  });

  it('sparse random projection roughly preserves distances', () => {
    const n = 50;
    const dim = 512;
    const x = new Float32Array(n * dim).map((_, i) => Math.sin(i * 0.37) + Math.cos(i * 1.91));
    const y = sparseRandomProjection(x, n, dim, 256, 5);
    const d = (a: Float32Array, w: number, i: number, j: number) => {
      let s = 0;
      for (let k = 0; k < w; k++) s += (a[i * w + k] - a[j * w + k]) ** 2;
      return s;
    };
    for (const [i, j] of [
      [0, 1],
      [3, 40],
      [10, 49],
    ]) {
      expect(d(y, 256, i, j) / d(x, dim, i, j)).toBeGreaterThan(0.6);
      expect(d(y, 256, i, j) / d(x, dim, i, j)).toBeLessThan(1.4);
    }
  });
});

describe('MultivariateGaussian', () => {
  it('gives the textbook Mahalanobis distance for a diagonal covariance', () => {
    // Samples (±1, ±2) around (1, 2): variances 4/3 and 16/3 with n - 1 = 3.
    const x = Float32Array.from([0, 0, 2, 0, 0, 4, 2, 4]);
    const g = MultivariateGaussian.fit(x, 4, 2, 0);
    expect(Array.from(g.mean)).toEqual([1, 2]);
    const d2 = g.mahalanobis2(Float32Array.from([3, 2]));
    expect(d2).toBeCloseTo(4 / (4 / 3), 6);
  });

  it('regularises a singular covariance with epsilon', () => {
    const x = Float32Array.from([1, 1, 2, 2, 3, 3]);
    expect(() => MultivariateGaussian.fit(x, 3, 2, 0)).toThrow(/not positive definite/);
    const g = MultivariateGaussian.fit(x, 3, 2, 0.01);
    expect(Number.isFinite(g.mahalanobis2(Float32Array.from([1, 3])))).toBe(true);
    expect(g.mahalanobis2(Float32Array.from([1, 3]))).toBeGreaterThan(
      g.mahalanobis2(Float32Array.from([3, 3])),
    );
  });
});
