import { describe, expect, it } from 'vitest';
import {
  contextNorms,
  contextSearch,
  contextSearchAsync,
  ErrorCode,
  FlatIndex,
  getNumThreads,
  setNumThreads,
  type ContextColumns,
} from '../src/index.js';
import { BACKENDS, caught, clusteredVectors, randomVectors } from './helpers.js';

// The context memory's search (contextSearch, native/src/addon/flat_search.h ContextSearch): contexts held as
// runs of columns, searched through one product of the window's columns by the memory's columns. It must
// answer as a flat float32 index of the assembled contexts does, to the bit (distances and labels, ties to the
// smaller label), on both backends, for memories of whole windows and of scattered single contexts.

const M = 24;
const F = 5;
const WF = 31;

/** Context `start` of `columns`, bin-major. */
function assemble(columns: Float32Array, start: number, out: Float32Array, at: number): void {
  for (let m = 0; m < M; m++) for (let c = 0; c < F; c++) out[at + m * F + c] = columns[(start + c) * M + m];
}

function memoryOf(columns: Float32Array, starts: Int32Array): ContextColumns {
  return { columns, starts, nMels: M, frames: F, norms: contextNorms(columns, M, F, starts) };
}

/** A flat float32 index of the memory's contexts, and the window's contexts as its queries. */
function flatOf(mem: ContextColumns): FlatIndex {
  const d = M * F;
  const vectors = new Float32Array(mem.starts.length * d);
  mem.starts.forEach((s, j) => assemble(mem.columns, s, vectors, j * d));
  const index = new FlatIndex(d, { storage: 'float32' });
  index.add(vectors);
  return index;
}

function queriesOf(window: Float32Array): Float32Array {
  const d = M * F;
  const n = WF - F + 1;
  const q = new Float32Array(n * d);
  for (let t = 0; t < n; t++)
    for (let m = 0; m < M; m++) for (let c = 0; c < F; c++) q[t * d + m * F + c] = window[m * WF + t + c];
  return q;
}

/** The window `[M, WF]` whose columns are `cols` (`[WF, M]`). */
function windowOf(cols: Float32Array): Float32Array {
  const w = new Float32Array(M * WF);
  for (let t = 0; t < WF; t++) for (let m = 0; m < M; m++) w[m * WF + t] = cols[t * M + m];
  return w;
}

// 60 windows of 31 columns of a machine-like sound (clustered columns), each window's contexts its run.
const windows = 60;
const columns = clusteredVectors(windows * WF, M, 21, 8);
const whole = memoryOf(
  columns,
  Int32Array.from(
    { length: windows * (WF - F + 1) },
    (_, j) => Math.floor(j / (WF - F + 1)) * WF + (j % (WF - F + 1)),
  ),
);
// Scattered contexts: every seventh start, so runs of one context with gaps between them.
const scattered = memoryOf(
  columns,
  Int32Array.from({ length: Math.floor((windows * WF - F) / 7) }, (_, j) => 7 * j),
);

/**
 * libs/detection's context residual map, written plainly: each full-context frame's squared difference with
 * its nearest context's middle column, the edges copied in, then a separable blur (rows, then columns; reflect
 * padding; every sum over the taps in order, in double).
 */
function referenceMap(
  mem: ContextColumns,
  w: Float32Array,
  labels: Int32Array,
  alongFrames: Float32Array,
  alongBins: Float32Array,
): Float32Array {
  const h = (F - 1) / 2;
  const map = new Float32Array(M * WF);
  labels.forEach((label, j) => {
    for (let m = 0; m < M; m++)
      map[m * WF + j + h] = (w[m * WF + j + h] - mem.columns[(mem.starts[label] + h) * M + m]) ** 2;
  });
  for (let m = 0; m < M; m++)
    for (let t = 0; t < h; t++) {
      map[m * WF + t] = map[m * WF + h];
      map[m * WF + WF - 1 - t] = map[m * WF + WF - 1 - h];
    }
  const reflect = (i: number, n: number) => {
    const period = 2 * (n - 1);
    i = ((i % period) + period) % period;
    return i < n ? i : period - i;
  };
  const pass = (src: Float32Array, k: Float32Array, rows: boolean): Float32Array => {
    const out = new Float32Array(src.length);
    const r = (k.length - 1) / 2;
    for (let m = 0; m < M; m++)
      for (let t = 0; t < WF; t++) {
        let s = 0;
        for (let j = -r; j <= r; j++)
          s += k[j + r] * (rows ? src[m * WF + reflect(t + j, WF)] : src[reflect(m + j, M) * WF + t]);
        out[m * WF + t] = s;
      }
    return out;
  };
  return pass(pass(map, alongFrames, true), alongBins, false);
}

const probes = (): Float32Array[] => [
  windowOf(columns.subarray(12 * WF * M, 13 * WF * M)), // a fitted window: every context has a twin at 0
  windowOf(columns.subarray(5 * M, (5 + WF) * M)), // columns across two windows: twins, and misses
  windowOf(clusteredVectors(WF, M, 99, 8)), // new columns of the same sound
  windowOf(randomVectors(WF, M, 5).map((v) => 4 * v)), // far from everything
];

