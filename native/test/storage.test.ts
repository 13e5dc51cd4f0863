import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IndexSpec } from '../src/addon.js';
import { TsIndex } from '../src/fallback/ts-index.js';
import {
  backend,
  ErrorCode,
  FlatIndex,
  KnnIndex,
  type Metric,
  type SearchResult,
  type Storage,
} from '../src/index.js';
import { caught, clusteredVectors, fixedOrderSearch, randomVectors, rows } from './helpers.js';
import { tempDir } from '../../test/support/temp.js';

// A flat index with uint8 storage holds one byte per value in FAISS's SQ8 layout (types.ts, Storage): the
// codes follow the stated formulas to the bit, searches are exact over the decoded vectors, and the bytes are
// FAISS's IndexScalarQuantizer, so a bank moves between the backends both ways.

const D = 13; // not a multiple of 4: the distance's tail lane is exercised
const N = 3000; // more rows than the fallback decodes in one block (16384 floats), so blocks are crossed
const data = clusteredVectors(N, D, 61);
const sample = data.subarray(0, 400 * D); // a training sample: later rows fall outside its ranges
const queries = clusteredVectors(24, D, 62);
const ids = (n: number) => BigInt64Array.from({ length: n }, (_, i) => BigInt(i));

const uint8 = (metric: Metric = 'l2', dim = D) =>
  new TsIndex({ kind: 'flat', dim, metric, storage: 'uint8' });

function trained(metric: Metric = 'l2'): TsIndex {
  const index = uint8(metric);
  index.train(sample);
  index.add(data);
  return index;
}

/** Float32 rounding by a store, written independently of Math.fround. */
const f32 = (() => {
  const cell = new Float32Array(1);
  return (x: number) => ((cell[0] = x), cell[0]);
})();

/**
 * The codec of types.ts written out from its formulas: per-dimension min and max of the sample, code =
 * trunc(255 * clamp((x - vmin) / vdiff)) (0 for a constant dimension), value = vmin + ((code + 0.5) / 255) * vdiff,
 * every operation in float.
 */
function referenceCodec(train: Float32Array, dim: number) {
  const n = train.length / dim;
  const vmin = new Float32Array(dim);
  const vdiff = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let r = 0; r < n; r++) {
      lo = Math.min(lo, train[r * dim + i]);
      hi = Math.max(hi, train[r * dim + i]);
    }
    vmin[i] = lo;
    vdiff[i] = f32(hi - lo);
  }
  const encode = (x: Float32Array) =>
    Uint8Array.from(x, (value, j) => {
      const i = j % dim;
      if (vdiff[i] === 0) return 0;
      const t = Math.min(1, Math.max(0, f32(f32(value - vmin[i]) / vdiff[i])));
      return Math.floor(f32(255 * t));
    });
  const decode = (codes: Uint8Array) =>
    Float32Array.from(codes, (c, j) => {
      const i = j % dim;
      return f32(vmin[i] + f32(f32(f32(c + 0.5) / 255) * vdiff[i]));
    });
  return { vmin, vdiff, encode, decode };
}

/** The fields of an IndexScalarQuantizer's bytes (FAISS 1.7.3 write_index), read independently of serialize.ts. */
function parseSq(bytes: Uint8Array) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nTrained = Number(v.getBigUint64(65, true));
  const trained = new Float32Array(nTrained);
  for (let i = 0; i < nTrained; i++) trained[i] = v.getFloat32(73 + 4 * i, true);
  const codesAt = 73 + 4 * nTrained;
  return {
    fourcc: String.fromCharCode(...bytes.subarray(0, 4)),
    d: v.getInt32(4, true),
    ntotal: v.getBigInt64(8, true),
    dummies: [v.getBigInt64(16, true), v.getBigInt64(24, true)],
    isTrained: bytes[32],
    metricType: v.getInt32(33, true),
    qtype: v.getInt32(37, true),
    rangestat: v.getInt32(41, true),
    rangestatArg: v.getFloat32(45, true),
    sqD: v.getBigUint64(49, true),
    codeSize: v.getBigUint64(57, true),
    trained,
    nCodes: v.getBigUint64(codesAt, true),
    codes: bytes.subarray(codesAt + 8),
  };
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectSameBits(a: SearchResult, b: SearchResult): void {
  expect(bits(a.distances).equals(bits(b.distances))).toBe(true);
  expect([...a.labels]).toEqual([...b.labels]);
}

