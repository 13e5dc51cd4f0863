import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { IndexSpec, NativeIndex, ParamName } from '../addon.js';
import { ErrorCode, nativeError } from '../errors.js';
import type { IndexKind, Metric, SearchResult } from '../types.js';
import { checkBytes, checkIds, checkInt, checkMatrix, checkString, describe } from './checks.js';
import { exactSearch } from './exact.js';
import { type FallbackParams, type FallbackState, readState, writeState } from './serialize.js';

/**
 * The exact TypeScript fallback, with the addon's `Index` surface and error codes. Every kind searches
 * exhaustively (HNSW and IVF keep their parameters and their FAISS behaviour — IVF must be trained,
 * HNSW cannot remove ids — but return exact neighbours). Async methods run on the main thread in slices
 * of about 10 ms, yielding to the event loop between slices.
 */

const MAX_DIM = 1 << 16;
const MAX_K = 1 << 20;
const SLICE_FLOPS = 2e7;
const DEFAULTS: FallbackParams = { M: 32, efConstruction: 40, efSearch: 16, nlist: 0, nprobe: 1 };

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function ioError(path: string, mode: 'reading' | 'writing', err: unknown): Error {
  const reason =
    err instanceof Error ? err.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '') : String(err);
  return nativeError(ErrorCode.IO, `cannot open '${path}' for ${mode}: ${reason}`);
}

export class TsIndex implements NativeIndex {
  readonly dim: number;
  readonly kind: IndexKind;
  readonly #metric: Metric;
  readonly #params: FallbackParams;
  #trained: boolean;
  #data: Float32Array;
  #count: number;
  #ids: BigInt64Array | null;
  #disposed = false;
  /** Set by vectors(): #data is shared with the caller and must not move or change. */
  #pinned = false;

  constructor(spec: IndexSpec | FallbackState) {
    const state = 'data' in spec ? spec : TsIndex.#build(spec);
    this.dim = state.dim;
    this.kind = state.kind;
    this.#metric = state.metric;
    this.#params = { ...state.params };
    this.#trained = state.trained;
    this.#data = state.data;
    this.#count = state.count;
    this.#ids = state.ids ?? (state.kind === 'ivf' ? new BigInt64Array(0) : null);
  }

