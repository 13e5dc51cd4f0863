import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlatIndex, HNSWIndex, IVFIndex, KnnIndex, type SearchResult } from '../src/index.js';
import { BACKENDS, randomVectors } from './helpers.js';
import { tempDir } from '../../test/support/temp.js';

// A fitted memory bank survives a restart unchanged: bit-identical results after each round trip.

const D = 16;
const data = randomVectors(2000, D, 31);
const queries = randomVectors(50, D, 32);
const dir = tempDir('native-io');

function expectIdentical(a: SearchResult, b: SearchResult): void {
  expect(Buffer.from(b.distances.buffer).equals(Buffer.from(a.distances.buffer))).toBe(true);
  expect([...b.labels]).toEqual([...a.labels]);
}

const builders = {
  flat: (backend: 'faiss' | 'typescript') => new FlatIndex(D, { backend, metric: 'ip' }),
  hnsw: (backend: 'faiss' | 'typescript') => new HNSWIndex(D, { backend, M: 12, efSearch: 48 }),
  ivf: (backend: 'faiss' | 'typescript') => {
    const index = new IVFIndex(D, { backend, nlist: 8, nprobe: 3 });
    index.train(data);
    return index;
  },
};

describe.each(BACKENDS)('serialisation (%s)', (backend) => {
  it.each(Object.keys(builders) as (keyof typeof builders)[])(
    '%s: toBuffer/fromBuffer, save/load and saveAsync/loadAsync',
    async (kind) => {
      const index = builders[kind](backend);
      index.add(data);
      const before = index.search(queries, 5);

      const copies = [KnnIndex.fromBuffer(index.toBuffer(), { backend })];
      const file = join(dir, `${backend}-${kind}.index`);
      index.save(file);
      copies.push(KnnIndex.load(file, { backend }));
      await index.saveAsync(`${file}.async`);
      copies.push(await KnnIndex.loadAsync(`${file}.async`, { backend }));

      for (const copy of copies) {
        expect(copy.constructor).toBe(index.constructor);
        expect([copy.kind, copy.dim, copy.metric, copy.ntotal, copy.isTrained]).toEqual([
          index.kind,
          D,
          index.metric,
          2000,
          true,
        ]);
        expectIdentical(before, copy.search(queries, 5));
        expect(Buffer.from(copy.toBuffer()).equals(Buffer.from(index.toBuffer()))).toBe(true);
      }
      if (copies[0] instanceof HNSWIndex) expect([copies[0].M, copies[0].efSearch]).toEqual([12, 48]);
      if (copies[0] instanceof IVFIndex) expect([copies[0].nlist, copies[0].nprobe]).toEqual([8, 3]);
    },
  );

  it('an untrained IVF index round-trips untrained', () => {
    const copy = KnnIndex.fromBuffer(new IVFIndex(D, { backend, nlist: 4 }).toBuffer(), { backend });
    expect([copy.isTrained, copy.ntotal]).toEqual([false, 0]);
  });
});

describe('flat banks move between the backends', () => {
  it('FAISS reads the fallback`s Flat bytes and the fallback reads FAISS`s, with the same neighbours', () => {
    for (const metric of ['l2', 'ip'] as const) {
      const ts = new FlatIndex(D, { backend: 'typescript', metric });
      const faiss = new FlatIndex(D, { backend: 'faiss', metric });
      ts.add(data);
      faiss.add(data);
      expect(Buffer.from(ts.toBuffer()).equals(Buffer.from(faiss.toBuffer()))).toBe(true);
      const intoFaiss = KnnIndex.fromBuffer(ts.toBuffer(), { backend: 'faiss' });
      const intoTs = KnnIndex.fromBuffer(faiss.toBuffer(), { backend: 'typescript' });
      expect([intoFaiss.metric, intoTs.metric, intoFaiss.ntotal, intoTs.ntotal]).toEqual([
        metric,
        metric,
        2000,
        2000,
      ]);
      expectIdentical(faiss.search(queries, 3), intoFaiss.search(queries, 3));
      expectIdentical(ts.search(queries, 3), intoTs.search(queries, 3));
    }
  });
});
