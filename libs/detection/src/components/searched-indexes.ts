import type { KnnIndex, SearchResult } from '@hark/native';

/**
 * Searches indexes that may be replaced while a search is in flight (a bank extended by operator feedback,
 * a memory taught a window): an index retired during its searches is disposed when the last one returns.
 */
export class SearchedIndexes {
  readonly #inFlight = new Map<KnnIndex, number>();
  readonly #retired = new Set<KnnIndex>();

  /** `index.searchAsync(queries, k)`, counted while in flight. */
  search(index: KnnIndex, queries: Float32Array, k: number): Promise<SearchResult>;
  /** The same, then `read(result)` while the index is still held (before a retired one is disposed). */
  search<T>(index: KnnIndex, queries: Float32Array, k: number, read: (result: SearchResult) => T): Promise<T>;
  async search<T>(
    index: KnnIndex,
    queries: Float32Array,
    k: number,
    read?: (result: SearchResult) => T,
  ): Promise<T | SearchResult> {
    this.#inFlight.set(index, (this.#inFlight.get(index) ?? 0) + 1);
    try {
      const result = await index.searchAsync(queries, k);
      return read ? read(result) : result;
    } finally {
      const left = (this.#inFlight.get(index) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(index, left);
      else {
        this.#inFlight.delete(index);
        if (this.#retired.delete(index)) index.dispose();
      }
    }
  }

  /** Disposes `index` now if idle, else when its last search returns. */
  retire(index: KnnIndex): void {
    if (this.#inFlight.has(index)) this.#retired.add(index);
    else index.dispose();
  }
}
