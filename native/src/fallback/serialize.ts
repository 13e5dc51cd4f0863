import { ErrorCode, nativeError } from '../errors.js';
import type { Metric } from '../types.js';

/**
 * Bytes of the TypeScript fallback's indexes. Flat indexes use FAISS's own IndexFlat layout (fourcc
 * 'IxF2' / 'IxFI', index header, float codes), so a flat memory bank moves between the backends both ways.
 * FAISS's HNSW and IVF layouts hold structures the fallback does not build, so its HNSW and IVF indexes
 * (exact in this backend) use a small container of their own, 'HRKT' version 1, which only it reads.
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
  /** count * dim floats. */
  data: Float32Array;
  /** IVF only: the id of each row. */
  ids: BigInt64Array | null;
}

const METRIC_IP = 0; // faiss::METRIC_INNER_PRODUCT
const METRIC_L2 = 1; // faiss::METRIC_L2
const FLAT_HEADER = 4 + 4 + 8 + 8 + 8 + 1 + 4 + 8;
const HRKT_HEADER = 4 + 4 + 4 + 4 + 8 + 5 * 4;
const KINDS = ['flat', 'hnsw', 'ivf'] as const;

export function writeState(s: FallbackState): Uint8Array {
  const vectorBytes = s.count * s.dim * 4;
  if (s.kind === 'flat') {
    const out = new Uint8Array(FLAT_HEADER + vectorBytes);
    const v = new DataView(out.buffer);
    out.set(new TextEncoder().encode(s.metric === 'ip' ? 'IxFI' : 'IxF2'), 0);
    v.setInt32(4, s.dim, true);
    v.setBigInt64(8, BigInt(s.count), true);
    v.setBigInt64(16, 1n << 20n, true); // two dummy fields FAISS writes as 1 << 20
    v.setBigInt64(24, 1n << 20n, true);
    v.setUint8(32, 1);
    v.setInt32(33, s.metric === 'ip' ? METRIC_IP : METRIC_L2, true);
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

/** Parses bytes written by writeState or by FAISS for an IndexFlat; `what` names the source in errors. */
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
    if (metric !== METRIC_L2 && metric !== METRIC_IP)
      throw nativeError(
        ErrorCode.UNSUPPORTED,
        `${what}: the TypeScript fallback supports only the l2 and ip metrics (FAISS metric ${metric})`,
      );
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
    };
  }
  const printable = /^[\x20-\x7e]{4}$/.test(fourcc) ? ` ("${fourcc}")` : '';
  throw corrupt(
    `index type 0x${v.getUint32(0, true).toString(16)}${printable} not readable by the TypeScript fallback (it reads FAISS Flat indexes and its own HNSW/IVF files)`,
  );
}
