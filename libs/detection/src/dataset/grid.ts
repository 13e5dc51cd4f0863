/**
 * The time-frequency grid of a log-mel spectrogram and the pixel ground truth on it (DATASET.md): cell
 * (mel bin m, frame t) is anomalous when the frame's centre time lies in [onset, offset] and the mel bin's
 * centre frequency lies in [lowHz, highHz] of some event.
 *
 * The mel scale is libs/dsp's (the one the spectrograms are computed with), so the grid and the
 * spectrogram agree by construction.
 */
import { hzToMel as dspHzToMel, melCentreFrequencies, melToHz as dspMelToHz } from '@hark/dsp';
import type { GroundTruthEvent } from './ground-truth.js';

const scale = (htk: boolean) => (htk ? 'htk' : 'slaney');

/** Hz to mel; Slaney by default, HTK (`2595 log10(1 + f / 700)`) when `htk`. */
export function hzToMel(hz: number, htk = false): number {
  return dspHzToMel(hz, scale(htk));
}

/** Mel to Hz, inverse of `hzToMel`. */
export function melToHz(mel: number, htk = false): number {
  return dspMelToHz(mel, scale(htk));
}

/** `n` frequencies in Hz evenly spaced on the mel scale from fMin to fMax inclusive (`librosa.mel_frequencies`). */
export function melFrequencies(n: number, fMin: number, fMax: number, htk = false): Float64Array {
  const [lo, hi] = [hzToMel(fMin, htk), hzToMel(fMax, htk)];
  return Float64Array.from({ length: n }, (_, k) =>
    melToHz(n === 1 ? lo : lo + ((hi - lo) * k) / (n - 1), htk),
  );
}

/**
 * Centre frequencies in Hz of the `nMels` triangular mel filters between fMin and fMax: the peaks of
 * `librosa.filters.mel`, i.e. `mel_frequencies(nMels + 2, fMin, fMax)[1:-1]`.
 *
 * @param fMax - upper edge in Hz, usually sampleRate / 2.
 */
export function melBinCentres(nMels: number, fMin: number, fMax: number, htk = false): Float64Array {
  if (!(Number.isInteger(nMels) && nMels > 0)) throw new Error(`nMels (${nMels}) must be a positive integer`);
  if (!(fMin >= 0 && fMax > fMin))
    throw new Error(`fMin (${fMin}) and fMax (${fMax}) must satisfy 0 <= fMin < fMax`);
  return melCentreFrequencies({ nMels, fMin, fMax, melScale: scale(htk) });
}

/** STFT framing: window `nFft` samples, hop `hopLength` samples, at `sampleRate` Hz. */
export interface Framing {
  nFft: number;
  hopLength: number;
  sampleRate: number;
}

function checkFraming({ nFft, hopLength, sampleRate }: Framing): void {
  if (!(Number.isInteger(nFft) && nFft > 0)) throw new Error(`nFft (${nFft}) must be a positive integer`);
  if (!(Number.isInteger(hopLength) && hopLength > 0))
    throw new Error(`hopLength (${hopLength}) must be > 0`);
  if (!(sampleRate > 0)) throw new Error(`sampleRate (${sampleRate}) must be > 0 Hz`);
}

/** Number of whole frames of an `nSamples` signal with `center = false`: 1 + floor((n - nFft) / hop), or 0. */
export function frameCount(nSamples: number, framing: Framing): number {
  checkFraming(framing);
  return nSamples < framing.nFft ? 0 : 1 + Math.floor((nSamples - framing.nFft) / framing.hopLength);
}

/**
 * Centre times in seconds of `nFrames` frames with `center = false`: frame t covers samples
 * [t * hop, t * hop + nFft), so its centre is (t * hop + nFft / 2) / sampleRate.
 */
export function frameCentreTimes(nFrames: number, framing: Framing): Float64Array {
  checkFraming(framing);
  const { nFft, hopLength, sampleRate } = framing;
  return Float64Array.from({ length: nFrames }, (_, t) => (t * hopLength + nFft / 2) / sampleRate);
}

/** A spectrogram grid: one centre time per frame (s), one centre frequency per mel bin (Hz). */
export interface SpectrogramGrid {
  frameTimes: ArrayLike<number>;
  melFrequencies: ArrayLike<number>;
}

/**
 * Pixel ground truth on a spectrogram grid.
 *
 * @returns Uint8Array, row-major `[nMels, nFrames]` (index m * nFrames + t), 1 = anomalous cell. Bounds are
 *   inclusive; no events gives an all-zero mask.
 */
export function groundTruthMask(events: readonly GroundTruthEvent[], grid: SpectrogramGrid): Uint8Array {
  const { frameTimes, melFrequencies: freqs } = grid;
  const nFrames = frameTimes.length;
  const mask = new Uint8Array(freqs.length * nFrames);
  for (const e of events) {
    for (let m = 0; m < freqs.length; m++) {
      if (freqs[m] < e.lowHz || freqs[m] > e.highHz) continue;
      for (let t = 0; t < nFrames; t++) {
        if (frameTimes[t] >= e.onset && frameTimes[t] <= e.offset) mask[m * nFrames + t] = 1;
      }
    }
  }
  return mask;
}
