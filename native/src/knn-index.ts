import type { IndexSpec, NativeIndex, ParamName } from './addon.js';
import { checkBlasOnce } from './blas.js';
import { ErrorCode, nativeError } from './errors.js';
import { describe } from './fallback/checks.js';
import { TsIndex } from './fallback/ts-index.js';
import { schedule } from './jobs.js';
import { loaded } from './load.js';
import type { Backend, IndexKind, Metric, ProjectionInfo, SearchResult, Storage } from './types.js';

/** The backend new indexes use: 'faiss' when the addon loaded, else 'typescript' (logged at start-up). */
export const backend: Backend = loaded.addon ? 'faiss' : 'typescript';

export interface IndexOptions {
  /** 'l2' (default) or 'ip'. */
  metric?: Metric;
  /** Force a backend (tests, benchmarks); defaults to `backend`. */
  backend?: Backend;
}

export interface FlatOptions extends IndexOptions {
  /**
   * How the vectors are held: 'float32' (default) as given, or 'uint8', one byte per value (a quarter of the
   * memory; `train` first sets each dimension's range, see `Storage`). Searches are exact over the stored
   * values, so a uint8 index answers as a float32 index of its decoded vectors (`reconstruct`) would.
   */
  storage?: Storage;
}

export interface HNSWOptions extends IndexOptions {
  /** Graph degree (FAISS default 32; level 0 keeps 2M links). Fixed at creation. */
  M?: number;
  /** Candidate list while adding (FAISS default 40). */
  efConstruction?: number;
  /** Candidate list while searching (FAISS default 16); raise it for recall. */
  efSearch?: number;
}

export interface IVFOptions extends IndexOptions {
  /** Number of k-means cells; train() needs at least this many vectors (39 * nlist avoids FAISS's warning). */
  nlist: number;
  /** Cells visited per query (default 1). */
  nprobe?: number;
}

function chooseBackend(options: unknown): Backend {
  if (options === undefined) return backend;
  if (typeof options !== 'object' || options === null)
    throw nativeError(ErrorCode.ARG, `options must be an object, got ${describe(options)}`, 'type');
  const b = (options as IndexOptions).backend ?? backend;
  if (b !== 'faiss' && b !== 'typescript')
    throw nativeError(ErrorCode.ARG, `backend must be 'faiss' or 'typescript', got ${describe(b)}`, 'range');
  if (b === 'faiss' && !loaded.addon)
    throw nativeError(ErrorCode.UNSUPPORTED, `the FAISS addon is not available (${loaded.reason})`);
  return b;
}

function createImpl(spec: IndexSpec, b: Backend): NativeIndex {
  if (b === 'typescript') return new TsIndex(spec);
  checkBlasOnce();
  return new loaded.addon!.Index(spec);
}

const busy = (what: string) =>
  nativeError(
    ErrorCode.BUSY,
    `the index is busy with asynchronous ${what}; await it before this call or use the async method`,
  );

/**
 * A k-NN index over vectors of `dim` floats (row-major Float32Array, n * dim). Synchronous `search` is
 * for small batches; async methods run off the event loop (FAISS on a libuv pool thread, one job at a
 * time process-wide unless setMaxConcurrentJobs says otherwise). While async work is pending,
 * synchronous calls that would conflict with it throw ERR_HARK_FAISS_BUSY instead of blocking:
 * searches conflict with pending writes; writes conflict with anything pending.
 */
export class KnnIndex {
  readonly backend: Backend;
  readonly kind: IndexKind;
  readonly dim: number;
  readonly metric: Metric | 'other';
  /** How a flat index holds its vectors ('float32', or 'uint8' codes); null for other kinds. */
  readonly storage: Storage | null;
  readonly #impl: NativeIndex;
  #readers = 0;
  #writers = 0;

  /** @internal Use the subclasses, `KnnIndex.factory` or the load functions. */
  constructor(impl: NativeIndex, backendName: Backend) {
    this.#impl = impl;
    this.backend = backendName;
    this.kind = impl.kind;
    this.dim = impl.dim;
    this.metric = impl.metric;
    this.storage = impl.storage;
  }

  /** An index from a FAISS factory string ('Flat', 'HNSW32', 'IVF1024,Flat', 'PCA64,IVF256,PQ16', ...). */
  static factory(dim: number, description: string, options?: IndexOptions): KnnIndex {
    const b = chooseBackend(options);
    return adopt(createImpl({ kind: 'factory', dim, description, metric: options?.metric }, b), b);
  }

