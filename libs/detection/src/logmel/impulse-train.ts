/**
 * Impulse train: whether a narrow band is struck again and again within a window. A bearing-like fault rings a
 * resonance of the machine at every strike, several to a few tens of times a second: in the log-mel each
 * strike is a bump of a few dB in a band under an octave wide, one or two frames long, and the bumps repeat
 * at the strike period. Each bump alone is within the band's normal frame-to-frame spread (the backbone's
 * patches and the context memory's 5-frame contexts see normal pieces), and the modulation spectrum of the
 * whole band envelope mixes the strikes with the machine's own slower swells and its own rhythm (a piston
 * engine fires, a printer steps). What is new is that one narrow band's short bumps recur at one period.
 *
 * For each of `bands` groups of adjacent mel bins, the band's envelope is its mean level (dB) per frame; the
 * envelope minus its moving mean over `IMPULSE_SMOOTH_SECONDS` keeps each strike's bump and drops the swells
 * slower than a strike; each frame's median residual over all bands is removed (a knock of the whole machine
 * moves every band at once, a struck resonance one or a few); the feature is, over the strike periods of
 * `IMPULSE_MIN_HZ`-`IMPULSE_MAX_HZ`, the largest mean normalised autocorrelation of that residual at the
 * period's multiples (the onset-periodicity statistic of tempo estimation, Ellis, J. New Music Research 36(1),
 * 2007, per band, with the summation over multiples of pitch estimators, Tolonen and Karjalainen, IEEE Trans.
 * Speech Audio Process. 8(6), 2000). A strike train correlates with itself at every multiple of its period:
 * the mean over the multiples averages the noise of several lags, and reaches whole-frame lags near the
 * multiples of a period that is not a whole number of frames (8.3 strikes a second are 7.5 frames apart; the
 * largest single lag, 7 or 8, saw half of it: the development corpus's impacts ranked 0.93-0.97 with one lag,
 * 0.99-1.00 with the multiples). It is scale-free: a louder or quieter machine, or a
 * band that is impulsive anyway, gives the same value for the same regularity. The normal model is, per band,
 * the median and a robust scale (1.4826 x the median absolute deviation) of the feature over the normal
 * windows (the machine's own rhythm sets its own normal, so an engine's regular firing is not a fault); a
 * window's score is the largest z-score over the bands, and the map each band's z-score on its bins for the
 * whole window. Fitted on normal windows only.
 *
 * Why not the impulsiveness of the frames themselves (crest factor, kurtosis, spectral kurtosis, positive
 * spectral flux per band): at the log-mel's 64 ms frames and 16 ms hop a strike is smoothed into a bump of
 * 2-3 dB, and these statistics of single bumps ranked the development corpus's impacts 0.57-0.88 against
 * normal clips, the recurrence 0.93-1.00 (BENCHMARKS.md, issue 13, "Impacts: an impulse-train part").
 */
import { RobustCells } from './robust-cells.js';

/** Fastest strike rate scored, Hz: a period of at least 2.5 frames at 62.5 frames/s (the modulation spectrum's top). */
export const IMPULSE_MAX_HZ = 25;
/** Slowest strike rate scored, Hz: at least 7 strikes in a 1 s window, so the autocorrelation averages several. */
export const IMPULSE_MIN_HZ = 7;
/** The moving mean removed from a band's envelope, seconds: longer than one strike's bump, shorter than a period. */
export const IMPULSE_SMOOTH_SECONDS = 0.08;

export interface ImpulseScores {
  /** Largest z-score of the window's bands (>= 0). */
  windowScore: number;
  /** `[nMels, windowFrames]`: each band's z-score (>= 0) on its mel bins, the same in every frame. */
  map: Float32Array;
}

/** The analysis a model's features follow: bands of mel bins, the frames of a window and their rate. */
export interface ImpulseGrid {
  nMels: number;
  windowFrames: number;
  bands: number;
  /** Frames per second of the log-mel (sampleRate / hopLength). */
  frameRate: number;
}

/**
 * Periods are tried every `PERIOD_STEP` frames: the k-th multiple moves k / 8 frames per step, so up to the
 * 8th no whole-frame lag between two tried periods is skipped.
 */
export const PERIOD_STEP = 1 / 8;

/** Each band's largest mean autocorrelation of its envelope's residual at a strike period's multiples: the model's features. */
export class ImpulseAnalysis {
  /** First mel bin of each band, and nMels at the end. */
  readonly bandStart: Int32Array;
  /** Frames of the moving mean (odd, >= 3). */
  readonly smooth: number;
  /** Longest lag, frames: half the residual's span, so every lag correlates at least as many frames as it spans. */
  readonly maxLag: number;
  /** The periods tried (frames) and, for each, its multiples' lags (rounded, up to `maxLag`). */
  readonly periods: Float64Array;
  readonly multiples: Int32Array[];

