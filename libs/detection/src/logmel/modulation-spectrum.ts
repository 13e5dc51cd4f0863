/**
 * Modulation spectrum: how the level of each band rises and falls within a window. Two machine faults change
 * little in any one frame but much in the rhythm of the frames: bearing-like impacts (a resonance struck 8-20
 * times a second, a few dB in a band every few frames) and amplitude modulation (the whole machine swelling
 * 3-8 times a second). The backbone's patches and the context memory's 5-frame contexts compare short pieces
 * with normal ones and see each piece as normal; the envelope's spectrum over a whole window shows the rhythm
 * (the modulation spectrum of auditory models: Dau, Kollmeier and Kohlrausch, JASA 102(5), 1997).
 *
 * For each of `bands` groups of adjacent mel bins, the band's envelope is its mean level (dB) per frame; the
 * straight line through it is removed (a slow gain drift is not a rhythm), a Hann taper applied, and the
 * power at each modulation frequency from `MODULATION_MIN_CYCLES` per window to `MODULATION_MAX_HZ` is taken (log). The
 * normal model is, per band and modulation frequency, the median and a robust scale (1.4826 x the median
 * absolute deviation) of that log power over the normal windows; a window's cell z-score is its deviation in
 * those units, the window score the largest z-score, and the map each band's largest z-score on its bins for
 * the whole window. Everything is fitted on normal windows only.
 *
 * Comodulation (`ModulationScores.comodulation`): an amplitude modulation swells the whole machine, so every band
 * it covers rises at the same modulation frequency. One cell cannot show a shallow one: a band's power at one
 * modulation frequency is a periodogram value, exponentially distributed around its mean whatever the taper, so
 * its log spreads about 1.3 nats from window to window on normal sound, and a single cell's z-score stays among
 * the normal ones (measured: a 6.5 Hz modulation of depth 0.35 over the lower 4 kHz of m13_car_interior raised no
 * cell over z 3.0, where normal windows reach 2.7). The bands' z-scores at that frequency rise together, while
 * their chance deviations do not: summed over a group of g bands and divided by sqrt(g) they stay at one
 * z-score's spread on normal sound and grow as sqrt(g) with a shared swell (the same window: the sum over the
 * 16 bands at 6.9 Hz gave 8.4, where the normal windows' means stayed under 0.4 per band). The ear uses the same
 * coherence across frequency (comodulation masking release: Hall, Haggard and Fernandes, JASA 76(1), 1984). A
 * modulation that covers part of the spectrum is met by the groups: all bands, their halves, quarters and so on
 * down to pairs of adjacent bands; the statistic is the largest over groups and modulation frequencies. Bands that
 * fluctuate together on normal sound (a piston's firing, traffic passing) make the sum wider than sqrt(g); its
 * own held-out scale (fusion.ts) takes that in. It needs no features of its own, so a model fitted before it
 * loads as it was and simply has no scale for it.
 */

import { RobustCells } from './robust-cells.js';

export { medianOf, SCALE_FLOOR_SHARE } from './robust-cells.js';

/** Fewest cycles per window of the slowest modulation scored (2 Hz in a 1 s window): slower swells are gain wander. */
export const MODULATION_MIN_CYCLES = 2;
/** Fastest modulation scored, Hz (and at most just under the frame rate's Nyquist frequency). */
export const MODULATION_MAX_HZ = 25;
/** Added to the power (dB^2) before the log, so a flat envelope gives a finite value. */
const POWER_FLOOR = 1e-3;

export interface ModulationScores {
  /** Largest z-score of the window's band and modulation-frequency cells (>= 0). */
  windowScore: number;
  /**
   * Comodulation: the largest, over groups of adjacent bands (all of them, halves, quarters, ... pairs) and
   * modulation frequencies, of the group's summed cell z-scores over the square root of its bands (>= 0; the
   * header). The fusion judges the larger of it and `windowScore`, each on its own held-out scale (fusion.ts).
   */
  comodulation: number;
  /** `[nMels, windowFrames]`: each band's largest z-score (>= 0) on its mel bins, the same in every frame. */
  map: Float32Array;
}

/** The analysis a model's features follow: bands of mel bins and DFT bins of the envelope. */
export interface ModulationGrid {
  nMels: number;
  windowFrames: number;
  bands: number;
  /** Frames per second of the log-mel (sampleRate / hopLength). */
  frameRate: number;
}

/** Band envelopes' log power at the scored modulation frequencies of a window: the features of the model. */
export class ModulationAnalysis {
  /** Features per window: bands x modulation frequencies, band-major. */
  readonly cells: number;
  /** First mel bin of each band, and nMels at the end. */
  readonly bandStart: Int32Array;
  /** Scored DFT bins of the envelope (bin k is k * frameRate / windowFrames Hz). */
  readonly bins: Int32Array;
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;