/** A float32 flat index over `vectors`: the exact search the uint8 index must equal. */
function float32Over(vectors: Float32Array, metric: Metric): TsIndex {
  const index = new TsIndex({ kind: 'flat', dim: D, metric });
  index.add(vectors);
  return index;
}

describe('uint8 storage: the codes (TypeScript fallback)', () => {
  it('reports its storage; an SQ8 index is untrained until train() takes its ranges', () => {
    expect(new TsIndex({ kind: 'flat', dim: D }).storage).toBe('float32');
    expect(new TsIndex({ kind: 'flat', dim: D, storage: 'float32' }).storage).toBe('float32');
    expect(new TsIndex({ kind: 'factory', dim: D, description: 'Flat' }).storage).toBe('float32');
    expect(new TsIndex({ kind: 'hnsw', dim: D }).storage).toBeNull();
    expect(new TsIndex({ kind: 'ivf', dim: D, nlist: 2 }).storage).toBeNull();
    for (const index of [
      uint8(),
      new TsIndex({ kind: 'factory', dim: D, description: 'SQ8', metric: 'ip' }),
    ]) {
      expect([index.kind, index.storage, index.isTrained, index.ntotal]).toEqual(['flat', 'uint8', false, 0]);
      index.train(sample);
      expect(index.isTrained).toBe(true);
    }
  });

  it('trains each dimension`s range and encodes every value by the stated formulas, to the bit', () => {
    const ref = referenceCodec(sample, D);
    const index = trained();
    const bytes = parseSq(index.toBuffer());
    expect(bits(bytes.trained).equals(bits(Float32Array.from([...ref.vmin, ...ref.vdiff])))).toBe(true);
    expect(Buffer.from(bytes.codes).equals(Buffer.from(ref.encode(data)))).toBe(true);
    // reconstruct decodes every row by the formula.
    const decoded = index.reconstruct(ids(N));
    expect(bits(decoded).equals(bits(ref.decode(ref.encode(data))))).toBe(true);
  });

  it('decodes within half a step inside the trained range and clamps outside it', () => {
    const ref = referenceCodec(sample, D);
    const index = trained();
    const decoded = index.reconstruct(ids(N));
    let inside = 0;
    let outside = 0;
    for (let j = 0; j < N * D; j++) {
      const i = j % D;
      const [x, y, lo, range] = [data[j], decoded[j], ref.vmin[i], ref.vdiff[i]];
      // Each of the float operations rounds by at most half an ulp of values no larger than these.
      const rounding = 8 * 2 ** -24 * (Math.abs(lo) + Math.abs(range) + Math.abs(x));
      if (x >= lo && x <= lo + range) {
        inside++;
        expect(Math.abs(y - x), `value ${j}`).toBeLessThanOrEqual(range / 510 + rounding);
      } else {
        // Outside the sample's range a value is stored as the nearest end: the first or the last code.
        outside++;
        const end = x < lo ? 0 : 255;
        expect(y).toBe(f32(lo + f32(f32((end + 0.5) / 255) * range)));
      }
    }
    expect(inside).toBeGreaterThan(0.9 * N * D);
    expect(outside).toBeGreaterThan(0);
  });

  it('stores a constant dimension exactly, and takes the first of -0 and +0 as the minimum, as FAISS does', () => {
    const index = uint8('l2', 2);
    index.train(new Float32Array([-0, 2.5, 0, 2.5, 0.75, 2.5]));
    index.add(new Float32Array([0.5, 2.5, 0.25, 2.5]));
    const decoded = index.reconstruct(ids(2));
    expect([decoded[1], decoded[3]]).toEqual([2.5, 2.5]);
    const { trained: ranges, codes } = parseSq(index.toBuffer());
    expect(Object.is(ranges[0], -0)).toBe(true);
    expect([...ranges.subarray(1)]).toEqual([2.5, 0.75, 0]);
    expect([...codes]).toEqual([Math.trunc(f32(255 * f32(0.5 / 0.75))), 0, 85, 0]);

    const other = uint8('l2', 1);
    other.train(new Float32Array([0, -0, 1]));
    expect(Object.is(parseSq(other.toBuffer()).trained[0], 0)).toBe(true);
  });

  it('gives float32 indexes their stored rows from reconstruct, in the order of the ids', () => {
    const index = new TsIndex({ kind: 'flat', dim: D });
    index.add(data);
    const picked = new BigInt64Array([5n, 0n, 2999n, 5n]);
    const out = index.reconstruct(picked);
    expect(out).toHaveLength(4 * D);
    for (const [i, id] of [...picked].entries())
      expect([...rows(out, D, i, i + 1)]).toEqual([...rows(data, D, Number(id), Number(id) + 1)]);
    expect(index.reconstruct(new BigInt64Array(0))).toHaveLength(0);
    const u = trained();
    const all = u.reconstruct(ids(N));
    expect([...u.reconstruct(picked).subarray(2 * D, 3 * D)]).toEqual([...rows(all, D, 2999, 3000)]);
  });
});

