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
    ];
    for (const [fn, message] of cases) {
      const err = await caught(fn);
      expect(err.message).toMatch(message);
      expect([ErrorCode.ARG, ErrorCode.DIM]).toContain(err.code);
    }
  });
});
