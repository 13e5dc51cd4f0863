import { describe, expect, it } from 'vitest';
import { ErrorCode, FlatIndex, principalAxes, type SearchResult } from '../src/index.js';
import { BACKENDS, caught, clusteredVectors, randomVectors, rows } from './helpers.js';

// The bounded exact search (FlatIndex.setProjection, native/src/addon/bound_search.h): a k = 1 search measures
// exactly only the rows a principal-component lower bound cannot rule out, and must give the flat search's
// answer bit for bit: the same distances and labels, ties to the smaller label, whatever the axes.

const D = 48;
const R = 14;
const bank = clusteredVectors(3000, D, 11);
/**
 * Queries of every kind the context memory sends: near twins, exact copies (ties at 0), new draws of the same
 * sound (whose nearest row is rarely the one of smallest bound) and far outliers (searched flat).
 */
function queries(): Float32Array {
  const near = rows(bank, D, 100, 160).map((v, i) => v + 0.01 * Math.sin(i));
  const copies = rows(bank, D, 500, 520).slice();
  const fresh = clusteredVectors(200, D, 13);
  const far = randomVectors(20, D, 12).map((v) => 3 * v);
  const out = new Float32Array(near.length + copies.length + fresh.length + far.length);
  out.set(near);
  out.set(copies, near.length);
  out.set(fresh, near.length + copies.length);
  out.set(far, near.length + copies.length + fresh.length);
  return out;
}

const bytes = (r: SearchResult) => [
  Buffer.from(r.distances.buffer, r.distances.byteOffset, r.distances.byteLength).toString('hex'),
  Buffer.from(r.labels.buffer, r.labels.byteOffset, r.labels.byteLength).toString('hex'),
];

function flatAnswer(data: Float32Array, q: Float32Array, k = 1): SearchResult {
  const index = new FlatIndex(D, { backend: 'faiss' });
  index.add(data);
  const out = index.search(q, k);
  index.dispose();
  return out;
}

describe('principalAxes', () => {
  it('returns orthonormal axes, largest variance first', () => {
    const axes = principalAxes(bank, D, R)!;
    expect(axes.length).toBe(R * D);
    for (let a = 0; a < R; a++)
      for (let b = a; b < R; b++) {
        let dot = 0;
        for (let t = 0; t < D; t++) dot += axes[a * D + t] * axes[b * D + t];
        expect(Math.abs(dot - (a === b ? 1 : 0))).toBeLessThan(1e-5);
      }
    // The variance along each axis falls from one to the next.
    const variance = (a: number) => {
      const p = Array.from({ length: 3000 }, (_, j) => {
        let s = 0;
        for (let t = 0; t < D; t++) s += axes[a * D + t] * bank[j * D + t];
        return s;
      });
      const mean = p.reduce((x, y) => x + y, 0) / p.length;
      return p.reduce((x, y) => x + (y - mean) ** 2, 0) / p.length;
    };
    const v = Array.from({ length: R }, (_, a) => variance(a));
    for (let a = 1; a < R; a++) expect(v[a]).toBeLessThanOrEqual(v[a - 1] * (1 + 1e-4));
  });

  it('refuses fewer than two rows, too many axes and non-finite values', async () => {
    expect((await caught(() => principalAxes(bank.subarray(0, D), D, 2))).message).toMatch(
      /at least two rows/,
    );
    expect((await caught(() => principalAxes(bank, D, D + 1))).code).toBe(ErrorCode.ARG);
    const bad = bank.slice(0, 10 * D);
    bad[7] = NaN;
    expect((await caught(() => principalAxes(bad, D, 3))).message).toMatch(/non-finite/);
  });
});

