import { describe, expect, it } from 'vitest';
import { ErrorCode, FlatIndex, HNSWIndex, KnnIndex } from '../src/index.js';
import { BACKENDS, caught, randomVectors } from './helpers.js';

// vectors(): a flat index lends its stored vectors to JavaScript without a copy, so a bank kept for searching
// and read a few rows at a time (PatchCore, the context memory) is held once. The index is pinned from then on.

const D = 8;
const data = randomVectors(64, D, 3);
const queries = randomVectors(5, D, 4);

describe.each(BACKENDS)('vectors() (%s)', (backend) => {
  const flat = () => {
    const index = new FlatIndex(D, { backend });
    index.add(data.subarray(0, 40 * D));
    index.add(data.subarray(40 * D));
    return index;
  };

  it('returns the stored vectors, [ntotal, dim], in insertion order', () => {
    const index = flat();
    const v = index.vectors();
    expect(v).toBeInstanceOf(Float32Array);
    expect(v.length).toBe(64 * D);
    expect(Array.from(v)).toEqual(Array.from(data));
    expect(new FlatIndex(D, { backend }).vectors().length).toBe(0);
  });

  it('is a view of the index, not a copy: two views share their memory', () => {
    const index = flat();
    const a = index.vectors();
    const b = index.vectors();
    a[3] = 1234.5;
    expect(b[3]).toBe(1234.5);
  });

  it('pins the index: add, removeIds and reset throw; search, toBuffer and dispose still work', async () => {
    const index = flat();
    const before = index.search(queries, 3);
    const v = index.vectors();
    for (const [what, call] of [
      ['add', () => index.add(data.subarray(0, D))],
      ['removeIds', () => index.removeIds(new BigInt64Array([0n]))],
      ['reset', () => index.reset()],
    ] as const) {
      const err = await caught(call);
      expect(err.code).toBe(ErrorCode.UNSUPPORTED);
      expect(err.message).toBe(
        `cannot ${what}: the index lent its vectors to JavaScript (vectors()), so they must not move or change; build a new index`,
      );
    }
    expect(index.ntotal).toBe(64);
    expect(index.search(queries, 3)).toEqual(before);
    expect(await index.searchAsync(queries, 3)).toEqual(before);
    expect(KnnIndex.fromBuffer(index.toBuffer(), { backend }).search(queries, 3)).toEqual(before);
    index.dispose();
    expect(index.ntotal).toBe(0);
    expect(Array.from(v)).toEqual(Array.from(data));
  });

  it('keeps its memory after dispose() while the view lives', () => {
    const index = flat();
    const v = index.vectors();
    index.dispose();
    // Allocations of the same size would reuse the storage had dispose() freed it.
    const others = Array.from({ length: 8 }, (_, i) => {
      const other = new FlatIndex(D, { backend });
      other.add(randomVectors(64, D, 100 + i));
      return other;
    });
    expect(Array.from(v)).toEqual(Array.from(data));
    others.forEach((o) => o.dispose());
  });

  it('refuses indexes that do not store plain vectors, and disposed or busy indexes', async () => {
    const hnsw = new HNSWIndex(D, { backend });
    hnsw.add(data);
    let err = await caught(() => hnsw.vectors());
    expect(err.code).toBe(ErrorCode.UNSUPPORTED);
    expect(err.message).toBe(
      'vectors() needs a flat index; a hnsw index does not keep its vectors as plain floats',
    );
    const gone = flat();
    gone.dispose();
    err = await caught(() => gone.vectors());
    expect(err.code).toBe(ErrorCode.DISPOSED);
    const busy = flat();
    const pending = busy.searchAsync(queries, 1);
    err = await caught(() => busy.vectors());
    expect(err.code).toBe(ErrorCode.BUSY);
    await pending;
    expect(busy.vectors().length).toBe(64 * D);
  });
});
