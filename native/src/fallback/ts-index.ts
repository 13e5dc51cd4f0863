import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { IndexSpec, NativeIndex, ParamName } from '../addon.js';
import { ErrorCode, nativeError } from '../errors.js';
import type { IndexKind, Metric, SearchResult, Storage } from '../types.js';
import { checkBytes, checkIds, checkInt, checkMatrix, checkString, describe } from './checks.js';
import { exactSearch, type RowDecoder } from './exact.js';
import { type FallbackParams, type FallbackState, readState, writeState } from './serialize.js';
import { decodeRow, encodeRows, RS_MINMAX, type Sq8State, trainRanges } from './sq8.js';

/**
 * The exact TypeScript fallback, with the addon's `Index` surface and error codes. Every kind searches
 * exhaustively (HNSW and IVF keep their parameters and their FAISS behaviour — IVF must be trained,
 * HNSW cannot remove ids — but return exact neighbours). A flat index holds its vectors as floats or, with
 * uint8 storage, as FAISS's SQ8 codes (sq8.ts), decoded a block of rows at a time while searching so the bank
 * stays a quarter of the size; its searches are exact over the decoded vectors. Async methods run on the main
 * thread in slices of about 10 ms, yielding to the event loop between slices.
 */

const MAX_DIM = 1 << 16;
const MAX_K = 1 << 20;
const SLICE_FLOPS = 2e7;
const DEFAULTS: FallbackParams = { M: 32, efConstruction: 40, efSearch: 16, nlist: 0, nprobe: 1 };

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function requireFinite(vectors: Float32Array): void {
  for (let i = 0; i < vectors.length; i++)
    if (!Number.isFinite(vectors[i]))
      throw nativeError(ErrorCode.ARG, 'vectors hold a non-finite value', 'range');
}

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
  /** A uint8 flat index's ranges and codes (#data stays empty); null for every other index. */
  #sq: Sq8State | null;
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
    this.#sq = state.sq ? { ...state.sq } : null;
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
    // A factory string says the storage itself ('Flat', 'SQ8'); only the flat kind takes it as an option.
    const storage = s.storage === undefined ? 'float32' : s.storage;
    if (s.storage !== undefined && kind !== 'flat')
      throw nativeError(ErrorCode.ARG, 'storage applies only to flat indexes', 'range');
    if (storage !== 'float32' && storage !== 'uint8')
      throw nativeError(
        ErrorCode.ARG,
        `storage must be 'float32' or 'uint8', got ${typeof storage === 'string' ? `'${storage}'` : describe(storage)}`,
        'range',
      );
    let uint8 = storage === 'uint8';
    const opt = (name: keyof FallbackParams, min: number, max: number) =>
      s[name] === undefined ? DEFAULTS[name] : checkInt(s[name], name, min, max);
    const params = { ...DEFAULTS };
    if (kind === 'factory') {
      const description = checkString(s.description, 'description');
      const hnsw = /^HNSW(\d*)(,Flat)?$/.exec(description);
      const ivf = /^IVF(\d+),Flat$/.exec(description);
      if (description === 'Flat') kind = 'flat';
      else if (description === 'SQ8') [kind, uint8] = ['flat', true];
      else if (hnsw) [kind, params.M] = ['hnsw', hnsw[1] ? Number(hnsw[1]) : DEFAULTS.M];
      else if (ivf) [kind, params.nlist] = ['ivf', Number(ivf[1])];
      else
        throw nativeError(
          ErrorCode.ARG,
          `index_factory('${description}'): the TypeScript fallback builds only 'Flat', 'SQ8', 'HNSW<M>' and 'IVF<nlist>,Flat'`,
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
      // An SQ8 index, like FAISS's, is untrained until train() has taken its ranges from a sample.
      trained: k !== 'ivf' && !uint8,
      params,
      count: 0,
      data: new Float32Array(0),
      ids: null,
      sq: uint8
        ? { rangestat: RS_MINMAX, rangestatArg: 0, vmin: null, vdiff: null, codes: new Uint8Array(0) }
        : null,
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
  get storage(): Storage | null {
    return this.kind !== 'flat' ? null : this.#sq ? 'uint8' : 'float32';
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
    if (this.#sq) {
      this.#addCodes(vectors, n, this.#sq);
      return;
    }
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

  /** add() for uint8 storage: every value is checked before any is stored, so a bad batch adds nothing. */
  #addCodes(vectors: Float32Array, n: number, sq: Sq8State): void {
    requireFinite(vectors);
    const need = (this.#count + n) * this.dim;
    if (need > sq.codes.length) {
      const grown = new Uint8Array(Math.max(need, 2 * sq.codes.length));
      grown.set(sq.codes.subarray(0, this.#count * this.dim));
      sq.codes = grown;
    }
    encodeRows(vectors, n, this.dim, sq.vmin!, sq.vdiff!, sq.codes, this.#count * this.dim);
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
    if (this.#sq) this.#trainRanges(vectors, n, this.#sq);
    this.#trained = true;
  }

  /** train() for uint8 storage: each dimension's range from the sample (sq8.ts, trainRanges). */
  #trainRanges(vectors: Float32Array, n: number, sq: Sq8State): void {
    // The checks in the addon's order (rows.cc, Sq8Train), so both backends report the same first problem.
    if (n < 1) throw nativeError(ErrorCode.ARG, 'train needs at least one vector', 'range');
    if (this.#count > 0)
      throw nativeError(
        ErrorCode.UNSUPPORTED,
        'train on a uint8 flat index that holds vectors would change what its codes mean; reset() it or build a new index',
      );
    requireFinite(vectors);
    // Ranges are always min-max here, as the addon takes them, whatever statistic a file read from FAISS
    // names (it is kept, and written back, but only FAISS's own train would use it).
    const { vmin, vdiff } = trainRanges(vectors, n, this.dim);
    // Finite values can still span more than a float holds; such a range would decode every value to
    // infinity, and its bytes would not load again (a range read must be finite).
    const wide = vdiff.findIndex((x) => !Number.isFinite(x));
    if (wide >= 0)
      throw nativeError(
        ErrorCode.ARG,
        `vectors span a range wider than float holds in dimension ${wide}`,
        'range',
      );
    sq.vmin = vmin;
    sq.vdiff = vdiff;
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
    const bank = this.#sq ? this.#sq.codes : this.#data;
    let kept = 0;
    for (let i = 0; i < this.#count; i++) {
      const id = this.#ids ? this.#ids[i] : BigInt(i);
      if (remove.has(id)) continue;
      if (kept !== i) {
        bank.copyWithin(kept * d, i * d, (i + 1) * d);
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
    // A uint8 index keeps its ranges and stays trained, as FAISS's IndexScalarQuantizer::reset does.
    if (this.#sq) this.#sq.codes = new Uint8Array(0);
    if (this.#ids) this.#ids = new BigInt64Array(0);
  }

  dispose(): void {
    if (this.#disposed) return;
    // A view from vectors() keeps #data; the index lets go of it.
    this.#count = 0;
    this.#data = new Float32Array(0);
    if (this.#sq) this.#sq.codes = new Uint8Array(0);
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
    if (this.#sq)
      throw nativeError(
        ErrorCode.UNSUPPORTED,
        'vectors() needs float32 storage; a uint8 flat index keeps one-byte codes (use reconstruct(ids))',
      );
    const used = this.#count * this.dim;
    // The spare capacity add() grew is dropped first, as the addon does, while nothing points into it.
    if (!this.#pinned && this.#data.length !== used) this.#data = this.#data.slice(0, used);
    this.#pinned = true;
    return this.#data.subarray(0, used);
  }

  reconstruct(ids: BigInt64Array): Float32Array {
    checkIds(ids, 'ids');
    this.#live();
    if (this.kind !== 'flat')
      throw nativeError(
        ErrorCode.UNSUPPORTED,
        `reconstruct needs a flat index; a ${this.kind} index is not read back by hark`,
      );
    // Every id is checked before any row is read, so a bad one returns nothing rather than part of the rows.
    const count = BigInt(this.#count);
    for (const id of ids)
      if (id < 0n || id >= count)
        throw nativeError(ErrorCode.ARG, `id (${id}) is not in [0, ${this.#count})`, 'range');
    const d = this.dim;
    const out = new Float32Array(ids.length * d);
    const bank = this.#bank();
    for (let i = 0; i < ids.length; i++) {
      const row = Number(ids[i]);
      if (typeof bank === 'function') bank(row, out, i * d);
      else out.set(bank.subarray(row * d, (row + 1) * d), i * d);
    }
    return out;
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
    // A uint8 slice also decodes the bank once, about one query's work, which the slice leaves room for.
    const perSlice = Math.floor(SLICE_FLOPS / Math.max(1, 2 * this.#count * this.dim)) - (this.#sq ? 1 : 0);
    const slice = Math.max(1, perSlice);
    const [bank, count] = [this.#bank(), this.#count]; // adds during the search do not change its answer
    for (let q0 = 0; q0 < n; q0 += slice) {
      await nextTurn();
      exactSearch(
        bank,
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
      sq: this.#sq,
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
      this.#bank(),
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

  /**
   * What exactSearch reads: the floats, or for uint8 storage a decoder over the codes and ranges held now
   * (a later add that grows the codes, or a reset, replaces them and leaves this decoder's unchanged).
   */
  #bank(): Float32Array | RowDecoder {
    const sq = this.#sq;
    if (!sq) return this.#data;
    const { codes, vmin, vdiff } = sq;
    const dim = this.dim;
    if (!vmin || !vdiff) return () => {}; // untrained: it holds no rows, so no row is ever decoded
    return (row, out, offset) => decodeRow(codes, row, dim, vmin, vdiff, out, offset);
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