describe('bounded search (faiss)', () => {
  const q = queries();

  it('gives the flat search its answer, byte for byte, sync and async', async () => {
    const index = new FlatIndex(D, { backend: 'faiss' });
    index.add(bank);
    index.setProjection(principalAxes(bank, D, R));
    const flat = flatAnswer(bank, q);
    expect(bytes(index.search(q, 1))).toEqual(bytes(flat));
    expect(bytes(await index.searchAsync(q, 1))).toEqual(bytes(flat));
    // Copies of bank rows are found at distance 0, by their own label.
    const copies = index.search(rows(q, D, 60, 80), 1);
    expect(Array.from(copies.distances)).toEqual(new Array(20).fill(0));
    expect(Array.from(copies.labels, Number)).toEqual(Array.from({ length: 20 }, (_, i) => 500 + i));
    // k > 1 goes through the flat search, unchanged.
    expect(bytes(index.search(q, 3))).toEqual(bytes(flatAnswer(bank, q, 3)));
    index.dispose();
  });

  it('breaks exact ties as the flat search does: the smaller label', () => {
    const doubled = new Float32Array(2 * bank.length);
    doubled.set(bank);
    doubled.set(bank, bank.length); // rows j and j + 3000 are equal
    const index = new FlatIndex(D, { backend: 'faiss' });
    index.add(doubled);
    index.setProjection(principalAxes(doubled, D, R));
    const out = index.search(q, 1);
    expect(bytes(out)).toEqual(bytes(flatAnswer(doubled, q)));
    expect(Array.from(out.labels).every((l) => l < 3000n)).toBe(true);
    index.dispose();
  });

  it('stays exact with any axes: random, scaled, not orthonormal, a single one, all of them', () => {
    const flat = bytes(flatAnswer(bank, q));
    const cases = [
      randomVectors(R, D, 5).map((v) => 3 * (v - 0.5)),
      principalAxes(bank, D, R)!.map((v) => 0.5 * v),
      principalAxes(bank, D, 1)!,
      principalAxes(bank, D, D)!,
    ];
    for (const axes of cases) {
      const index = new FlatIndex(D, { backend: 'faiss' });
      index.add(bank);
      index.setProjection(axes);
      expect(bytes(index.search(q, 1))).toEqual(flat);
      index.dispose();
    }
  });

  it('keeps the rows the projected pass cannot order: near-ties in the span of the axes, far from the origin', () => {
    // Every row lies in the span of the axes (the first R coordinates), so the bound equals the distance but
    // for rounding. The queries are far from the origin (coordinates up to 1000), so the projected pass rounds
    // its keys by more than the near rows' distances differ: around each of 8 queries, 40 rows at distance 1
    // (but for the coordinates' ulps), among 4000 rows far away (few enough candidates for the bounded search
    // to answer, not the flat one). Only the projected pass's slack keeps the nearest among the rows measured.
    const axes = new Float32Array(R * D);
    for (let a = 0; a < R; a++) axes[a * D + a] = 1;
    const [nq, near, far] = [8, 40, 4000];
    const centres = randomVectors(nq, R, 21);
    const dirs = randomVectors(nq * near + far, R, 22);
    const data = new Float32Array((nq * near + far) * D);
    const q = new Float32Array(nq * D);
    const put = (row: number, at: ArrayLike<number>, offset: number, radius: number) => {
      const dir = Array.from({ length: R }, (_, t) => dirs[row * R + t] - 0.5);
      const norm = Math.hypot(...dir);
      for (let t = 0; t < R; t++) data[row * D + t] = at[offset + t] + (radius * dir[t]) / norm;
    };
    for (let c = 0; c < nq; c++) {
      for (let t = 0; t < R; t++) q[c * D + t] = 1000 * centres[c * R + t];
      for (let j = 0; j < near; j++) put(c * near + j, q, c * D, 1 + ((j * 17) % near) * 2 ** -23);
    }
    const origin = new Float32Array(R).fill(500);
    for (let j = 0; j < far; j++) put(nq * near + j, origin, 0, 40);
    const index = new FlatIndex(D, { backend: 'faiss' });
    index.add(data);
    index.setProjection(axes);
    const flat = flatAnswer(data, q);
    expect(Array.from(flat.labels).every((l, c) => l >= c * near && l < (c + 1) * near)).toBe(true);
    expect(bytes(index.search(q, 1))).toEqual(bytes(flat));
    index.dispose();
  });

  it('answers non-finite queries as the flat search does', () => {
    const odd = q.slice(0, 4 * D);
    odd[3] = NaN;
    odd[D + 5] = Infinity;
    const index = new FlatIndex(D, { backend: 'faiss' });
    index.add(bank);
    index.setProjection(principalAxes(bank, D, R));
    expect(bytes(index.search(odd, 1))).toEqual(bytes(flatAnswer(bank, odd)));
    index.dispose();
  });

  it('drops the axes when the vectors change, and with null', () => {
    const index = new FlatIndex(D, { backend: 'faiss' });
    index.add(rows(bank, D, 0, 2000));
    index.setProjection(principalAxes(bank, D, R));
    // The rest of the bank holds the nearest rows of some queries: they must be found after add.
    index.add(rows(bank, D, 2000, 3000));
    expect(bytes(index.search(q, 1))).toEqual(bytes(flatAnswer(bank, q)));
    index.setProjection(principalAxes(bank, D, R));
    index.setProjection(null);
    expect(bytes(index.search(q, 1))).toEqual(bytes(flatAnswer(bank, q)));
    index.reset();
    index.setProjection(principalAxes(bank, D, R));
    expect(Array.from(index.search(q.subarray(0, D), 1).labels)).toEqual([-1n]);
    index.dispose();
  });

  it('frees the projected database while the flat search is kept, and builds it again for a try', () => {
    // Noise: every query is far from every row, so the bound rules out almost nothing and the bounded search
    // pays its projected pass (r / d = half a flat product) and then the flat search: the flat one is kept.
    const d = 64;
    const r = 32;
    const noise = randomVectors(4096, d, 21);
    const index = new FlatIndex(d, { backend: 'faiss' });
    index.add(noise);
    const reference = new FlatIndex(d, { backend: 'faiss' });
    reference.add(noise);
    index.setProjection(principalAxes(noise, d, r));
    expect(index.projectionInfo()).toEqual({ rows: r, choice: 'measuring', bankBytes: 0, builds: 0 });
    const perBatch = 128;
    for (let batch = 0; batch < 48; batch++) {
      const q = randomVectors(perBatch, d, 100 + batch);
      expect(bytes(index.search(q, 1))).toEqual(bytes(reference.search(q, 1)));
      const info = index.projectionInfo()!;
      // The database is held exactly while the choice is not the flat search: 4096 x (32 + 1) floats.
      expect(info.bankBytes).toBe(info.choice === 'flat' ? 0 : 4096 * (r + 1) * 4);
      if (batch === 0) expect(info).toMatchObject({ choice: 'measuring', builds: 1 });
      if (batch === 3) expect(info).toMatchObject({ choice: 'flat', bankBytes: 0, builds: 1 });
    }
    // A try came after 16 batches and 64 r to 96 r (2048-3072) queries: the database was built again, answers
    // unchanged.
    expect(index.projectionInfo()).toMatchObject({ choice: 'flat', bankBytes: 0 });
    expect(index.projectionInfo()!.builds).toBeGreaterThanOrEqual(2);
    index.setProjection(null);
    expect(index.projectionInfo()).toBeNull();
    index.dispose();
    reference.dispose();
  });

  it('tries the bounded search again 16 batches after costly batches flipped it, its database kept', () => {
    // A steady memory, where the bound rules out nearly every row: the bounded search is kept. Then far
    // outliers (an anomalous sound): every query pays the projected pass and then goes on to the flat search,
    // so the bounded search's moving mean climbs past the flat one's and the flat search takes over. Then the
    // steady sound again: the bounded search is tried after 16 batches, without building its database again.
    const d = 256;
    // Rows in an 8-dimensional subspace (and a trace of noise): 16 principal axes hold all of their spread.
    const basis = randomVectors(8, d, 42);
    const latent = randomVectors(8192, 8, 41);
    const jitter = randomVectors(8192, d, 43);
    const steadyBank = new Float32Array(8192 * d).map((_, k) => {
      const [i, j] = [Math.floor(k / d), k % d];
      let v = 0.001 * jitter[k];
      for (let t = 0; t < 8; t++) v += (latent[i * 8 + t] - 0.5) * (basis[t * d + j] - 0.5);
      return v;
    });
    const index = new FlatIndex(d, { backend: 'faiss' });
    index.add(steadyBank);
    const reference = new FlatIndex(d, { backend: 'faiss' });
    reference.add(steadyBank);
    index.setProjection(principalAxes(steadyBank, d, 16));
    const full = 8192 * (16 + 1) * 4;
    let seed = 500;
    const steady = () =>
      rows(steadyBank, d, 0, 8192)
        .slice(0, 128 * d)
        .map((v, i) => v + 0.003 * Math.sin(seed + i));
    const far = () => randomVectors(128, d, seed).map((v) => 4 * v);
    const search = (q: Float32Array) => {
      seed++;
      expect(bytes(index.search(q, 1))).toEqual(bytes(reference.search(q, 1)));
      return index.projectionInfo()!;
    };
    for (let batch = 0; batch < 24; batch++) search(steady());
    const { builds } = index.projectionInfo()!;
    expect(index.projectionInfo()).toEqual({ rows: 16, choice: 'bounded', bankBytes: full, builds });
    let costly = 0;
    while (search(far()).choice === 'bounded') expect(++costly).toBeLessThan(40);
    // Flipped by the search in use: the database is kept for the try.
    expect(index.projectionInfo()).toEqual({ rows: 16, choice: 'flat', bankBytes: full, builds });
    let back = 0;
    while (search(steady()).choice === 'flat') expect(++back).toBeLessThanOrEqual(16);
    expect(index.projectionInfo()).toEqual({ rows: 16, choice: 'bounded', bankBytes: full, builds });
    index.dispose();
    reference.dispose();
  });

  it('is exact on an empty index and on a bank with a non-finite row (searched flat)', () => {
    const empty = new FlatIndex(D, { backend: 'faiss' });
    empty.setProjection(randomVectors(R, D, 3));
    expect(Array.from(empty.search(q.subarray(0, D), 1).labels)).toEqual([-1n]);
    const bad = bank.slice();
    bad[17 * D] = Infinity;
    const index = new FlatIndex(D, { backend: 'faiss' });
    index.add(bad);
    index.setProjection(principalAxes(bank, D, R));
    expect(bytes(index.search(q, 1))).toEqual(bytes(flatAnswer(bad, q)));
    empty.dispose();
    index.dispose();
  });
});

