/**
 * What the log-mel's band parts (the modulation spectrum, the impulse train) share: each turns a window into a
 * fixed number of feature cells (`CellAnalysis`), and is fitted on normal windows as each cell's median and
 * robust scale (1.4826 x the median absolute deviation, a standard deviation for normal data and unmoved by a
 * few outlying windows), so a window's cell is scored as a z-score against the machine's own normal sound.
 * The fitted features are kept (a model directory saves them), and windows taught as normal (operator
 * feedback) refit the median and scale on both.
 */

/**
 * A cell's scale is at least this share of the median scale over all cells: a cell that barely varied on
 * the normal windows would otherwise turn a tiny change into a huge z-score.
 */
export const SCALE_FLOOR_SHARE = 0.5;

/** Median of `a` (sorted in place). */
export function medianOf(a: Float32Array): number {
  a.sort();
  const n = a.length;
  return n % 2 ? a[(n - 1) / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

/** A band part's analysis: `cells` features per window. */
export interface CellAnalysis {
  readonly cells: number;
  /** Features of `windows` (each `[nMels, windowFrames]` dB), `[windows.length, cells]`. */
  features(windows: readonly Float32Array[]): Float32Array;
  /** Writes the features of one window at `out[at]`. */
  write(window: Float32Array, out: Float32Array, at: number): void;
}

/** Each cell's median and robust scale over normal windows' features (see the header). */
export abstract class RobustCells<A extends CellAnalysis> {
  readonly #base: Float32Array;
  #median = new Float32Array(0);
  #scale = new Float32Array(0);

  /**
   * @param analysis - what turns a window into cells.
   * @param features - normal windows' features `[rows, cells]` (`analysis.features`).
   * @param what - the part's name in errors ('modulation', 'impulse').
   */
  protected constructor(
    readonly analysis: A,
    features: Float32Array,
    what: string,
  ) {
    const { cells } = analysis;
    if (features.length === 0 || features.length % cells !== 0 || !features.every(Number.isFinite))
      throw new RangeError(
        `${what} features have ${features.length} values, not whole finite rows of ${cells}`,
      );
    this.#base = features;
    this.#refit(features);
  }

  /** The fitted features (what a model directory saves), `[rows, cells]`. */
  get baseFeatures(): Float32Array {
    return this.#base;
  }

  /** Refits on the fitted windows and `windows` (taught as normal); `[]` restores the fitted model. */
  teach(windows: readonly Float32Array[]): void {
    if (windows.length === 0) return this.#refit(this.#base);
    const extra = this.analysis.features(windows);
    const all = new Float32Array(this.#base.length + extra.length);
    all.set(this.#base);
    all.set(extra, this.#base.length);
    this.#refit(all);
  }

  /** Each cell's z-score of one window `[nMels, windowFrames]` (dB) against the normal windows. */
  protected zScores(window: Float32Array): Float64Array {
    // The features as saved (float32), the z-scores in double.
    const f = new Float32Array(this.analysis.cells);
    this.analysis.write(window, f, 0);
    const z = new Float64Array(f.length);
    for (let c = 0; c < f.length; c++) z[c] = (f[c] - this.#median[c]) / this.#scale[c];
    return z;
  }

  #refit(features: Float32Array): void {
    const { cells } = this.analysis;
    const rows = features.length / cells;
    const col = new Float32Array(rows);
    const median = new Float32Array(cells);
    const scale = new Float32Array(cells);
    for (let c = 0; c < cells; c++) {
      for (let r = 0; r < rows; r++) col[r] = features[r * cells + c];
      median[c] = medianOf(col);
      for (let r = 0; r < rows; r++) col[r] = Math.abs(features[r * cells + c] - median[c]);
      scale[c] = 1.4826 * medianOf(col);
    }
    const floor = SCALE_FLOOR_SHARE * medianOf(scale.slice());
    for (let c = 0; c < cells; c++) scale[c] = Math.max(scale[c], floor, 1e-6);
    this.#median = median;
    this.#scale = scale;
  }
}