  /** The index `toBuffer()` wrote (FAISS serialisation); throws ERR_HARK_FAISS_CORRUPT on bad bytes. */
  static fromBuffer(buffer: Uint8Array, options?: Pick<IndexOptions, 'backend'>): KnnIndex {
    const b = chooseBackend(options);
    return adopt(b === 'faiss' ? loaded.addon!.fromBuffer(buffer) : TsIndex.fromBuffer(buffer), b);
  }

  /** The index `save(path)` wrote. */
  static load(path: string, options?: Pick<IndexOptions, 'backend'>): KnnIndex {
    const b = chooseBackend(options);
    return adopt(b === 'faiss' ? loaded.addon!.load(path) : TsIndex.load(path), b);
  }

  static async loadAsync(path: string, options?: Pick<IndexOptions, 'backend'>): Promise<KnnIndex> {
    const b = chooseBackend(options);
    const impl = await schedule(() =>
      b === 'faiss' ? loaded.addon!.loadAsync(path) : TsIndex.loadAsync(path),
    );
    return adopt(impl, b);
  }

  get ntotal(): number {
    return this.#impl.ntotal;
  }

  get isTrained(): boolean {
    return this.#impl.isTrained;
  }

  /** Appends `vectors` (n * dim); Flat and HNSW label them ntotal, ntotal + 1, ... */
  add(vectors: Float32Array): void {
    this.#write();
    this.#impl.add(vectors);
  }

  /** Trains on a sample (IVF: k-means for the cells); a no-op for Flat and HNSW. */
  train(vectors: Float32Array): void {
    this.#write();
    this.#impl.train(vectors);
  }

  /** The k nearest neighbours of each of the n queries (n * dim floats): n * k results. */
  search(queries: Float32Array, k: number): SearchResult {
    this.#read();
    return this.#impl.search(queries, k);
  }

  /** Removes the vectors with these labels (Flat renumbers the rest; IVF keeps ids); HNSW cannot. */
  removeIds(ids: BigInt64Array): number {
    this.#write();
    return this.#impl.removeIds(ids);
  }

  /** Removes every vector (an IVF index stays trained). */
  reset(): void {
    this.#write();
    this.#impl.reset();
  }

  /** Frees the index now instead of at garbage collection; later calls throw ERR_HARK_FAISS_DISPOSED. */
  dispose(): void {
    this.#write();
    this.#impl.dispose();
  }

  /**
   * The vectors a flat index stores, `[ntotal, dim]`, without a copy: a view of the index's own memory, for
   * callers that keep a bank for searching and read a few of its rows (a second copy in JavaScript would
   * double the bank's memory). The view keeps the memory alive after `dispose()` until it is collected.
   * From the first call the index is pinned: `add`, `removeIds` and `reset` throw ERR_HARK_FAISS_UNSUPPORTED
   * (they would move or change the vectors under the view); build a new index instead. Read only: writing
   * into the view changes the index. Other kinds throw ERR_HARK_FAISS_UNSUPPORTED.
   */
  vectors(): Float32Array {
    this.#write();
    return this.#impl.vectors();
  }

  /**
   * The stored rows with these labels (flat indexes), `[ids.length, dim]`: a copy, as searches measure them
   * (uint8 storage decoded). For a caller that reads a few rows per search of an index whose storage it cannot
   * view (`vectors()` needs float32 storage). An id outside [0, ntotal) throws ERR_HARK_FAISS_ARG; other kinds
   * throw ERR_HARK_FAISS_UNSUPPORTED.
   */
  reconstruct(ids: BigInt64Array): Float32Array {
    this.#read();
    return this.#impl.reconstruct(ids);
  }

  addAsync(vectors: Float32Array): Promise<void> {
    return this.#async('write', () => this.#impl.addAsync(vectors));
  }

  trainAsync(vectors: Float32Array): Promise<void> {
    return this.#async('write', () => this.#impl.trainAsync(vectors));
  }

  searchAsync(queries: Float32Array, k: number): Promise<SearchResult> {
    return this.#async('read', () => this.#impl.searchAsync(queries, k));
  }

  /** FAISS's own serialisation of the index (write_index). */
  toBuffer(): Uint8Array {
    this.#read();
    return this.#impl.toBuffer();
  }

  save(path: string): void {
    this.#read();
    this.#impl.save(path);
  }

  saveAsync(path: string): Promise<void> {
    return this.#async('read', () => this.#impl.saveAsync(path));
  }

  /**
   * @internal The implementation, for the subclasses' own methods. A field of theirs would be missing on
   * indexes that `adopt` gives their class without running their constructor (loaded ones).
   */
  protected impl(): NativeIndex {
    return this.#impl;
  }

  /** @internal Throws ERR_HARK_FAISS_BUSY while async work holds the index (as add does). */
  protected checkWritable(): void {
    this.#write();
  }