describe.each(BACKENDS)('setProjection arguments (%s)', (backend) => {
  it('refuses a wrong shape, no or too many rows, non-finite axes and inner-product indexes alike', async () => {
    const index = new FlatIndex(D, { backend });
    index.add(bank.subarray(0, 100 * D));
    const wrong = await caught(() => index.setProjection(new Float32Array(D + 1)));
    expect(wrong.code).toBe(ErrorCode.DIM);
    expect(wrong.message).toBe(`axes length (${D + 1}) is not a multiple of dim (${D})`);
    const none = await caught(() => index.setProjection(new Float32Array(0)));
    expect(none.message).toBe(`axes must hold 1 to dim (${D}) rows, got 0`);
    expect((await caught(() => index.setProjection(new Float32Array((D + 1) * D)))).code).toBe(ErrorCode.ARG);
    const nan = new Float32Array(D);
    nan[2] = NaN;
    expect((await caught(() => index.setProjection(nan))).message).toBe('axes hold a non-finite value');
    const ip = new FlatIndex(D, { backend, metric: 'ip' });
    const unsupported = await caught(() => ip.setProjection(new Float32Array(D)));
    expect(unsupported.code).toBe(ErrorCode.UNSUPPORTED);
    expect(unsupported.message).toBe(
      'setProjection needs a flat L2 index; this is a flat inner-product index',
    );
    // Accepted axes leave the answers as they were.
    const before = bytes(index.search(queries(), 1));
    index.setProjection(randomVectors(3, D, 8));
    expect(bytes(index.search(queries(), 1))).toEqual(before);
    index.dispose();
    ip.dispose();
  });
});
