import { backend, getNumThreads, setNumThreads } from '@hark/native';
import { afterEach, describe, expect, it } from 'vitest';
import { applySearchThreads, serverSearchThreads } from '../../src/scoring/search-threads.js';

// The server's FAISS threads: a core left to the event loop unless the environment asks for a number.

describe('the server search threads', () => {
  const before = getNumThreads();
  afterEach(() => setNumThreads(before));

  it('leaves one core to the event loop, at least one thread', () => {
    expect(serverSearchThreads(2, {})).toEqual({ threads: 1, source: 'server' });
    expect(serverSearchThreads(8, {})).toEqual({ threads: 7, source: 'server' });
    expect(serverSearchThreads(1, {})).toEqual({ threads: 1, source: 'server' });
  });

  it('keeps the number HARK_FAISS_THREADS or OMP_NUM_THREADS asks for', () => {
    expect(serverSearchThreads(2, { HARK_FAISS_THREADS: '2' })).toEqual({
      threads: 2,
      source: 'environment',
    });
    expect(serverSearchThreads(2, { OMP_NUM_THREADS: '3' })).toEqual({ threads: 3, source: 'environment' });
    expect(serverSearchThreads(4, { HARK_FAISS_THREADS: 'all' })).toEqual({ threads: 3, source: 'server' });
  });

  it.skipIf(backend !== 'faiss')('applies the number to the addon', () => {
    setNumThreads(4);
    expect(applySearchThreads(3, {})).toEqual({ threads: 2, source: 'server' });
    expect(getNumThreads()).toBe(2);
  });
});