  static #build(spec: unknown): FallbackState {
    if (typeof spec !== 'object' || spec === null)
      throw nativeError(
        ErrorCode.ARG,
        `new Index(spec): spec must be an object, got ${describe(spec)}`,
        'type',
      );
    const s = spec as Record<string, unknown>;
    let kind = checkString(s.kind, 'kind');
    const dim = checkInt(s.dim, 'dim', 1, MAX_DIM);
    const metric = s.metric ?? 'l2';
    if (metric !== 'l2' && metric !== 'ip')
      throw nativeError(
        ErrorCode.ARG,
        `metric must be 'l2' or 'ip', got ${typeof metric === 'string' ? `'${metric}'` : describe(metric)}`,
        'range',
      );
    const opt = (name: keyof FallbackParams, min: number, max: number) =>
      s[name] === undefined ? DEFAULTS[name] : checkInt(s[name], name, min, max);
    const params = { ...DEFAULTS };
    if (kind === 'factory') {
      const description = checkString(s.description, 'description');
      const hnsw = /^HNSW(\d*)(,Flat)?$/.exec(description);
      const ivf = /^IVF(\d+),Flat$/.exec(description);
      if (description === 'Flat') kind = 'flat';
      else if (hnsw) [kind, params.M] = ['hnsw', hnsw[1] ? Number(hnsw[1]) : DEFAULTS.M];
      else if (ivf) [kind, params.nlist] = ['ivf', Number(ivf[1])];
      else
        throw nativeError(
          ErrorCode.ARG,
          `index_factory('${description}'): the TypeScript fallback builds only 'Flat', 'HNSW<M>' and 'IVF<nlist>,Flat'`,
        );
    } else if (kind === 'hnsw') {
      params.M = opt('M', 2, 512);
      params.efConstruction = opt('efConstruction', 1, 1 << 16);
      params.efSearch = opt('efSearch', 1, 1 << 16);
    } else if (kind === 'ivf') {
      if (s.nlist === undefined)
        throw nativeError(ErrorCode.ARG, 'nlist is required for an IVF index', 'type');
      params.nlist = checkInt(s.nlist, 'nlist', 1, 1 << 24);
      params.nprobe = opt('nprobe', 1, 1 << 24);
    } else if (kind !== 'flat') {
      throw nativeError(ErrorCode.ARG, `kind ('${kind}') must be one of flat, hnsw, ivf, factory`, 'range');
    }
    const k = kind as FallbackState['kind'];
    return {
      kind: k,
      dim,
      metric,
      trained: k !== 'ivf',
      params,
      count: 0,
      data: new Float32Array(0),
      ids: null,
    };
  }

  static fromBuffer(bytes: Uint8Array, what = 'buffer'): TsIndex {
    return new TsIndex(readState(checkBytes(bytes, 'buffer'), DEFAULTS, what));
  }

  static load(path: string): TsIndex {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(checkString(path, 'path'));
    } catch (err) {
      throw (err as { code?: string }).code?.startsWith('ERR_HARK') ? err : ioError(path, 'reading', err);
    }
    return TsIndex.fromBuffer(bytes, `'${path}'`);
  }

  static async loadAsync(path: string): Promise<TsIndex> {
    checkString(path, 'path');
    const bytes = await readFile(path).catch((err) => Promise.reject(ioError(path, 'reading', err)));
    return TsIndex.fromBuffer(bytes, `'${path}'`);
  }

  get ntotal(): number {
    return this.#count;
  }
  get isTrained(): boolean {
    return this.#trained;
  }
  get disposed(): boolean {
    return this.#disposed;
  }
  get metric(): Metric {
    return this.#metric;
  }

  getParam(name: ParamName): number | undefined {
    checkString(name, 'name');
    this.#live();
    const own: Record<string, readonly ParamName[]> = {
      hnsw: ['efSearch', 'efConstruction', 'M'],
      ivf: ['nprobe', 'nlist'],
    };
    return own[this.kind]?.includes(name) ? this.#params[name] : undefined;
  }

  setParam(name: ParamName, value: number): void {
    checkString(name, 'name');
    this.#live();
    const settable: Record<string, readonly ParamName[]> = {
      hnsw: ['efSearch', 'efConstruction'],
      ivf: ['nprobe'],
    };
    if (!settable[this.kind]?.includes(name))
      throw nativeError(ErrorCode.UNSUPPORTED, `parameter '${name}' cannot be set on a ${this.kind} index`);
    this.#params[name] = checkInt(value, name, 1, name === 'nprobe' ? 1 << 24 : 1 << 16);
  }

  add(vectors: Float32Array): void {
    const n = checkMatrix(vectors, 'vectors', this.dim);
    this.#live();
    this.#requireTrained('add');
    this.#requireUnpinned('add');
    const need = (this.#count + n) * this.dim;
    if (need > this.#data.length) {
      const grown = new Float32Array(Math.max(need, 2 * this.#data.length));
      grown.set(this.#data.subarray(0, this.#count * this.dim));
      this.#data = grown;
    }
    this.#data.set(vectors, this.#count * this.dim);
    if (this.#ids) {
      const ids = new BigInt64Array(this.#count + n);
      ids.set(this.#ids.subarray(0, this.#count));
      for (let i = 0; i < n; i++) ids[this.#count + i] = BigInt(this.#count + i); // FAISS IVF: ntotal + i
      this.#ids = ids;
    }
    this.#count += n;
  }

  train(vectors: Float32Array): void {
    const n = checkMatrix(vectors, 'vectors', this.dim);
    this.#live();
    if (this.kind === 'ivf' && n < this.#params.nlist)
      throw nativeError(
        ErrorCode.ARG,
        `train needs at least nlist (${this.#params.nlist}) vectors, got ${n}`,
        'range',
      );
    this.#trained = true;
  }

  search(queries: Float32Array, k: number): SearchResult {
    const { n, out } = this.#prepareSearch(queries, k);
    this.#searchRange(queries, 0, n, k, out);
    return out;
  }

  removeIds(ids: BigInt64Array): number {
    checkIds(ids, 'ids');
    this.#live();
    this.#requireUnpinned('removeIds');
    if (this.kind === 'hnsw')
      throw nativeError(
        ErrorCode.UNSUPPORTED,
        'removeIds is not supported by HNSW indexes (FAISS cannot delete from the graph); rebuild the index without those vectors',
      );
    const remove = new Set(ids);
    const d = this.dim;
    let kept = 0;
    for (let i = 0; i < this.#count; i++) {
      const id = this.#ids ? this.#ids[i] : BigInt(i);
      if (remove.has(id)) continue;
      if (kept !== i) {
        this.#data.copyWithin(kept * d, i * d, (i + 1) * d);
        if (this.#ids) this.#ids[kept] = id;
      }
      kept++;
    }
    const removed = this.#count - kept;
    this.#count = kept;
    return removed;
  }

  reset(): void {
    this.#live();
    this.#requireUnpinned('reset');
    this.#count = 0;
    this.#data = new Float32Array(0);
    if (this.#ids) this.#ids = new BigInt64Array(0);
  }

  dispose(): void {
    if (this.#disposed) return;
    // A view from vectors() keeps #data; the index lets go of it.
    this.#count = 0;
    this.#data = new Float32Array(0);
    if (this.#ids) this.#ids = new BigInt64Array(0);
    this.#disposed = true;
  }

  vectors(): Float32Array {
    this.#live();
    if (this.kind !== 'flat')
      throw nativeError(
        ErrorCode.UNSUPPORTED,
        `vectors() needs a flat index; a ${this.kind} index does not keep its vectors as plain floats`,
      );
    const used = this.#count * this.dim;
    // The spare capacity add() grew is dropped first, as the addon does, while nothing points into it.
    if (!this.#pinned && this.#data.length !== used) this.#data = this.#data.slice(0, used);
    this.#pinned = true;
    return this.#data.subarray(0, used);
  }

  /**
   * Checks `axes` as the addon does and keeps nothing: the addon's bounded search returns the flat search's
   * answers, which this index's exact search already gives.
   */
  setProjection(axes: Float32Array | null): void {
    if (axes === null || axes === undefined) {
      this.#live();
      return;
    }
    const rows = checkMatrix(axes, 'axes', this.dim);
    if (rows < 1 || rows > this.dim)
      throw nativeError(ErrorCode.ARG, `axes must hold 1 to dim (${this.dim}) rows, got ${rows}`, 'range');
    if (!axes.every(Number.isFinite))
      throw nativeError(ErrorCode.ARG, 'axes hold a non-finite value', 'range');
    this.#live();
    if (this.kind !== 'flat' || this.#metric !== 'l2')
      throw nativeError(
        ErrorCode.UNSUPPORTED,
        `setProjection needs a flat L2 index; this is a ${this.kind === 'flat' ? 'flat inner-product' : this.kind} index`,
      );
  }

  /** Null: this index keeps no axes (see setProjection). */
  projectionInfo(): null {
    this.#live();
    return null;
  }

  #requireUnpinned(what: string): void {
    if (this.#pinned)
      throw nativeError(
        ErrorCode.UNSUPPORTED,
        `cannot ${what}: the index lent its vectors to JavaScript (vectors()), so they must not move or change; build a new index`,
      );
  }

  async addAsync(vectors: Float32Array): Promise<void> {
    await nextTurn();
    this.add(vectors);
  }

  async trainAsync(vectors: Float32Array): Promise<void> {
    await nextTurn();
    this.train(vectors);
  }

  async searchAsync(queries: Float32Array, k: number): Promise<SearchResult> {
    const { n, out } = this.#prepareSearch(queries, k);
    const slice = Math.max(1, Math.floor(SLICE_FLOPS / Math.max(1, 2 * this.#count * this.dim)));
    const [data, count] = [this.#data, this.#count]; // adds during the search do not change its answer
    for (let q0 = 0; q0 < n; q0 += slice) {
      await nextTurn();
      exactSearch(
        data,
        count,
        this.dim,
        this.#metric === 'ip',
        queries,
        q0,
        Math.min(n, q0 + slice),
        k,
        this.#ids,
        out.distances,
        out.labels,
      );
    }
    return out;
  }

  toBuffer(): Uint8Array {
    this.#live();
    return writeState({
      kind: this.kind as FallbackState['kind'],
      dim: this.dim,
      metric: this.#metric,
      trained: this.#trained,
      params: this.#params,
      count: this.#count,
      data: this.#data,
      ids: this.#ids,
    });
  }

  save(path: string): void {
    checkString(path, 'path');
    const bytes = this.toBuffer();
    try {
      writeFileSync(path, bytes);
    } catch (err) {
      throw ioError(path, 'writing', err);
    }
  }

  async saveAsync(path: string): Promise<void> {
    checkString(path, 'path');
    const bytes = this.toBuffer();
    await writeFile(path, bytes).catch((err) => Promise.reject(ioError(path, 'writing', err)));
  }

  #prepareSearch(queries: Float32Array, k: number): { n: number; out: SearchResult } {
    const n = checkMatrix(queries, 'queries', this.dim);
    checkInt(k, 'k', 1, MAX_K);
    this.#live();
    this.#requireTrained('search');
    return { n, out: { distances: new Float32Array(n * k), labels: new BigInt64Array(n * k) } };
  }

  #searchRange(queries: Float32Array, q0: number, q1: number, k: number, out: SearchResult): void {
    exactSearch(
      this.#data,
      this.#count,
      this.dim,
      this.#metric === 'ip',
      queries,
      q0,
      q1,
      k,
      this.#ids,
      out.distances,
      out.labels,
    );
  }

  #live(): void {
    if (this.#disposed)
      throw nativeError(ErrorCode.DISPOSED, 'the index was disposed; create or load a new one');
  }

  #requireTrained(what: string): void {
    if (!this.#trained)
      throw nativeError(
        ErrorCode.NOT_TRAINED,
        `cannot ${what} before the index is trained; call train() with a sample first`,
      );
  }
}
