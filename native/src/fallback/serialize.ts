import { ErrorCode, nativeError } from '../errors.js';
import type { Metric } from '../types.js';
import { QT_8BIT, type Sq8State } from './sq8.js';

/**
 * Bytes of the TypeScript fallback's indexes. Flat indexes use FAISS 1.7.3's own layouts, so a flat memory
 * bank moves between the backends both ways: float32 storage is an IndexFlat (fourcc 'IxF2' / 'IxFI', index
 * header, float codes), uint8 storage an IndexScalarQuantizer (fourcc 'IxSQ', index header, the
 * ScalarQuantizer's qtype, rangestat, rangestat_arg, d, code_size and trained ranges, then the byte codes).
 * FAISS's HNSW and IVF layouts hold structures the fallback does not build, so its HNSW and IVF indexes
 * (exact in this backend) use a small container of their own, 'HRKT' version 1, which only it reads.
 * Everything is little-endian, as FAISS writes it on every platform hark runs on.
 */

export interface FallbackParams {
  M: number;
  efConstruction: number;
  efSearch: number;
  nlist: number;
  nprobe: number;
}

export interface FallbackState {
  kind: 'flat' | 'hnsw' | 'ivf';
  dim: number;
  metric: Metric;
  trained: boolean;
  params: FallbackParams;
  count: number;
  /** count * dim floats (may be longer); empty for a uint8 flat index, whose vectors are in `sq`. */
  data: Float32Array;
  /** IVF only: the id of each row. */
  ids: BigInt64Array | null;
  /** A uint8 flat index's ranges and codes; null for every other index. */
  sq: Sq8State | null;
}

const METRIC_IP = 0; // faiss::METRIC_INNER_PRODUCT
const METRIC_L2 = 1; // faiss::METRIC_L2
/** The fourcc, then write_index_header: d, ntotal, two dummies, is_trained, metric_type. */
const INDEX_HEADER = 4 + 4 + 8 + 8 + 8 + 1 + 4;
const FLAT_HEADER = INDEX_HEADER + 8;
/** The index header, then qtype, rangestat, rangestat_arg, d and code_size (write_ScalarQuantizer). */
const SQ_HEADER = INDEX_HEADER + 4 + 4 + 4 + 8 + 8;
const HRKT_HEADER = 4 + 4 + 4 + 4 + 8 + 5 * 4;
const KINDS = ['flat', 'hnsw', 'ivf'] as const;

/** FAISS's write_index_header for a flat index of `s`, with its fourcc, into `v` from byte 0. */
function writeIndexHeader(out: Uint8Array, v: DataView, fourcc: string, s: FallbackState): void {
  out.set(new TextEncoder().encode(fourcc), 0);
  v.setInt32(4, s.dim, true);
  v.setBigInt64(8, BigInt(s.count), true);
  v.setBigInt64(16, 1n << 20n, true); // two dummy fields FAISS writes as 1 << 20
  v.setBigInt64(24, 1n << 20n, true);
  v.setUint8(32, s.trained ? 1 : 0);
  v.setInt32(33, s.metric === 'ip' ? METRIC_IP : METRIC_L2, true);
}

