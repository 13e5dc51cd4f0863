/**
 * Blocks of quantised columns to at most `maxColumns` columns over `[from, to)`, keeping the max per mel band
 * (as the reduced tier does, so a peak stays visible at every zoom). Pure: no database, no clock.
 */
import type { HistoryBlock } from '../store/history.repository.js';

export interface Downsampled {
  /** Start of each column, ms, ascending; columns with no data are left out. */
  times: number[];
  /** Width of each column, ms. */
  columnMs: number;
  nMels: number;
  dbRange: [number, number];
  anomalyScale: number;
  /** `[times.length, nMels]` bytes, frame-major. */
  spectrogram: Uint8Array;
  anomaly: Uint8Array;
}

/**
 * The columns of `blocks` (time-ordered, non-overlapping) in `[from, to)`. Only blocks with the layout
 * (mel bands, byte scales) of the newest block are used: columns of another layout cannot share a picture.
 * When at most `maxColumns` columns fall in the range they are returned as stored; otherwise the range is cut
 * into `maxColumns` equal columns, each the max of the stored columns that start in it.
 */
export function downsample(
  blocks: readonly HistoryBlock[],
  from: number,
  to: number,
  maxColumns: number,
): Downsampled | null {
  const last = blocks.at(-1);
  if (!last) return null;
  const m = last.nMels;
  const same = (b: HistoryBlock) =>
    b.nMels === m &&
    b.dbRange[0] === last.dbRange[0] &&
    b.dbRange[1] === last.dbRange[1] &&
    b.anomalyScale === last.anomalyScale;
  const used = blocks.filter(same);
  let count = 0;
  for (const b of used) {
    const [a, z] = span(b, from, to);
    count += Math.max(0, z - a);
  }
  const base = {
    nMels: m,
    dbRange: [last.dbRange[0], last.dbRange[1]] as [number, number],
    anomalyScale: last.anomalyScale,
  };
  if (count <= maxColumns) {
    const spectrogram = new Uint8Array(count * m);
    const anomaly = new Uint8Array(count * m);
    const times: number[] = [];
    for (const b of used) {
      const [a, z] = span(b, from, to);
      if (z <= a) continue;
      spectrogram.set(b.spectrogram.subarray(a * m, z * m), times.length * m);
      anomaly.set(b.anomaly.subarray(a * m, z * m), times.length * m);
      for (let i = a; i < z; i++) times.push(b.t0 + i * b.hopMs);
    }
    return { ...base, times, columnMs: last.hopMs, spectrogram, anomaly };
  }
  const columnMs = (to - from) / maxColumns;
  const spec = new Uint8Array(maxColumns * m);
  const anom = new Uint8Array(maxColumns * m);
  const times: number[] = [];
  let k = -1;
  let o = -m;
  for (const b of used) {
    const [a, z] = span(b, from, to);
    const s = b.spectrogram;
    const an = b.anomaly;
    for (let i = a; i < z; i++) {
      const kk = Math.min(maxColumns - 1, Math.floor((b.t0 + i * b.hopMs - from) / columnMs));
      if (kk !== k) {
        k = kk;
        o = times.length * m;
        times.push(from + k * columnMs);
      }
      const src = i * m;
      for (let j = 0; j < m; j++) {
        if (s[src + j] > spec[o + j]) spec[o + j] = s[src + j];
        if (an[src + j] > anom[o + j]) anom[o + j] = an[src + j];
      }
    }
  }
  const n = times.length * m;
  return { ...base, times, columnMs, spectrogram: spec.slice(0, n), anomaly: anom.slice(0, n) };
}

/** The indices `[a, z)` of the block's columns that start in `[from, to)`. */
function span(b: HistoryBlock, from: number, to: number): [number, number] {
  const a = Math.max(0, Math.ceil((from - b.t0) / b.hopMs - 1e-9));
  const z = Math.min(b.nColumns, Math.ceil((to - b.t0) / b.hopMs - 1e-9));
  return [a, z];
}
