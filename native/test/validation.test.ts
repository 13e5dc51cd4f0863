import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, FlatIndex, HNSWIndex, IVFIndex, KnnIndex } from '../src/index.js';
import { BACKENDS, caught, randomVectors } from './helpers.js';
import { tempDir } from '../../test/support/temp.js';

// Every bad argument and every FAISS failure becomes a JS error with a code, identically on both
// backends, and the process (and the index) carries on.

const D = 8;
const data = randomVectors(64, D, 1);

describe.each(BACKENDS)('arguments and errors (%s)', (backend) => {
  const flat = () => {
    const index = new FlatIndex(D, { backend });
    index.add(data);
    return index;
  };

  it('rejects bad constructor arguments', async () => {
    for (const [make, kind, pattern] of [
      [() => new FlatIndex(0, { backend }), RangeError, /dim \(0\) must be an integer in \[1, 65536\]/],
      [() => new FlatIndex(1.5, { backend }), RangeError, /dim \(1\.5\)/],
      [
        () => new FlatIndex('8' as unknown as number, { backend }),
        TypeError,
        /dim must be a number, got a string/,
      ],
      [
        () => new FlatIndex(D, { backend, metric: 'cosine' as 'l2' }),
        RangeError,
        /metric must be 'l2' or 'ip', got 'cosine'/,
      ],
      [() => new HNSWIndex(D, { backend, M: 1 }), RangeError, /M \(1\) must be an integer in \[2, 512\]/],
      [() => new HNSWIndex(D, { backend, efSearch: 0 }), RangeError, /efSearch \(0\)/],
      [() => new IVFIndex(D, { backend } as never), TypeError, /nlist is required/],
      [() => new IVFIndex(D, { backend, nlist: 0 }), RangeError, /nlist \(0\)/],
      [() => KnnIndex.factory(D, 'Nonsense', { backend }), Error, /index_factory\('Nonsense'\)/],
      [
        () => new FlatIndex(D, { backend: 'gpu' as 'faiss' }),
        RangeError,
        /backend must be 'faiss' or 'typescript'/,
      ],
    ] as const) {
      const err = await caught(make);
      expect(err).toBeInstanceOf(kind);
      expect(err.code).toBe(ErrorCode.ARG);
      expect(err.message).toMatch(pattern);
    }
  });

  it('rejects vectors that are not a Float32Array, with a TypeError', async () => {
    const index = flat();
    for (const bad of [[1, 2, 3, 4, 5, 6, 7, 8], new Float64Array(D), Buffer.alloc(4 * D), null, 'x']) {
      const err = await caught(() => index.add(bad as unknown as Float32Array));
      expect(err).toBeInstanceOf(TypeError);
      expect(err.code).toBe(ErrorCode.ARG);
      expect(err.message).toMatch(
        /^vectors must be a Float32Array, got (an Array|a Float64Array|a Uint8Array|null|a string)$/,
      );
      expect((await caught(() => index.search(bad as unknown as Float32Array, 1))).code).toBe(ErrorCode.ARG);
    }
    expect(index.ntotal).toBe(64);
  });

  it('rejects lengths that are not a multiple of dim, with ERR_HARK_FAISS_DIM', async () => {
    const index = flat();
    for (const call of [
      () => index.add(new Float32Array(D + 1)),
      () => index.search(new Float32Array(D - 1), 1),
    ]) {
      const err = await caught(call);
      expect(err).toBeInstanceOf(RangeError);
      expect(err.code).toBe(ErrorCode.DIM);
      expect(err.message).toMatch(/length \((9|7)\) is not a multiple of dim \(8\)/);
    }
    expect((await caught(() => index.searchAsync(new Float32Array(3), 1))).code).toBe(ErrorCode.DIM);
  });

  it('rejects k <= 0, fractional or non-number k', async () => {
    const index = flat();
    const q = data.subarray(0, D);
    for (const k of [0, -1, 1.5, Number.NaN, 2 ** 21]) {
      const err = await caught(() => index.search(q, k));
      expect(err).toBeInstanceOf(RangeError);
      expect(err.code).toBe(ErrorCode.ARG);
      expect(err.message).toMatch(/^k \(.+\) must be an integer in \[1, 1048576\]$/);
    }
    expect(await caught(() => index.search(q, '3' as unknown as number))).toBeInstanceOf(TypeError);
    const rejected = await caught(() => index.searchAsync(q, 0));
    expect(rejected.code).toBe(ErrorCode.ARG);
  });

  it('refuses to add to or search an untrained IVF index, and to train it on fewer than nlist vectors', async () => {
    const index = new IVFIndex(D, { backend, nlist: 4 });
    expect(index.isTrained).toBe(false);
    for (const call of [
      () => index.search(data.subarray(0, D), 1),
      () => index.add(data),
      () => index.searchAsync(data, 1),
    ]) {
      const err = await caught(call);
      expect(err.code).toBe(ErrorCode.NOT_TRAINED);
      expect(err.message).toMatch(/before the index is trained; call train\(\)/);
    }
    const few = await caught(() => index.train(data.subarray(0, 3 * D)));
    expect(few.code).toBe(ErrorCode.ARG);
    expect(few.message).toBe('train needs at least nlist (4) vectors, got 3');
    index.train(data);
    index.add(data);
    expect(index.search(data.subarray(0, D), 1).labels[0]).toBe(0n);
  });

  it('refuses removeIds on HNSW and non-BigInt64Array ids', async () => {
    const hnsw = new HNSWIndex(D, { backend });
    hnsw.add(data);
    const err = await caught(() => hnsw.removeIds(new BigInt64Array([1n])));
    expect(err.code).toBe(ErrorCode.UNSUPPORTED);
    expect(err.message).toMatch(/removeIds is not supported by HNSW/);
    expect(hnsw.ntotal).toBe(64);
    const bad = await caught(() => flat().removeIds([1, 2] as unknown as BigInt64Array));
    expect(bad).toBeInstanceOf(TypeError);
    expect(bad.code).toBe(ErrorCode.ARG);
  });

  it('checks parameters set after creation', async () => {
    const hnsw = new HNSWIndex(D, { backend, efSearch: 20 });
    const err = await caught(() => (hnsw.efSearch = 0));
    expect(err.code).toBe(ErrorCode.ARG);
    expect(hnsw.efSearch).toBe(20);
    const ivf = new IVFIndex(D, { backend, nlist: 4 });
    expect((await caught(() => (ivf.nprobe = -2))).code).toBe(ErrorCode.ARG);
  });

  it('reports corrupt, truncated and foreign buffers as ERR_HARK_FAISS_CORRUPT', async () => {
    const good = flat().toBuffer();
    const garbage = new Uint8Array(randomVectors(16, 1, 9).buffer);
    const cases = [
      new Uint8Array(0),
      garbage,
      Buffer.from('hello, I am not an index'),
      good.subarray(0, good.length - 5),
      good.subarray(0, 20),
    ];
    cases.push(Buffer.concat([good, Buffer.alloc(3)]));
    for (const bytes of cases) {
      const err = await caught(() => KnnIndex.fromBuffer(bytes, { backend }));
      expect(err.code).toBe(ErrorCode.CORRUPT);
      expect(err.message).toMatch(/^buffer is not a FAISS index or is damaged: /);
    }
    expect(
      await caught(() => KnnIndex.fromBuffer([1, 2] as unknown as Uint8Array, { backend })),
    ).toBeInstanceOf(TypeError);
  });

  it('reports files that cannot be opened as ERR_HARK_FAISS_IO and foreign files as ERR_HARK_FAISS_CORRUPT', async () => {
    const dir = tempDir('native');
    const missing = join(dir, 'missing', 'bank.faiss');
    for (const call of [
      () => KnnIndex.load(missing, { backend }),
      () => flat().save(missing),
      () => KnnIndex.loadAsync(missing, { backend }),
    ]) {
      const err = await caught(call);
      expect(err.code).toBe(ErrorCode.IO);
      expect(err.message).toMatch(
        /^cannot open '.*missing\/bank\.faiss' for (reading|writing): no such file or directory$/i,
      );
    }
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'these are not vectors');
    const err = await caught(() => KnnIndex.load(text, { backend }));
    expect(err.code).toBe(ErrorCode.CORRUPT);
    expect(err.message).toContain('notes.txt');
  });

  it('fails cleanly after dispose()', async () => {
    const index = flat();
    index.dispose();
    for (const call of [
      () => index.search(data, 1),
      () => index.add(data),
      () => index.toBuffer(),
      () => index.searchAsync(data, 1),
    ]) {
      expect((await caught(call)).code).toBe(ErrorCode.DISPOSED);
    }
    expect(index.ntotal).toBe(0);
  });

  it('keeps working after all of the above', () => {
    const index = flat();
    const { labels, distances } = index.search(data.subarray(5 * D, 6 * D), 2);
    expect(labels[0]).toBe(5n);
    expect(distances[0]).toBeCloseTo(0, 5);
  });
});