describe('contextSearch', () => {
  for (const backend of BACKENDS) {
    it(`answers as a flat float32 index of the assembled contexts, to the bit (${backend})`, async () => {
      for (const mem of [whole, scattered]) {
        const flat = flatOf(mem);
        try {
          for (const w of probes()) {
            const want = flat.search(queriesOf(w), 1);
            for (const got of [
              contextSearch(mem, w, WF, backend),
              await contextSearchAsync(mem, w, WF, backend),
            ]) {
              expect(Buffer.from(got.distances.buffer).equals(Buffer.from(want.distances.buffer))).toBe(true);
              expect(Array.from(got.labels)).toEqual(Array.from(want.labels, Number));
            }
          }
        } finally {
          flat.dispose();
        }
      }
    });
  }

  it('answers the same on one thread and on several (the tiles split over them)', () => {
    const before = getNumThreads();
    try {
      const answers = [1, 2, 3].map((threads) => {
        setNumThreads(threads);
        return probes().map((w) => contextSearch(whole, w, WF, 'faiss'));
      });
      for (const other of answers.slice(1))
        other.forEach((r, i) => {
          expect(Buffer.from(r.distances.buffer).equals(Buffer.from(answers[0][i].distances.buffer))).toBe(
            true,
          );
          expect(Array.from(r.labels)).toEqual(Array.from(answers[0][i].labels));
        });
    } finally {
      setNumThreads(before);
    }
  });

  it('gives a tie to the smaller context index', () => {
    // The same window twice: each query's twins are at j and j + 27; the first one wins.
    const twice = new Float32Array(2 * WF * M);
    twice.set(columns.subarray(0, WF * M));
    twice.set(columns.subarray(0, WF * M), WF * M);
    const n = WF - F + 1;
    const mem = memoryOf(
      twice,
      Int32Array.from({ length: 2 * n }, (_, j) => (j < n ? j : WF + j - n)),
    );
    for (const backend of BACKENDS) {
      const r = contextSearch(mem, windowOf(twice.subarray(0, WF * M)), WF, backend);
      expect(Array.from(r.labels)).toEqual(Array.from({ length: n }, (_, t) => t));
      expect(Array.from(r.distances).every((d) => d === 0)).toBe(true);
    }
  });

  it('builds the blurred residual map on the pool thread, to the bit of a plain reference', async () => {
    const kernel = (sigma: number): Float32Array => {
      const r = Math.floor(4 * sigma + 0.5);
      const k = Float32Array.from({ length: 2 * r + 1 }, (_, i) =>
        Math.exp(-((i - r) ** 2) / (2 * sigma ** 2)),
      );
      const sum = k.reduce((a, b) => a + b, 0);
      return k.map((v) => v / sum);
    };
    // Kernels narrower and wider than the window's 24 bins and 31 frames (reflected past both ends).
    for (const [sf, sb] of [
      [2, 2],
      [1, 7],
    ]) {
      const blur = { alongFrames: kernel(sf), alongBins: kernel(sb) };
      for (const mem of [whole, scattered])
        for (const w of probes()) {
          const got = await contextSearchAsync(mem, w, WF, 'faiss', blur);
          const plain = contextSearch(mem, w, WF, 'faiss');
          expect(Buffer.from(got.distances.buffer).equals(Buffer.from(plain.distances.buffer))).toBe(true);
          expect(Array.from(got.labels)).toEqual(Array.from(plain.labels));
          const want = referenceMap(mem, w, plain.labels, blur.alongFrames, blur.alongBins);
          expect(got.map).toBeInstanceOf(Float32Array);
          expect(Buffer.from(got.map!.buffer).equals(Buffer.from(want.buffer))).toBe(true);
        }
      // The TypeScript backend answers the search and leaves the map to its caller.
      expect((await contextSearchAsync(whole, probes()[0], WF, 'typescript', blur)).map).toBeUndefined();
    }
  });

  it('refuses a bad memory or window with the value and the rule', async () => {
    const cases: [() => unknown, RegExp][] = [
      [() => contextNorms(new Float32Array(10), M, F, new Int32Array([0])), /not a multiple of dim \(24\)/],
      [() => contextNorms(columns, M, F, new Int32Array([0, 0])), /starts must be ascending/],
      [
        () => contextNorms(columns, M, F, new Int32Array([windows * WF - 2])),
        /starts\[0\] \(1858\) must be in \[0, 1855\]/,
      ],
      [() => contextNorms(columns, M, F, new Int32Array(0)), /at least one context/],
      [
        () => contextSearch({ ...whole, norms: new Float32Array(3) }, probes()[0], WF),
        /norms must be a Float32Array of 1620/,
      ],
      [
        () => contextSearch(whole, new Float32Array(M * WF - 1), WF),
        /window holds 743 values, not nMels \(24\) x windowFrames \(31\)/,
      ],
      [
        () => contextSearch(whole, new Float32Array(M * 3), 3),
        /windowFrames \(3\) must be an integer >= frames \(5\)/,
      ],
      [
        () =>
          contextSearchAsync(whole, probes()[0], WF, 'faiss', {
            alongFrames: new Float32Array(4),
            alongBins: new Float32Array(5),
          }),
        /blur.alongFrames must hold an odd number of taps, got 4/,
      ],
      [
        () =>
          contextSearchAsync(whole, probes()[0], WF, 'faiss', {
            alongFrames: new Float32Array(5),
            alongBins: [1] as unknown as Float32Array,
          }),
        /blur.alongBins must be a Float32Array/,
      ],
      [
        () =>
          contextSearchAsync(
            { ...whole, frames: 4, norms: contextNorms(whole.columns, M, 4, whole.starts) },
            windowOf(columns.subarray(0, WF * M)),
            WF,
            'faiss',
            { alongFrames: new Float32Array(5), alongBins: new Float32Array(5) },
          ),
        /the residual map needs an odd frames \(4\)/,
      ],
    ];
    for (const [fn, message] of cases) {
      const err = await caught(fn);
      expect(err.message).toMatch(message);
      expect([ErrorCode.ARG, ErrorCode.DIM]).toContain(err.code);
    }
  });
});
