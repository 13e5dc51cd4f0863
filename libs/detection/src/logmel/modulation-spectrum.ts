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
    return { windowScore, map };
  }
}
