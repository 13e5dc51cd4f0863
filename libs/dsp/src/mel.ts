import type { MelScale } from './params.js';

const F_SP = 200 / 3; // Slaney: Hz per mel below 1 kHz
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP; // 15
const LOG_STEP = Math.log(6.4) / 27; // Slaney: log-spaced above 1 kHz

/** Hz to mel on Slaney's scale (linear below 1 kHz, logarithmic above; librosa's default) or HTK's. */
export function hzToMel(hz: number, scale: MelScale = 'slaney'): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + hz / 700);
  return hz < MIN_LOG_HZ ? hz / F_SP : MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP;
}

/** Inverse of {@link hzToMel}. */
export function melToHz(mel: number, scale: MelScale = 'slaney'): number {
  if (scale === 'htk') return 700 * (10 ** (mel / 2595) - 1);
  return mel < MIN_LOG_MEL ? mel * F_SP : MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL));
}

export interface MelFilterBankOptions {
  /** Sample rate in Hz. */
  sampleRate: number;
  /** FFT size; the filters cover nFft / 2 + 1 bins at k * sampleRate / nFft Hz. */
  nFft: number;
  nMels: number;
  /** Lower edge of the first filter, Hz. */
  fMin: number;
  /** Upper edge of the last filter, Hz. */
  fMax: number;
  melScale: MelScale;
}

/**
 * Triangular mel filters with Slaney area normalisation (each filter scaled by 2 / its width in Hz), as
 * librosa.filters.mel(norm='slaney') and torchaudio's melscale_fbanks(norm='slaney'). The filter edges are
 * nMels + 2 points equally spaced in mel between fMin and fMax.
 *
 * @returns weights `[nMels, nFft / 2 + 1]` row-major; row 0 is the lowest band.
 * @throws RangeError naming the first empty filter when nMels is too large for nFft (or the band too narrow).
 */
export function melFilterBank(o: MelFilterBankOptions): Float64Array {
  const nBins = (o.nFft >> 1) + 1;
  const lo = hzToMel(o.fMin, o.melScale);
  const hi = hzToMel(o.fMax, o.melScale);
  const edges = new Float64Array(o.nMels + 2);
  for (let i = 0; i < edges.length; i++) edges[i] = melToHz(lo + ((hi - lo) * i) / (o.nMels + 1), o.melScale);
  const fb = new Float64Array(o.nMels * nBins);
  for (let m = 0; m < o.nMels; m++) {
    const [left, centre, right] = [edges[m], edges[m + 1], edges[m + 2]];
    const norm = 2 / (right - left);
    let any = false;
    for (let k = 0; k < nBins; k++) {
      const f = (k * o.sampleRate) / o.nFft;
      const w = Math.max(0, Math.min((f - left) / (centre - left), (right - f) / (right - centre)));
      if (w > 0) {
        fb[m * nBins + k] = w * norm;
        any = true;
      }
    }
    if (!any) {
      throw new RangeError(
        `nMels (${o.nMels}) is too many for nFft (${o.nFft}) between fMin (${o.fMin}) and fMax (${o.fMax}) Hz: ` +
          `mel band ${m} (${left.toFixed(1)}-${right.toFixed(1)} Hz) contains no FFT bin ` +
          `(bins are ${(o.sampleRate / o.nFft).toFixed(2)} Hz apart); use fewer mels or a larger nFft`,
      );
    }
  }
  return fb;
}

/** Centre frequency in Hz of each mel band (the peak of its triangle), lowest first. */
export function melCentreFrequencies(o: Omit<MelFilterBankOptions, 'nFft' | 'sampleRate'>): Float64Array {
  const lo = hzToMel(o.fMin, o.melScale);
  const hi = hzToMel(o.fMax, o.melScale);
  const out = new Float64Array(o.nMels);
  for (let m = 0; m < o.nMels; m++) out[m] = melToHz(lo + ((hi - lo) * (m + 1)) / (o.nMels + 1), o.melScale);
  return out;
}

/**
 * The non-zero runs of a dense filterbank: filter m has weights `weights[offset[m] .. offset[m + 1]]` for
 * bins `start[m] ..`. Applying it costs about 2 * nBins multiply-adds instead of nMels * nBins.
 */
export interface SparseFilterBank {
  nMels: number;
  nBins: number;
  start: Int32Array;
  offset: Int32Array;
  weights: Float64Array;
}

/** Compresses a dense `[nMels, nBins]` filterbank to its non-zero runs (zeros inside a run are kept). */
export function sparseFilterBank(dense: Float64Array, nMels: number, nBins: number): SparseFilterBank {
  const start = new Int32Array(nMels);
  const offset = new Int32Array(nMels + 1);
  const runs: number[] = [];
  for (let m = 0; m < nMels; m++) {
    const row = dense.subarray(m * nBins, (m + 1) * nBins);
    let first = row.findIndex((w) => w !== 0);
    let last = row.findLastIndex((w) => w !== 0);
    if (first < 0) [first, last] = [0, -1];
    start[m] = first;
    for (let k = first; k <= last; k++) runs.push(row[k]);
    offset[m + 1] = runs.length;
  }
  return { nMels, nBins, start, offset, weights: Float64Array.from(runs) };
}

/** `out[m] = sum_k fb[m, k] * power[k]` for one spectrum; allocates nothing. */
export function applyFilterBank(fb: SparseFilterBank, power: Float64Array, out: Float64Array): void {
  const { start, offset, weights } = fb;
  for (let m = 0; m < fb.nMels; m++) {
    let acc = 0;
    const end = offset[m + 1];
    for (let j = offset[m], k = start[m]; j < end; j++, k++) acc += weights[j] * power[k];
    out[m] = acc;
  }
}