export function writeState(s: FallbackState): Uint8Array {
  const vectorBytes = s.count * s.dim * 4;
  if (s.kind === 'flat' && s.sq) {
    const { sq } = s;
    const ranges = sq.vmin && sq.vdiff ? 2 * s.dim : 0;
    const codesAt = SQ_HEADER + 8 + 4 * ranges;
    const codeBytes = s.count * s.dim;
    const out = new Uint8Array(codesAt + 8 + codeBytes);
    const v = new DataView(out.buffer);
    writeIndexHeader(out, v, 'IxSQ', s);
    v.setInt32(INDEX_HEADER, QT_8BIT, true);
    v.setInt32(INDEX_HEADER + 4, sq.rangestat, true);
    v.setFloat32(INDEX_HEADER + 8, sq.rangestatArg, true);
    v.setBigUint64(INDEX_HEADER + 12, BigInt(s.dim), true); // the quantizer's d
    v.setBigUint64(INDEX_HEADER + 20, BigInt(s.dim), true); // code_size: one byte per dimension
    // `trained` is one vector of 2d floats, every vmin and then every vdiff; empty before train.
    v.setBigUint64(SQ_HEADER, BigInt(ranges), true);
    if (sq.vmin && sq.vdiff)
      for (let i = 0; i < s.dim; i++) {
        v.setFloat32(SQ_HEADER + 8 + 4 * i, sq.vmin[i], true);
        v.setFloat32(SQ_HEADER + 8 + 4 * (s.dim + i), sq.vdiff[i], true);
      }
    v.setBigUint64(codesAt, BigInt(codeBytes), true);
    out.set(sq.codes.subarray(0, codeBytes), codesAt + 8);
    return out;
  }
  if (s.kind === 'flat') {
    const out = new Uint8Array(FLAT_HEADER + vectorBytes);
    const v = new DataView(out.buffer);
    writeIndexHeader(out, v, s.metric === 'ip' ? 'IxFI' : 'IxF2', s);
    v.setBigUint64(37, BigInt(s.count * s.dim), true); // codes size in floats
    out.set(new Uint8Array(s.data.buffer, s.data.byteOffset, vectorBytes), FLAT_HEADER);
    return out;
  }
  const out = new Uint8Array(HRKT_HEADER + s.count * 8 + vectorBytes);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode('HRKT'), 0);
  v.setUint32(4, 1, true);
  out.set([KINDS.indexOf(s.kind), s.metric === 'ip' ? 1 : 0, s.trained ? 1 : 0, 0], 8);
  v.setUint32(12, s.dim, true);
  v.setBigUint64(16, BigInt(s.count), true);
  [s.params.M, s.params.efConstruction, s.params.efSearch, s.params.nlist, s.params.nprobe].forEach((p, i) =>
    v.setUint32(24 + 4 * i, p, true),
  );
  for (let i = 0; i < s.count; i++) v.setBigInt64(HRKT_HEADER + 8 * i, s.ids ? s.ids[i] : BigInt(i), true);
  out.set(new Uint8Array(s.data.buffer, s.data.byteOffset, vectorBytes), HRKT_HEADER + 8 * s.count);
  return out;
}

/**
 * Parses bytes written by writeState or by FAISS for an IndexFlat or an 8-bit IndexScalarQuantizer; `what`
 * names the source in errors.
 */