  constructor(readonly grid: ModulationGrid) {
    const { nMels, windowFrames, bands, frameRate } = grid;
    if (!(Number.isInteger(bands) && bands >= 1 && bands <= nMels))
      throw new RangeError(`modulationBands (${bands}) must be a whole number in [1, nMels = ${nMels}]`);
    const bins: number[] = [];
    const hi = Math.min(MODULATION_MAX_HZ, frameRate / 2 - 1);
    for (let k = MODULATION_MIN_CYCLES; k < windowFrames / 2; k++)
      if ((k * frameRate) / windowFrames <= hi) bins.push(k);
    if (bins.length === 0)
      throw new RangeError(
        `a window of ${windowFrames} frames at ${frameRate} frames/s resolves no modulation of ${MODULATION_MIN_CYCLES} cycles or more under ${MODULATION_MAX_HZ} Hz; use a longer window`,
      );
    this.bins = Int32Array.from(bins);
    this.bandStart = Int32Array.from({ length: bands + 1 }, (_, b) => Math.floor((b * nMels) / bands));
    this.cells = bands * bins.length;
    // Hann-tapered DFT rows of the scored bins.
    this.#cos = new Float64Array(bins.length * windowFrames);
    this.#sin = new Float64Array(bins.length * windowFrames);
    bins.forEach((k, i) => {
      for (let t = 0; t < windowFrames; t++) {
        const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * t) / (windowFrames - 1));
        this.#cos[i * windowFrames + t] = hann * Math.cos((2 * Math.PI * k * t) / windowFrames);
        this.#sin[i * windowFrames + t] = hann * Math.sin((2 * Math.PI * k * t) / windowFrames);
      }
    });
  }

  /** Features of `windows` (each `[nMels, windowFrames]` dB), `[windows.length, cells]`. */
  features(windows: readonly Float32Array[]): Float32Array {
    const out = new Float32Array(windows.length * this.cells);
    windows.forEach((w, i) => this.write(w, out, i * this.cells));
    return out;
  }

  /** Writes the features of window `w` at `out[at]`. */
  write(w: Float32Array, out: Float32Array, at: number): void {
    const { windowFrames: n, bands, nMels } = this.grid;
    if (w.length !== nMels * n)
      throw new RangeError(`window has ${w.length} values; need nMels x windowFrames = ${nMels} x ${n}`);
    const env = new Float64Array(n);
    // The least-squares line through t = 0..n-1 is removed: slope = sum((t - mid) * e) / sum((t - mid)^2).
    const mid = (n - 1) / 2;
    const ss = (n * (n * n - 1)) / 12;
    const nb = this.bins.length;
    for (let b = 0; b < bands; b++) {
      const [m0, m1] = [this.bandStart[b], this.bandStart[b + 1]];
      env.fill(0);
      for (let m = m0; m < m1; m++) for (let t = 0; t < n; t++) env[t] += w[m * n + t];
      let mean = 0;
      for (let t = 0; t < n; t++) mean += env[t] /= m1 - m0;
      mean /= n;
      let slope = 0;
      for (let t = 0; t < n; t++) slope += (t - mid) * env[t];
      slope /= ss;
      for (let t = 0; t < n; t++) env[t] -= mean + slope * (t - mid);
      for (let i = 0; i < nb; i++) {
        let re = 0;
        let im = 0;
        for (let t = 0; t < n; t++) {
          re += this.#cos[i * n + t] * env[t];
          im += this.#sin[i * n + t] * env[t];
        }
        out[at + b * nb + i] = Math.log(re * re + im * im + POWER_FLOOR);
      }
    }
  }
}

export class ModulationSpectrum extends RobustCells<ModulationAnalysis> {
  /**
   * @param grid - the window and band layout.
   * @param features - normal windows' features `[rows, cells]` (`ModulationAnalysis.features`).
   */
  constructor(grid: ModulationGrid, features: Float32Array) {
    super(new ModulationAnalysis(grid), features, 'modulation');
  }

  /** A model of the normal `windows` (each `[nMels, windowFrames]` dB). */
  static fit(windows: readonly Float32Array[], grid: ModulationGrid): ModulationSpectrum {
    if (windows.length === 0)
      throw new RangeError('the modulation spectrum needs at least one normal window');
    return new ModulationSpectrum(grid, new ModulationAnalysis(grid).features(windows));
  }

  get grid(): ModulationGrid {
    return this.analysis.grid;
  }

  /** Scores one window `[nMels, windowFrames]` (dB): each band its largest cell's z-score. */
  score(window: Float32Array): ModulationScores {
    const { nMels, windowFrames, bands } = this.grid;
    const { bins, bandStart } = this.analysis;
    const z = this.zScores(window);
    const nb = bins.length;
    const map = new Float32Array(nMels * windowFrames);
    let windowScore = 0;
    for (let b = 0; b < bands; b++) {
      let band = 0;
      for (let i = b * nb; i < (b + 1) * nb; i++) band = Math.max(band, z[i]);
      windowScore = Math.max(windowScore, band);
      map.fill(band, bandStart[b] * windowFrames, bandStart[b + 1] * windowFrames);
    }
    return { windowScore, comodulation: comodulation(z, bands, nb), map };
  }
}

/**
 * The comodulation statistic of one window's cell z-scores (`z`, `bands` x `nb` modulation frequencies,
 * band-major): for each group of adjacent bands (the whole window's bands, then halves, quarters, ... down to
 * pairs) and each modulation frequency, the sum of the group's z-scores over the square root of its size
 * (one z-score's scale if the bands were independent); the largest, and at least 0.
 */
export function comodulation(z: ArrayLike<number>, bands: number, nb: number): number {
  let best = 0;
  for (let k = 1; 2 * k <= bands; k *= 2)
    for (let g = 0; g < k; g++) {
      const b0 = Math.floor((g * bands) / k);
      const b1 = Math.floor(((g + 1) * bands) / k);
      const norm = 1 / Math.sqrt(b1 - b0);
      for (let i = 0; i < nb; i++) {
        let sum = 0;
        for (let b = b0; b < b1; b++) sum += z[b * nb + i];
        best = Math.max(best, sum * norm);
      }
    }
  return best;
}
