/**
 * The backbone's input scaling, learned from the training clips. With `standardiseBins` each mel bin is
 * standardised with its training mean and standard deviation (the backbone then sees deviations from the
 * normal spectrum, as the per-bin z-score baseline does, instead of the machine's own spectrum); the
 * `dbPercentiles` of the (standardised) training values are then mapped to the backbone's input range.
 */
import type { DbRange } from '../backbones/index.js';
import type { DetectorConfig } from './config.js';
import type { Spectrogram } from './types.js';

/**
 * How a window's dB values become the backbone's input: optionally standardised per mel bin with the training
 * mean and standard deviation (the backbone then sees deviations from the normal spectrum, as the z-score
 * baseline does), then `range` (training percentiles of those values) is mapped to the input range.
 */
export interface InputScaling {
  range: DbRange;
  /** Per-mel-bin training mean and standard deviation (dB), or null when not standardised. */
  binMean: number[] | null;
  binStd: number[] | null;
}

/** Standardises `x` (`[nMels, frames]`) per row in place with `scaling`'s bin statistics (no-op without them). */
export function standardiseBins(
  x: Float32Array,
  nMels: number,
  scaling: Pick<InputScaling, 'binMean' | 'binStd'>,
): Float32Array {
  const { binMean, binStd } = scaling;
  if (!binMean || !binStd) return x;
  const frames = x.length / nMels;
  for (let m = 0; m < nMels; m++) {
    const [mu, inv] = [binMean[m], 1 / binStd[m]];
    for (let t = m * frames; t < (m + 1) * frames; t++) x[t] = (x[t] - mu) * inv;
  }
  return x;
}

/**
 * Gain invariance: subtracts the median of all cells of `window` (dB) in place, or of a copy when `copy`. A gain
 * change moves every cell by the same number of dB and the median with them; an event or a lost band confined
 * to part of the window moves the median little. Applying it twice changes nothing (the median is then 0).
 */
export function removeWindowLevel(window: Float32Array, copy = false): Float32Array {
  const x = copy ? window.slice() : window;
  const level = median(x);
  for (let i = 0; i < x.length; i++) x[i] -= level;
  return x;
}

/**
 * Tilt invariance: removes the straight line (least squares over mel bins) through the per-bin median levels of
 * `window` (`[nMels, frames]` dB), in place or on a copy. A microphone's tilt or placement changes the balance of
 * low and high frequencies smoothly; an event, a tone or a lost band is local and stays.
 */
export function removeWindowTilt(window: Float32Array, nMels: number, copy = false): Float32Array {
  const x = copy ? window.slice() : window;
  const frames = x.length / nMels;
  const level = new Float64Array(nMels);
  for (let m = 0; m < nMels; m++) level[m] = median(x.subarray(m * frames, (m + 1) * frames));
  const mid = (nMels - 1) / 2;
  let [sxy, sxx, sy] = [0, 0, 0];
  for (let m = 0; m < nMels; m++) {
    sxy += (m - mid) * level[m];
    sxx += (m - mid) ** 2;
    sy += level[m];
  }
  const [slope, mean] = [sxx > 0 ? sxy / sxx : 0, sy / nMels];
  for (let m = 0; m < nMels; m++) {
    const line = mean + slope * (m - mid);
    for (let t = m * frames; t < (m + 1) * frames; t++) x[t] -= line;
  }
  return x;
}

/** Reused by `median` (the event loop runs one at a time): 128 bins a window each took a sorted copy. */
let medianScratch = new Float32Array(0);

/**
 * Median of `x` (the lower middle value for an even length): the value a sorted copy has at `(n - 1) >> 1`,
 * found by selection in a reused scratch instead of sorting a new copy (the window's levelling and level rise
 * take 128 medians a window). The same number, bit for bit, -0 and +0 included; an `x` with a NaN is sorted as
 * before (a sort puts NaN last).
 */
export function median(x: Float32Array): number {
  const n = x.length;
  if (n === 0) return 0;
  if (medianScratch.length < n) medianScratch = new Float32Array(Math.max(n, 2 * medianScratch.length));
  const s = medianScratch;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v !== v) return Float32Array.from(x).sort()[(n - 1) >> 1];
    s[i] = v;
  }
  const k = (n - 1) >> 1;
  const m = selectKth(s, n, k);
  if (m !== 0) return m;
  // A sort puts -0 before +0 (selection cannot tell them apart): the k-th is -0 when more than k values are
  // below zero or are -0.
  let below = 0;
  for (let i = 0; i < n; i++) if (x[i] < 0 || Object.is(x[i], -0)) below++;
  return below > k ? -0 : 0;
}

