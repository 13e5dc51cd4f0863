/** Which implementation serves an index: the FAISS addon, or the exact TypeScript fallback. */
export type Backend = 'faiss' | 'typescript';

/** Squared Euclidean distance (smaller is nearer) or inner product (larger is nearer). */
export type Metric = 'l2' | 'ip';

/**
 * How a flat index holds its vectors. 'float32': as given. 'uint8': one byte per value, FAISS's
 * IndexScalarQuantizer QT_8bit layout (factory 'SQ8'), a quarter of the memory. `train` takes each dimension's
 * range from its sample (vmin = the smallest value, vdiff = the largest minus the smallest, in float); a value x
 * is stored as code = trunc(255 * t) with t = (x - vmin) / vdiff clamped to [0, 1] (code 0 when vdiff is 0), and
 * read back as vmin + ((code + 0.5) / 255) * vdiff, every operation in float. So a stored value is within half a
 * step (vdiff / 510) of the given one inside the sample's range, and every search, `reconstruct` and both backends
 * see the same decoded floats: searches are exact over the decoded vectors.
 */
export type Storage = 'float32' | 'uint8';

/** 'other' for indexes built by a factory string that are none of Flat, HNSW and IVF. */
export type IndexKind = 'flat' | 'hnsw' | 'ivf' | 'other';

/**
 * `n * k` results, row-major by query: the neighbours of query `i` sit at `[i * k, (i + 1) * k)`, nearest
 * first. Labels are FAISS ids (`idx_t`, int64): the insertion position for Flat and HNSW (Flat renumbers
 * after `removeIds`), the id assigned at `add` for IVF. A missing neighbour (k > ntotal) has label -1n
 * and distance +3.4028235e38 (l2) or -3.4028235e38 (ip).
 */
export interface SearchResult {
  distances: Float32Array;
  labels: BigInt64Array;
}

/**
 * The state of a flat index's bounded search (FlatIndex.projectionInfo): the number of axes, the search the
 * next batches take ('measuring' while the first two batches of each run), the bytes of the projected
 * database held now (freed while the flat search is the choice) and how many times it was built.
 */
export interface ProjectionInfo {
  rows: number;
  choice: 'measuring' | 'bounded' | 'flat';
  bankBytes: number;
  builds: number;
}