  constructor(readonly grid: ImpulseGrid) {
    const { nMels, windowFrames, bands, frameRate } = grid;
    if (!(Number.isInteger(bands) && bands >= 1 && bands <= nMels))
      throw new RangeError(`impulseBands (${bands}) must be a whole number in [1, nMels = ${nMels}]`);
    this.bandStart = Int32Array.from({ length: bands + 1 }, (_, b) => Math.floor((b * nMels) / bands));
    this.smooth = Math.max(3, 2 * Math.floor((IMPULSE_SMOOTH_SECONDS * frameRate) / 2) + 1);
    const residual = windowFrames - this.smooth + 1;
    this.maxLag = Math.floor(residual / 2);
    // A period under 2 frames is not resolved (a strike's bump is 1-2 frames long).
    const shortest = Math.max(2, frameRate / IMPULSE_MAX_HZ);
    const periods: number[] = [];
    for (let k = Math.ceil(shortest / PERIOD_STEP); k * PERIOD_STEP <= frameRate / IMPULSE_MIN_HZ; k++)
      if (Math.round(k * PERIOD_STEP) <= this.maxLag) periods.push(k * PERIOD_STEP);
    if (periods.length === 0)
      throw new RangeError(
        `a window of ${windowFrames} frames at ${frameRate} frames/s resolves no strike rate in ${IMPULSE_MIN_HZ}-${IMPULSE_MAX_HZ} Hz; use a longer window`,
      );
    this.periods = Float64Array.from(periods);
    this.multiples = periods.map((p) => {
      const lags: number[] = [];
      for (let k = 1; Math.round(k * p) <= this.maxLag; k++) lags.push(Math.round(k * p));
      return Int32Array.from(lags);
    });
  }

  /** Features per window: one per band. */
  get cells(): number {
    return this.grid.bands;
  }

  /** Features of `windows` (each `[nMels, windowFrames]` dB), `[windows.length, bands]`. */
  features(windows: readonly Float32Array[]): Float32Array {
    const out = new Float32Array(windows.length * this.grid.bands);
    windows.forEach((w, i) => this.write(w, out, i * this.grid.bands));
    return out;
  }

  /** Writes the features of window `w` at `out[at]`. */
  write(w: Float32Array, out: Float32Array, at: number): void {
    const { windowFrames: n, bands, nMels } = this.grid;
    if (w.length !== nMels * n)
      throw new RangeError(`window has ${w.length} values; need nMels x windowFrames = ${nMels} x ${n}`);
    const half = (this.smooth - 1) / 2;
    const len = n - 2 * half;
    const env = new Float64Array(n);
    // Each band's residual over its moving mean (a running sum), `[bands, len]`.
    const res = new Float64Array(bands * len);
    for (let b = 0; b < bands; b++) {
      const [m0, m1] = [this.bandStart[b], this.bandStart[b + 1]];
      env.fill(0);
      for (let m = m0; m < m1; m++) for (let t = 0; t < n; t++) env[t] += w[m * n + t] / (m1 - m0);
      let run = 0;
      for (let t = 0; t < this.smooth; t++) run += env[t];
      for (let i = 0; i < len; i++) {
        if (i > 0) run += env[i + this.smooth - 1] - env[i - 1];
        res[b * len + i] = env[i + half] - run / this.smooth;
      }
    }
    // What every band does at once is the machine's own broadband knock (a piston firing, a printer's step),
    // not a resonance struck: each frame's median residual over the bands is removed (with one band there is
    // nothing to compare with).
    if (bands > 1) {
      const col = new Float64Array(bands);
      for (let i = 0; i < len; i++) {
        for (let b = 0; b < bands; b++) col[b] = res[b * len + i];
        col.sort();
        const mid = bands % 2 ? col[(bands - 1) / 2] : 0.5 * (col[bands / 2 - 1] + col[bands / 2]);
        for (let b = 0; b < bands; b++) res[b * len + i] -= mid;
      }
    }
    const acf = new Float64Array(this.maxLag + 1);
    for (let b = 0; b < bands; b++) {
      const r = res.subarray(b * len, (b + 1) * len);
      let mean = 0;
      for (let i = 0; i < len; i++) mean += r[i];
      mean /= len;
      let energy = 0;
      for (let i = 0; i < len; i++) energy += (r[i] -= mean) * r[i];
      let best = 0;
      // A flat residual (silence, a constant tone, a band that moves with all the others) has no strikes: 0.
      if (energy > 1e-9 * len) {
        for (let lag = 1; lag <= this.maxLag; lag++) {
          let c = 0;
          for (let i = 0; i + lag < len; i++) c += r[i] * r[i + lag];
          acf[lag] = c / energy;
        }
        best = -Infinity;
        for (const lags of this.multiples) {
          let sum = 0;
          for (const lag of lags) sum += acf[lag];
          best = Math.max(best, sum / lags.length);
        }
      }
      out[at + b] = best;
    }
  }
}

export class ImpulseTrain extends RobustCells<ImpulseAnalysis> {
  /**
   * @param grid - the window and band layout.
   * @param features - normal windows' features `[rows, bands]` (`ImpulseAnalysis.features`).
   */
  constructor(grid: ImpulseGrid, features: Float32Array) {
    super(new ImpulseAnalysis(grid), features, 'impulse');
  }

  /** A model of the normal `windows` (each `[nMels, windowFrames]` dB). */
  static fit(windows: readonly Float32Array[], grid: ImpulseGrid): ImpulseTrain {
    if (windows.length === 0) throw new RangeError('the impulse train needs at least one normal window');
    return new ImpulseTrain(grid, new ImpulseAnalysis(grid).features(windows));
  }

  get grid(): ImpulseGrid {
    return this.analysis.grid;
  }

  /** Scores one window `[nMels, windowFrames]` (dB): each band its z-score (>= 0). */
  score(window: Float32Array): ImpulseScores {
    const { nMels, windowFrames, bands } = this.grid;
    const { bandStart } = this.analysis;
    const z = this.zScores(window);
    const map = new Float32Array(nMels * windowFrames);
    let windowScore = 0;
    for (let b = 0; b < bands; b++) {
      const zb = Math.max(0, z[b]);
      windowScore = Math.max(windowScore, zb);
      map.fill(zb, bandStart[b] * windowFrames, bandStart[b + 1] * windowFrames);
    }
    return { windowScore, map };
  }
}