/**
 * The k-th smallest of `s[0..n)` (Hoare's selection, middle pivot), reordering `s`. Equal values are the same
 * number, so the result is the sorted copy's `k`-th value; of -0 and +0, which compare equal, it may give
 * either sign.
 */
function selectKth(s: Float32Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = s[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (s[i] < pivot) i++;
      while (s[j] > pivot) j--;
      if (i <= j) {
        const t = s[i];
        s[i] = s[j];
        s[j] = t;
        i++;
        j--;
      }
    }
    // [lo, j] <= pivot <= [i, hi]; between them (j < m < i) every value equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return s[k];
  }
  return s[k];
}

/**
 * The window as the scaling sees it: its tilt (`tiltInvariance`) or its level (`gainInvariance`) removed, on a
 * copy; `window` itself when neither is on.
 */
export function levelWindow(
  window: Float32Array,
  nMels: number,
  config: Pick<DetectorConfig, 'gainInvariance' | 'tiltInvariance'>,
): Float32Array {
  if (config.tiltInvariance) return removeWindowTilt(window, nMels, true);
  if (config.gainInvariance) return removeWindowLevel(window, true);
  return window;
}

/**
 * A window as the backbone and the context memory see it (a new array): levelled (`levelWindow`), then
 * standardised per mel bin with the training statistics (`standardiseBins`).
 */
export function standardisedWindow(
  window: Float32Array,
  nMels: number,
  config: Pick<DetectorConfig, 'gainInvariance' | 'tiltInvariance'>,
  scaling: Pick<InputScaling, 'binMean' | 'binStd'>,
): Float32Array {
  const levelled = levelWindow(window, nMels, config);
  return standardiseBins(levelled === window ? window.slice() : levelled, nMels, scaling);
}

/** Smallest per-bin standard deviation used (dB), so near-constant bins do not blow up. */
export const MIN_BIN_STD = 0.5;

/** Value at percentile `p` (0-100) of `x`, from at most ~1M evenly strided samples. */
export function percentile(x: Float32Array, p: number): number {
  const stride = Math.max(1, Math.floor(x.length / 1_000_000));
  const s = new Float32Array(Math.ceil(x.length / stride));
  for (let i = 0, j = 0; i < x.length; i += stride, j++) s[j] = x[i];
  s.sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.round((p / 100) * (s.length - 1))))];
}

/** Learns the input scaling of `config` from the training spectrograms. */
export function learnInputScaling(
  specs: readonly Spectrogram[],
  config: Pick<DetectorConfig, 'dbPercentiles' | 'standardiseBins'>,
): InputScaling {
  const nMels = specs[0].nMels;
  let binMean: number[] | null = null;
  let binStd: number[] | null = null;
  if (config.standardiseBins) {
    const sum = new Float64Array(nMels);
    const sq = new Float64Array(nMels);
    let frames = 0;
    for (const s of specs) {
      frames += s.nFrames;
      for (let m = 0; m < nMels; m++) {
        for (let t = m * s.nFrames; t < (m + 1) * s.nFrames; t++)
          [sum[m], sq[m]] = [sum[m] + s.data[t], sq[m] + s.data[t] ** 2];
      }
    }
    binMean = Array.from(sum, (v) => v / frames);
    binStd = Array.from(sq, (v, m) =>
      Math.max(MIN_BIN_STD, Math.sqrt(Math.max(0, v / frames - binMean![m] ** 2))),
    );
  }
  const all = new Float32Array(specs.reduce((n, s) => n + s.data.length, 0));
  let o = 0;
  for (const s of specs) {
    all.set(s.data, o);
    standardiseBins(all.subarray(o, o + s.data.length), nMels, { binMean, binStd });
    o += s.data.length;
  }
  const range: DbRange = {
    min: percentile(all, config.dbPercentiles[0]),
    max: percentile(all, config.dbPercentiles[1]),
  };
  if (!(range.max > range.min)) {
    throw new Error(
      `training clips are silent or constant (${range.min} dB); fit on recordings of the machine`,
    );
  }
  return { range, binMean, binStd };
}