describe('uint8 storage: search is exact over the decoded vectors (TypeScript fallback)', () => {
  it.each([
    ['l2', 1],
    ['l2', 5],
    ['l2', 40],
    ['ip', 1],
    ['ip', 5],
  ] as [Metric, number][])(
    '%s, k = %i: the float32 search over reconstruct(all), bit for bit',
    (metric, k) => {
      const index = trained(metric);
      const decoded = index.reconstruct(ids(N));
      const result = index.search(queries, k);
      expectSameBits(result, float32Over(decoded, metric).search(queries, k));
      expectSameBits(result, fixedOrderSearch(decoded, queries, D, k, metric));
    },
  );

  it('ranks twins by label across blocks of decoded rows, and pads k > ntotal', () => {
    // Every row is stored twice, 3000 rows apart (another block): each pair decodes to the same floats.
    const index = uint8();
    index.train(sample);
    index.add(data);
    index.add(data);
    const result = index.search(queries, 6);
    for (let q = 0; q < queries.length / D; q++) {
      const labels = [...result.labels.subarray(q * 6, q * 6 + 6)].map(Number);
      for (let r = 0; r < 6; r += 2) expect(labels[r + 1]).toBe(labels[r] + N);
    }
    expectSameBits(result, float32Over(index.reconstruct(ids(2 * N)), 'l2').search(queries, 6));
    const few = uint8('ip');
    few.train(sample);
    few.add(rows(data, D, 0, 2));
    const padded = few.search(rows(queries, D, 0, 1), 4);
    expect([...padded.labels.subarray(2)]).toEqual([-1n, -1n]);
    expect([...padded.distances.subarray(2)]).toEqual([-3.4028234663852886e38, -3.4028234663852886e38]);
  });

  it('answers searchAsync as search, in slices, and adds during it do not change its answer', async () => {
    const index = trained();
    const many = clusteredVectors(300, D, 63);
    const expected = index.search(many, 3);
    const pending = index.searchAsync(many, 3);
    index.add(rows(many, D, 0, 50)); // exact twins of queries: would be their nearest neighbours
    expectSameBits(await pending, expected);
    expect(index.ntotal).toBe(N + 50);
  });

  it('removeIds moves the codes: the rows left decode and search as before', () => {
    const index = trained();
    const before = index.reconstruct(ids(N));
    const gone = new BigInt64Array([0n, 7n, 1500n, 2999n, 123456n]);
    expect(index.removeIds(gone)).toBe(4);
    expect(index.ntotal).toBe(N - 4);
    const keep = [...ids(N)].filter((id) => ![0n, 7n, 1500n, 2999n].includes(id));
    const left = index.reconstruct(ids(N - 4));
    expect(bits(left).equals(bits(pick(before, keep)))).toBe(true);
    expectSameBits(index.search(queries, 5), float32Over(left, 'l2').search(queries, 5));
  });

  it('reset keeps the ranges and stays trained, as FAISS does: the same codes come back', () => {
    const index = trained();
    const bytes = index.toBuffer();
    index.reset();
    expect([index.ntotal, index.isTrained, index.storage]).toEqual([0, true, 'uint8']);
    expect(parseSq(index.toBuffer()).trained).toEqual(parseSq(bytes).trained);
    index.add(data);
    expect(Buffer.from(index.toBuffer()).equals(Buffer.from(bytes))).toBe(true);
    // An empty index may be trained again, on another sample.
    index.reset();
    const other = rows(data, D, 1000, 1400);
    index.train(other);
    const ref = referenceCodec(other, D);
    expect(
      bits(parseSq(index.toBuffer()).trained).equals(bits(Float32Array.from([...ref.vmin, ...ref.vdiff]))),
    ).toBe(true);
  });

  it('accepts axes on an L2 index, as a float32 flat index does, and searches the same', () => {
    const index = trained();
    const before = index.search(queries, 1);
    index.setProjection(randomVectors(4, D, 64));
    expect(index.projectionInfo()).toBeNull();
    expectSameBits(index.search(queries, 1), before);
  });
});