export function readState(bytes: Uint8Array, defaults: FallbackParams, what = 'buffer'): FallbackState {
  const corrupt = (why: string) =>
    nativeError(ErrorCode.CORRUPT, `${what} is not a FAISS index or is damaged: ${why}`);
  if (bytes.length < 4) throw corrupt('truncated: ended before the index was complete');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fourcc = String.fromCharCode(...bytes.subarray(0, 4));
  const need = (n: number) => {
    if (bytes.length < n) throw corrupt('truncated: ended before the index was complete');
    if (bytes.length > n) throw corrupt(`${bytes.length - n} bytes left after the index`);
  };
  const unsupportedMetric = (metric: number) => {
    if (metric !== METRIC_L2 && metric !== METRIC_IP)
      throw nativeError(
        ErrorCode.UNSUPPORTED,
        `${what}: the TypeScript fallback supports only the l2 and ip metrics (FAISS metric ${metric})`,
      );
  };
  const copyFloats = (offset: number, n: number) => {
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + 4 * n));
    return data;
  };
  if (fourcc === 'IxF2' || fourcc === 'IxFI') {
    if (bytes.length < FLAT_HEADER) throw corrupt('truncated: ended before the index was complete');
    const dim = v.getInt32(4, true);
    const count = Number(v.getBigInt64(8, true));
    const metric = v.getInt32(33, true);
    const size = Number(v.getBigUint64(37, true));
    if (dim < 1 || count < 0 || size !== count * dim)
      throw corrupt(`inconsistent header (d ${dim}, ntotal ${count}, ${size} floats)`);
    unsupportedMetric(metric);
    need(FLAT_HEADER + 4 * size);
    const data = copyFloats(FLAT_HEADER, size);
    return {
      kind: 'flat',
      dim,
      metric: metric === METRIC_IP ? 'ip' : 'l2',
      trained: true,
      params: defaults,
      count,
      data,
      ids: null,
      sq: null,
    };
  }
  if (fourcc === 'IxSQ') {
    if (bytes.length < SQ_HEADER + 8) throw corrupt('truncated: ended before the index was complete');
    const dim = v.getInt32(4, true);
    const count = Number(v.getBigInt64(8, true));
    const metric = v.getInt32(33, true);
    if (dim < 1 || count < 0 || !Number.isSafeInteger(count * dim))
      throw corrupt(`inconsistent header (d ${dim}, ntotal ${count})`);
    unsupportedMetric(metric);
    const qtype = v.getInt32(INDEX_HEADER, true);
    if (qtype !== QT_8BIT)
      throw nativeError(
        ErrorCode.UNSUPPORTED,
        `${what}: the TypeScript fallback reads only 8-bit scalar quantizers (SQ8, FAISS qtype ${QT_8BIT}), not qtype ${qtype}`,
      );
    const rangestat = v.getInt32(INDEX_HEADER + 4, true);
    const rangestatArg = v.getFloat32(INDEX_HEADER + 8, true);
    const sqDim = v.getBigUint64(INDEX_HEADER + 12, true);
    const codeSize = v.getBigUint64(INDEX_HEADER + 20, true);
    if (sqDim !== BigInt(dim) || codeSize !== BigInt(dim))
      throw corrupt(
        `inconsistent scalar quantizer (index d ${dim}, quantizer d ${sqDim}, code_size ${codeSize})`,
      );
    const nRanges = v.getBigUint64(SQ_HEADER, true);
    if (nRanges !== 0n && nRanges !== BigInt(2 * dim))
      throw corrupt(`${nRanges} trained values for d ${dim} (0 or 2d expected)`);
    const ranges = Number(nRanges);
    const codesAt = SQ_HEADER + 8 + 4 * ranges;
    if (bytes.length < codesAt + 8) throw corrupt('truncated: ended before the index was complete');
    const nCodes = v.getBigUint64(codesAt, true);
    if (nCodes !== BigInt(count) * BigInt(dim))
      throw corrupt(`${nCodes} code bytes for ntotal ${count} at d ${dim}`);
    need(codesAt + 8 + count * dim);
    // FAISS trains the ranges and sets is_trained together, and adds only to a trained quantizer.
    const trained = ranges > 0;
    if (bytes[32] !== (trained ? 1 : 0) || (!trained && count > 0))
      throw corrupt(`is_trained ${bytes[32]} with ${ranges} trained values and ntotal ${count}`);
    const values = copyFloats(SQ_HEADER + 8, ranges);
    if (!values.every(Number.isFinite)) throw corrupt('a trained range is not finite');
    return {
      kind: 'flat',
      dim,
      metric: metric === METRIC_IP ? 'ip' : 'l2',
      trained,
      params: defaults,
      count,
      data: new Float32Array(0),
      ids: null,
      sq: {
        rangestat,
        rangestatArg,
        vmin: trained ? values.slice(0, dim) : null,
        vdiff: trained ? values.slice(dim) : null,
        codes: bytes.slice(codesAt + 8, codesAt + 8 + count * dim),
      },
    };
  }
  if (fourcc === 'HRKT') {
    if (bytes.length < HRKT_HEADER) throw corrupt('truncated: ended before the index was complete');
    const version = v.getUint32(4, true);
    const kind = KINDS[bytes[8]];
    if (version !== 1 || !kind || bytes[9] > 1)
      throw corrupt(`unknown HRKT version ${version} or kind ${bytes[8]}`);
    const dim = v.getUint32(12, true);
    const count = Number(v.getBigUint64(16, true));
    if (dim < 1 || !Number.isSafeInteger(count * dim))
      throw corrupt(`inconsistent header (d ${dim}, ntotal ${count})`);
    need(HRKT_HEADER + 8 * count + 4 * count * dim);
    const [M, efConstruction, efSearch, nlist, nprobe] = [0, 1, 2, 3, 4].map((i) =>
      v.getUint32(24 + 4 * i, true),
    );
    const ids = new BigInt64Array(count);
    for (let i = 0; i < count; i++) ids[i] = v.getBigInt64(HRKT_HEADER + 8 * i, true);
    const data = copyFloats(HRKT_HEADER + 8 * count, count * dim);
    return {
      kind,
      dim,
      metric: bytes[9] === 1 ? 'ip' : 'l2',
      trained: bytes[10] === 1,
      params: { M, efConstruction, efSearch, nlist, nprobe },
      count,
      data,
      ids: kind === 'ivf' ? ids : null,
      sq: null,
    };
  }
  const printable = /^[\x20-\x7e]{4}$/.test(fourcc) ? ` ("${fourcc}")` : '';
  throw corrupt(
    `index type 0x${v.getUint32(0, true).toString(16)}${printable} not readable by the TypeScript fallback (it reads FAISS Flat and SQ8 indexes and its own HNSW/IVF files)`,
  );
}