  protected getParam(name: ParamName): number | undefined {
    return this.#impl.getParam(name);
  }

  protected setParam(name: ParamName, value: number): void {
    this.#write();
    this.#impl.setParam(name, value);
  }

  #read(): void {
    if (this.#writers > 0) throw busy('add or train');
  }

  #write(): void {
    if (this.#writers > 0) throw busy('add or train');
    if (this.#readers > 0) throw busy('search or save');
  }

  async #async<T>(mode: 'read' | 'write', job: () => Promise<T>): Promise<T> {
    if (mode === 'read') this.#readers++;
    else this.#writers++;
    try {
      return await schedule(job);
    } finally {
      if (mode === 'read') this.#readers--;
      else this.#writers--;
    }
  }
}

/**
 * Exact search: every query is compared with every vector (a FAISS IndexFlat, searched by hark's tiled sgemm
 * and re-ranked by a fixed-order distance: the same answer on every BLAS, native/src/addon/flat_search.h).
 */
export class FlatIndex extends KnnIndex {
  constructor(dim: number, options?: FlatOptions) {
    const b = chooseBackend(options);
    super(createImpl({ kind: 'flat', dim, metric: options?.metric, storage: options?.storage }, b), b);
  }

  /**
   * Speeds up k = 1 searches of an L2 index whose queries mostly have a near twin in it (the context memory):
   * `axes` (`[r, dim]`, 1 <= r <= dim; `principalAxes` of the vectors make the bound tight) project the
   * vectors (when a bounded search first needs them), and a search measures exactly only the rows that a lower
   * bound from the projected distance cannot rule out (native/src/addon/bound_search.h). The index measures
   * both searches' CPU and keeps the cheaper; the projected vectors (r / dim of the index's memory) are freed
   * while it keeps the flat one (`projectionInfo`). The answers do not change: the same distances and
   * labels, bit for bit, as without axes, on every BLAS. `null` drops the axes; so do add, removeIds and
   * reset. Other k, and the TypeScript backend, search flat (the same answers). Non-finite axes throw
   * ERR_HARK_FAISS_ARG; an inner-product index throws ERR_HARK_FAISS_UNSUPPORTED.
   */
  setProjection(axes: Float32Array | null): void {
    this.checkWritable();
    this.impl().setProjection(axes);
  }

  /**
   * The bounded search's state while axes are set and the vectors unchanged, else null (always null on the
   * TypeScript backend, which keeps no axes). Each index measures the CPU per query of the bounded and the
   * flat search and keeps the cheaper (`choice`); while it keeps the flat one, the projected database is
   * freed (`bankBytes` 0) and built again for a try of the bounded one (`builds`).
   */
  projectionInfo(): ProjectionInfo | null {
    return this.impl().projectionInfo();
  }
}

/** Approximate search on a Hierarchical Navigable Small World graph (Malkov & Yashunin 2018). */
export class HNSWIndex extends KnnIndex {
  constructor(dim: number, options?: HNSWOptions) {
    const b = chooseBackend(options);
    const { metric, M, efConstruction, efSearch } = options ?? {};
    super(createImpl({ kind: 'hnsw', dim, metric, M, efConstruction, efSearch }, b), b);
  }
  get M(): number {
    return this.getParam('M')!;
  }
  get efConstruction(): number {
    return this.getParam('efConstruction')!;
  }
  set efConstruction(value: number) {
    this.setParam('efConstruction', value);
  }
  get efSearch(): number {
    return this.getParam('efSearch')!;
  }
  set efSearch(value: number) {
    this.setParam('efSearch', value);
  }
}

/** Approximate search in the `nprobe` nearest of `nlist` k-means cells (inverted file, exact within cells). */
export class IVFIndex extends KnnIndex {
  constructor(dim: number, options: IVFOptions) {
    const b = chooseBackend(options);
    const { metric, nlist, nprobe } = options ?? ({} as IVFOptions);
    super(createImpl({ kind: 'ivf', dim, metric, nlist, nprobe }, b), b);
  }
  get nlist(): number {
    return this.getParam('nlist')!;
  }
  get nprobe(): number {
    return this.getParam('nprobe')!;
  }
  set nprobe(value: number) {
    this.setParam('nprobe', value);
  }
}

const CLASSES = { flat: FlatIndex, hnsw: HNSWIndex, ivf: IVFIndex, other: KnnIndex } as const;

/** Wraps a loaded or factory-built index in the class of its kind (without running that constructor). */
function adopt(impl: NativeIndex, b: Backend): KnnIndex {
  return Reflect.construct(KnnIndex, [impl, b], CLASSES[impl.kind]) as KnnIndex;
}