/** Rows `keep` of a row-major matrix, in that order. */
function pick(m: Float32Array, keep: bigint[]): Float32Array {
  const out = new Float32Array(keep.length * D);
  keep.forEach((id, i) => out.set(rows(m, D, Number(id), Number(id) + 1), i * D));
  return out;
}

describe('uint8 storage: arguments and errors (TypeScript fallback)', () => {
  it('checks the storage option, and builds SQ8 from a factory string', async () => {
    for (const [spec, message] of [
      [{ kind: 'flat', dim: D, storage: 'int8' }, "storage must be 'float32' or 'uint8', got 'int8'"],
      [{ kind: 'flat', dim: D, storage: 8 }, "storage must be 'float32' or 'uint8', got a number"],
      [{ kind: 'flat', dim: D, storage: null }, "storage must be 'float32' or 'uint8', got null"],
      [{ kind: 'hnsw', dim: D, storage: 'uint8' }, 'storage applies only to flat indexes'],
      [{ kind: 'ivf', dim: D, nlist: 4, storage: 'float32' }, 'storage applies only to flat indexes'],
      [
        { kind: 'factory', dim: D, description: 'SQ8', storage: 'uint8' },
        'storage applies only to flat indexes',
      ],
    ] as [IndexSpec, string][]) {
      const err = await caught(() => new TsIndex(spec));
      expect(err).toBeInstanceOf(RangeError);
      expect([err.code, err.message]).toEqual([ErrorCode.ARG, message]);
    }
    const err = await caught(() => new TsIndex({ kind: 'factory', dim: D, description: 'SQ4' }));
    expect([err.code, err.message]).toEqual([
      ErrorCode.ARG,
      "index_factory('SQ4'): the TypeScript fallback builds only 'Flat', 'SQ8', 'HNSW<M>' and 'IVF<nlist>,Flat'",
    ]);
  });

  it('refuses to add to or search an index before train(), as FAISS does', async () => {
    const index = uint8();
    for (const call of [
      () => index.add(data),
      () => index.search(queries, 1),
      () => index.searchAsync(queries, 1),
    ]) {
      const err = await caught(call);
      expect(err.code).toBe(ErrorCode.NOT_TRAINED);
      expect(err.message).toMatch(/before the index is trained; call train\(\)/);
    }
    expect(index.reconstruct(new BigInt64Array(0))).toHaveLength(0);
  });

  it('checks the training sample: at least one row, finite values, an empty index, ranges a float holds', async () => {
    const index = uint8('l2', 2);
    for (const [sample, message] of [
      [new Float32Array(0), 'train needs at least one vector'],
      [new Float32Array([1, 2, Number.NaN, 4]), 'vectors hold a non-finite value'],
      [new Float32Array([1, Infinity]), 'vectors hold a non-finite value'],
      [new Float32Array([1, -3e38, 2, 3e38]), 'vectors span a range wider than float holds in dimension 1'],
    ] as [Float32Array, string][]) {
      const err = await caught(() => index.train(sample));
      expect(err).toBeInstanceOf(RangeError);
      expect([err.code, err.message]).toEqual([ErrorCode.ARG, message]);
      expect(index.isTrained).toBe(false);
    }
    index.train(new Float32Array([0, 0, 1, 1]));
    index.add(new Float32Array([0.5, 0.5]));
    const err = await caught(() => index.train(new Float32Array([0, 0, 2, 2])));
    expect([err.code, err.message]).toEqual([
      ErrorCode.UNSUPPORTED,
      'train on a uint8 flat index that holds vectors would change what its codes mean; reset() it or build a new index',
    ]);
    expect((await caught(() => index.trainAsync(new Float32Array([0, 0, 2, 2])))).code).toBe(
      ErrorCode.UNSUPPORTED,
    );
  });

  it('refuses non-finite values at add() and stores none of the batch', async () => {
    const index = trained();
    const bytes = index.toBuffer();
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const batch = new Float32Array(rows(data, D, 0, 3));
      batch[2 * D + 5] = bad;
      const err = await caught(() => index.add(batch));
      expect(err).toBeInstanceOf(RangeError);
      expect([err.code, err.message]).toEqual([ErrorCode.ARG, 'vectors hold a non-finite value']);
    }
    expect(Buffer.from(index.toBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses vectors(), which would need float32 storage; reconstruct checks its ids and kind', async () => {
    const index = trained();
    const cases: [() => unknown, ErrorCode, string, ErrorConstructor][] = [
      [
        () => index.vectors(),
        ErrorCode.UNSUPPORTED,
        'vectors() needs float32 storage; a uint8 flat index keeps one-byte codes (use reconstruct(ids))',
        Error,
      ],
      [
        () => index.reconstruct([1n] as unknown as BigInt64Array),
        ErrorCode.ARG,
        'ids must be a BigInt64Array, got an Array',
        TypeError,
      ],
      [
        () => index.reconstruct(new BigInt64Array([0n, -1n])),
        ErrorCode.ARG,
        'id (-1) is not in [0, 3000)',
        RangeError,
      ],
      [
        () => index.reconstruct(new BigInt64Array([3000n])),
        ErrorCode.ARG,
        'id (3000) is not in [0, 3000)',
        RangeError,
      ],
      [
        () => new TsIndex({ kind: 'hnsw', dim: D }).reconstruct(new BigInt64Array([0n])),
        ErrorCode.UNSUPPORTED,
        'reconstruct needs a flat index; a hnsw index is not read back by hark',
        Error,
      ],
      [
        () => new TsIndex({ kind: 'ivf', dim: D, nlist: 2 }).reconstruct(new BigInt64Array(0)),
        ErrorCode.UNSUPPORTED,
        'reconstruct needs a flat index; a ivf index is not read back by hark',
        Error,
      ],
    ];
    for (const [call, code, message, kind] of cases) {
      const err = await caught(call);
      expect(err).toBeInstanceOf(kind);
      expect([err.code, err.message]).toEqual([code, message]);
    }
    index.dispose();
    for (const call of [
      () => index.reconstruct(new BigInt64Array([0n])),
      () => index.train(sample),
      () => index.add(sample),
      () => index.vectors(),
    ])
      expect((await caught(call)).code).toBe(ErrorCode.DISPOSED);
    expect([index.ntotal, index.disposed]).toEqual([0, true]);
  });
});

describe('uint8 storage: bytes (TypeScript fallback)', () => {
  const dir = tempDir('native-sq8');

  it.each(['l2', 'ip'] as Metric[])(
    'writes FAISS 1.7.3`s IndexScalarQuantizer (QT_8bit) bytes, %s',
    (metric) => {
      const index = trained(metric);
      const bytes = index.toBuffer();
      const f = parseSq(bytes);
      expect([f.fourcc, f.d, f.ntotal, f.dummies, f.isTrained, f.metricType]).toEqual([
        'IxSQ',
        D,
        BigInt(N),
        [1n << 20n, 1n << 20n],
        1,
        metric === 'l2' ? 1 : 0,
      ]);
      expect([f.qtype, f.rangestat, f.rangestatArg, f.sqD, f.codeSize, f.trained.length, f.nCodes]).toEqual([
        0,
        0,
        0,
        BigInt(D),
        BigInt(D),
        2 * D,
        BigInt(N * D),
      ]);
      expect(f.codes).toHaveLength(N * D);
      expect(bytes).toHaveLength(73 + 8 * D + 8 + N * D);
      // Untrained: is_trained 0 and an empty `trained` vector.
      const empty = parseSq(uint8(metric).toBuffer());
      expect([empty.isTrained, empty.ntotal, empty.trained.length, empty.nCodes, empty.codes.length]).toEqual(
        [0, 0n, 0, 0n, 0],
      );
    },
  );

  it('round-trips through toBuffer/fromBuffer and save/load: the same bytes and searches, bit for bit', async () => {
    for (const metric of ['l2', 'ip'] as Metric[]) {
      const index = trained(metric);
      index.removeIds(new BigInt64Array([3n, 4n])); // spare capacity and moved rows are not written
      const bytes = index.toBuffer();
      const file = join(dir, `${metric}.index`);
      index.save(file);
      await index.saveAsync(`${file}.async`);
      for (const copy of [
        TsIndex.fromBuffer(bytes),
        TsIndex.load(file),
        await TsIndex.loadAsync(`${file}.async`),
      ]) {
        expect([copy.kind, copy.storage, copy.metric, copy.ntotal, copy.isTrained]).toEqual([
          'flat',
          'uint8',
          metric,
          N - 2,
          true,
        ]);
        expect(Buffer.from(copy.toBuffer()).equals(Buffer.from(bytes))).toBe(true);
        for (const k of [1, 5]) expectSameBits(copy.search(queries, k), index.search(queries, k));
        expect(bits(copy.reconstruct(ids(N - 2))).equals(bits(index.reconstruct(ids(N - 2))))).toBe(true);
        // The copy goes on as the original would: the same codes for the same adds.
        copy.add(rows(data, D, 0, 10));
        const again = TsIndex.fromBuffer(bytes);
        again.add(rows(data, D, 0, 10));
        expect(Buffer.from(copy.toBuffer()).equals(Buffer.from(again.toBuffer()))).toBe(true);
      }
    }
    const untrained = TsIndex.fromBuffer(uint8().toBuffer());
    expect([untrained.storage, untrained.isTrained, untrained.ntotal]).toEqual(['uint8', false, 0]);
    untrained.train(sample);
    untrained.add(data);
    expect(Buffer.from(untrained.toBuffer()).equals(Buffer.from(trained().toBuffer()))).toBe(true);
  });

  it('keeps the range statistic a FAISS file names, and trains min-max ranges as the addon does', () => {
    const bytes = new Uint8Array(uint8().toBuffer());
    const v = new DataView(bytes.buffer);
    v.setInt32(41, 1, true); // RS_meanstd
    v.setFloat32(45, 2.5, true);
    const index = TsIndex.fromBuffer(bytes);
    expect(Buffer.from(index.toBuffer()).equals(Buffer.from(bytes))).toBe(true);
    index.train(sample);
    const f = parseSq(index.toBuffer());
    expect([f.rangestat, f.rangestatArg]).toEqual([1, 2.5]);
    expect(bits(f.trained).equals(bits(parseSq(trained().toBuffer()).trained))).toBe(true);
  });

  it('reports damaged SQ8 bytes as ERR_HARK_FAISS_CORRUPT, other quantizers as ERR_HARK_FAISS_UNSUPPORTED', async () => {
    const index = uint8('l2', 4);
    index.train(randomVectors(20, 4, 65));
    index.add(randomVectors(5, 4, 66));
    const good = index.toBuffer();
    const codesAt = 73 + 4 * 8;
    const edit = (write: (v: DataView) => void) => {
      const bytes = new Uint8Array(good);
      write(new DataView(bytes.buffer));
      return bytes;
    };
    const corrupt: [Uint8Array, string][] = [
      [good.subarray(0, 40), 'truncated: ended before the index was complete'],
      [good.subarray(0, 80), 'truncated: ended before the index was complete'],
      [good.subarray(0, good.length - 1), 'truncated: ended before the index was complete'],
      [Buffer.concat([good, Buffer.alloc(2)]), '2 bytes left after the index'],
      [edit((v) => v.setInt32(4, 0, true)), 'inconsistent header (d 0, ntotal 5)'],
      [
        edit((v) => v.setBigUint64(57, 8n, true)),
        'inconsistent scalar quantizer (index d 4, quantizer d 4, code_size 8)',
      ],
      [edit((v) => v.setBigUint64(65, 4n, true)), '4 trained values for d 4 (0 or 2d expected)'],
      [edit((v) => v.setBigUint64(codesAt, 19n, true)), '19 code bytes for ntotal 5 at d 4'],
      [edit((v) => v.setFloat32(73 + 4 * 5, Number.NaN, true)), 'a trained range is not finite'],
      [edit((v) => v.setUint8(32, 0)), 'is_trained 0 with 8 trained values and ntotal 5'],
    ];
    for (const [bytes, why] of corrupt) {
      const err = await caught(() => TsIndex.fromBuffer(bytes));
      expect([err.code, err.message]).toEqual([
        ErrorCode.CORRUPT,
        `buffer is not a FAISS index or is damaged: ${why}`,
      ]);
    }
    for (const [bytes, message] of [
      [
        edit((v) => v.setInt32(37, 1, true)),
        'buffer: the TypeScript fallback reads only 8-bit scalar quantizers (SQ8, FAISS qtype 0), not qtype 1',
      ],
      [
        edit((v) => v.setInt32(33, 2, true)),
        'buffer: the TypeScript fallback supports only the l2 and ip metrics (FAISS metric 2)',
      ],
    ] as [Uint8Array, string][]) {
      const err = await caught(() => TsIndex.fromBuffer(bytes));
      expect([err.code, err.message]).toEqual([ErrorCode.UNSUPPORTED, message]);
    }
  });
});

describe('uint8 storage through the public API (TypeScript backend)', () => {
  it('FlatIndex and the SQ8 factory string build the same index as TsIndex', () => {
    const direct = trained('ip');
    const built = [
      new FlatIndex(D, { backend: 'typescript', metric: 'ip', storage: 'uint8' }),
      KnnIndex.factory(D, 'SQ8', { backend: 'typescript', metric: 'ip' }),
    ];
    for (const index of built) {
      expect([index.constructor, index.kind, index.storage, index.isTrained]).toEqual([
        FlatIndex,
        'flat',
        'uint8',
        false,
      ]);
      index.train(sample);
      index.add(data);
      expect(Buffer.from(index.toBuffer()).equals(Buffer.from(direct.toBuffer()))).toBe(true);
      expectSameBits(index.search(queries, 5), direct.search(queries, 5));
      expect(bits(index.reconstruct(ids(N))).equals(bits(direct.reconstruct(ids(N))))).toBe(true);
      const copy = KnnIndex.fromBuffer(index.toBuffer(), { backend: 'typescript' });
      expect([copy.constructor, copy.storage]).toEqual([FlatIndex, 'uint8']);
    }
  });
});

describe.skipIf(backend !== 'faiss')(
  'uint8 storage: FAISS and the TypeScript fallback agree to the bit',
  () => {
    const pair = (metric: Metric, dim = D) =>
      (['faiss', 'typescript'] as const).map(
        (backend) => new FlatIndex(dim, { backend, metric, storage: 'uint8' }),
      );

    it.each(['l2', 'ip'] as Metric[])(
      '%s: the same bytes, each reads the other`s, the same searches (k = 1, 5) and reconstruct',
      (metric) => {
        const [faiss, ts] = pair(metric);
        expect(Buffer.from(faiss.toBuffer()).equals(Buffer.from(ts.toBuffer()))).toBe(true); // untrained
        for (const index of [faiss, ts]) {
          index.train(sample);
          index.add(rows(data, D, 0, 2000));
          index.add(rows(data, D, 2000, N));
        }
        expect(Buffer.from(faiss.toBuffer()).equals(Buffer.from(ts.toBuffer()))).toBe(true);
        const decoded = ts.reconstruct(ids(N));
        expect(bits(faiss.reconstruct(ids(N))).equals(bits(decoded))).toBe(true);
        const intoFaiss = KnnIndex.fromBuffer(ts.toBuffer(), { backend: 'faiss' });
        const intoTs = KnnIndex.fromBuffer(faiss.toBuffer(), { backend: 'typescript' });
        expect([intoFaiss.storage, intoTs.storage, intoFaiss.ntotal, intoTs.ntotal]).toEqual([
          'uint8',
          'uint8',
          N,
          N,
        ]);
        const exact = new FlatIndex(D, { backend: 'faiss', metric });
        exact.add(decoded);
        // 24 queries, then 100 (a batch the addon answers through its tiled sgemm path).
        for (const q of [queries, clusteredVectors(100, D, 67)])
          for (const k of [1, 5]) {
            const expected = ts.search(q, k);
            expectSameBits(faiss.search(q, k), expected);
            expectSameBits(intoFaiss.search(q, k), expected);
            expectSameBits(intoTs.search(q, k), expected);
            expectSameBits(exact.search(q, k), expected);
          }
        expect(Buffer.from(intoFaiss.toBuffer()).equals(Buffer.from(ts.toBuffer()))).toBe(true);
        expect(Buffer.from(intoTs.toBuffer()).equals(Buffer.from(faiss.toBuffer()))).toBe(true);
      },
    );

    it('a constant dimension, -0 and +0, values outside the ranges, removeIds and reset: the same bytes', () => {
      const indexes = pair('l2', 3);
      const train = new Float32Array([-0, 7, 0.25, 0, 7, -1.5, 0.5, 7, 2]);
      const add = new Float32Array([0.1, 7, -9, 5, 7, 9, -0, 7, 0.3, 0.2, 7, 0.4]);
      for (const index of indexes) {
        index.train(train);
        index.add(add);
      }
      const [faiss, ts] = indexes;
      expect(Buffer.from(faiss.toBuffer()).equals(Buffer.from(ts.toBuffer()))).toBe(true);
      for (const index of indexes) index.removeIds(new BigInt64Array([1n]));
      expect(Buffer.from(faiss.toBuffer()).equals(Buffer.from(ts.toBuffer()))).toBe(true);
      expect(bits(faiss.reconstruct(ids(3))).equals(bits(ts.reconstruct(ids(3))))).toBe(true);
      for (const index of indexes) index.reset();
      expect(Buffer.from(faiss.toBuffer()).equals(Buffer.from(ts.toBuffer()))).toBe(true);
      expect([faiss.isTrained, ts.isTrained]).toEqual([true, true]);
    });

    it('fails alike: the same codes, classes and messages', async () => {
      const outcomes = await Promise.all(
        (['faiss', 'typescript'] as const).map(async (backend) => {
          const make = (storage: unknown) => () => new FlatIndex(D, { backend, storage: storage as Storage });
          const index = new FlatIndex(2, { backend, storage: 'uint8' });
          const calls: (() => unknown)[] = [
            make('int8'),
            make(8),
            make(null),
            () => KnnIndex.factory(D, 'SQ7', { backend }),
            () => index.add(new Float32Array([1, 2])),
            () => index.search(new Float32Array([1, 2]), 1),
            () => index.train(new Float32Array(0)),
            () => index.train(new Float32Array([1, Number.NaN])),
            () => index.train(new Float32Array([1, -3e38, 2, 3e38])),
            () => index.vectors(),
            () => index.reconstruct(new BigInt64Array([0n])),
            () => index.reconstruct([0] as unknown as BigInt64Array),
            () => {
              index.train(new Float32Array([0, 0, 1, 1]));
              index.add(new Float32Array([0.5, Infinity]));
            },
            () => {
              index.add(new Float32Array([0.5, 0.5]));
              index.train(new Float32Array([0, 0, 1, 1]));
            },
            () => index.reconstruct(new BigInt64Array([1n])),
          ];
          const errors = [];
          for (const call of calls) {
            const err = await caught(call);
            errors.push([err.constructor.name, err.code, err.message]);
          }
          return errors;
        }),
      );
      // The factory message names the backend's own vocabulary; every other error is the same.
      const [faiss, ts] = outcomes.map((errors) => errors.filter((_, i) => i !== 3));
      expect(ts).toEqual(faiss);
      expect(outcomes.map((errors) => errors[3][1])).toEqual([ErrorCode.ARG, ErrorCode.ARG]);
    });

    it('the addon refuses SQ8 bytes FAISS reads but that do not hold together', async () => {
      const [faiss] = pair('l2', 4);
      faiss.train(randomVectors(20, 4, 65));
      faiss.add(randomVectors(5, 4, 66));
      const good = faiss.toBuffer();
      const codesAt = 73 + 4 * 8;
      const edit = (write: (v: DataView) => void, keep = good.length) => {
        const bytes = new Uint8Array(good.subarray(0, keep));
        write(new DataView(bytes.buffer));
        return bytes;
      };
      for (const bytes of [
        edit((v) => v.setBigUint64(codesAt, 16n, true), good.length - 4), // codes for 4 rows, ntotal 5
        edit((v) => v.setFloat32(73 + 4 * 5, Number.NaN, true)), // a range that is not finite
        edit((v) => v.setUint8(32, 0)), // untrained, yet holding codes
      ]) {
        const err = await caught(() => KnnIndex.fromBuffer(bytes, { backend: 'faiss' }));
        expect([err.code, err.message]).toEqual([
          ErrorCode.CORRUPT,
          'buffer is not a FAISS index or is damaged: an 8-bit index whose ranges or codes do not match its size',
        ]);
      }
    });
  },
);
