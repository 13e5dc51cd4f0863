/**
 * Tonal envelope: a new whine or hum is a narrow peak that stays, a few dB in one or two mel bins. An image
 * backbone's patch spans several bins and the context memory's frame vector a hundred, so both dilute it;
 * this part looks for it alone.
 *
 * A window's prominence per mel bin is its mean level over the window (dB) minus the median of the means of
 * the `PROMINENCE_RADIUS` bins on each side: peaks stand out, and gain, tilt and broadband changes cancel. The
 * envelope is the largest prominence each bin reached over the normal windows, widened by one bin each way (a
 * machine's harmonics move with its speed). A window's excess is how far its prominence rises above the
 * envelope, in dB; `marginDb` above it is the threshold of this part: window score (1 + excess) / (1 + margin),
 * so a score of 1 means "margin dB above anything normal near this band", and the map shows excess / margin
 * on each bin for the whole window.
 */

/** Bins on each side whose median a bin's level is compared with. */
export const PROMINENCE_RADIUS = 3;
/** Bins on each side the envelope is widened by. */
export const ENVELOPE_SPREAD = 1;

export interface TonalScores {
  /** (1 + largest excess in dB) / (1 + margin): 1 at the margin. */
  windowScore: number;
  /** `[nMels, windowFrames]`: excess / margin of each bin, the same in every frame. */
  map: Float32Array;
}

export class TonalEnvelope {
  #base: Float32Array;
  #envelope: Float32Array;

  /**
   * @param peaks - the largest prominence of each mel bin over the normal windows (dB, before widening).
   * @param marginDb - excess over the envelope that scores 1.
   */
  constructor(
    peaks: Float32Array,
    readonly marginDb: number,
  ) {
    if (!(marginDb > 0)) throw new RangeError(`tonalMarginDb (${marginDb}) must be > 0`);
    if (peaks.length < 1 || !peaks.every(Number.isFinite))
      throw new RangeError('tonal peaks must be finite dB values, one per mel bin');
    this.#base = peaks;
    this.#envelope = widen(peaks);
  }

  /** Envelope of the normal `windows` (each `[nMels, frames]` dB). */
  static fit(windows: readonly Float32Array[], nMels: number, marginDb: number): TonalEnvelope {
    if (windows.length === 0) throw new RangeError('the tonal envelope needs at least one normal window');
    return new TonalEnvelope(peaksOf(windows, nMels), marginDb);
  }

  get nMels(): number {
    return this.#base.length;
  }

  /** The fitted peaks (what a model directory saves). */
  get basePeaks(): Float32Array {
    return this.#base;
  }

  /** Raises the envelope to the peaks of `windows` (taught as normal); `[]` restores the fitted one. */
  teach(windows: readonly Float32Array[]): void {
    const peaks = this.#base.slice();
    if (windows.length) {
      const extra = peaksOf(windows, this.nMels);
      for (let m = 0; m < peaks.length; m++) peaks[m] = Math.max(peaks[m], extra[m]);
    }
    this.#envelope = widen(peaks);
  }

  /** Scores one window `[nMels, windowFrames]` (dB). */
  score(window: Float32Array): TonalScores {
    const nMels = this.nMels;
    const wf = window.length / nMels;
    if (!Number.isInteger(wf) || wf < 1)
      throw new RangeError(`window has ${window.length} values, not a multiple of nMels (${nMels})`);
    const p = prominence(window, nMels);
    const map = new Float32Array(nMels * wf);
    let worst = 0;
    for (let m = 0; m < nMels; m++) {
      const excess = Math.max(0, p[m] - this.#envelope[m]);
      worst = Math.max(worst, excess);
      map.fill(excess / this.marginDb, m * wf, (m + 1) * wf);
    }
    return { windowScore: (1 + worst) / (1 + this.marginDb), map };
  }
}

/** Prominence of each mel bin of `window` (`[nMels, frames]` dB): its mean minus its neighbours' median. */
export function prominence(window: Float32Array, nMels: number): Float32Array {
  const frames = window.length / nMels;
  const mean = new Float64Array(nMels);
  for (let m = 0; m < nMels; m++) {
    let s = 0;
    for (let t = m * frames; t < (m + 1) * frames; t++) s += window[t];
    mean[m] = s / frames;
  }
  const out = new Float32Array(nMels);
  const near: number[] = [];
  for (let m = 0; m < nMels; m++) {
    near.length = 0;
    for (let k = Math.max(0, m - PROMINENCE_RADIUS); k <= Math.min(nMels - 1, m + PROMINENCE_RADIUS); k++)
      if (k !== m) near.push(mean[k]);
    near.sort((a, b) => a - b);
    out[m] = near.length ? mean[m] - near[near.length >> 1] : 0;
  }
  return out;
}

function peaksOf(windows: readonly Float32Array[], nMels: number): Float32Array {
  const peaks = new Float32Array(nMels).fill(-Infinity);
  for (const w of windows) {
    const p = prominence(w, nMels);
    for (let m = 0; m < nMels; m++) peaks[m] = Math.max(peaks[m], p[m]);
  }
  return peaks;
}

function widen(peaks: Float32Array): Float32Array {
  const n = peaks.length;
  const out = new Float32Array(n);
  for (let m = 0; m < n; m++) {
    let v = -Infinity;
    for (let k = Math.max(0, m - ENVELOPE_SPREAD); k <= Math.min(n - 1, m + ENVELOPE_SPREAD); k++)
      v = Math.max(v, peaks[k]);
    out[m] = v;
  }
  return out;
}
