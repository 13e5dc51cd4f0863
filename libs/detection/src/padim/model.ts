import { Random, showValue } from '@hark/dsp';
import { MultivariateGaussian } from '../components/multivariate-gaussian.js';
import { checkCount, checkFitInput, checkGrid } from '../method.js';
import type { AnomalyMethod, FitProgress, MethodState, PatchGrid, WindowScores } from '../method.js';

/**
 * PaDiM (Defard et al., "PaDiM: a Patch Distribution Modeling Framework for Anomaly Detection and
 * Localization", arXiv 2011.08785) on spectrogram patch embeddings. Fit: keep a random subset of d of the
 * embedding's channels (§3.1, chosen once), and model the normal patches x_ij as a Gaussian N(μ_ij, Σ_ij)
 * with Σ_ij + εI (eq. 1, ε = 0.01). Score: M(x_ij) = sqrt((x_ij − μ_ij)ᵀ Σ_ij⁻¹ (x_ij − μ_ij)) (eq. 2), through
 * the Cholesky factor; the window's score is the maximum of the map M.
 *
 * Pooling (our change for spectrograms): an image has a fixed layout, so the paper fits one Gaussian per
 * position (i, j). A spectrogram window is shift-invariant in time (column j) but not in frequency (row i):
 * a 1 kHz hum is normal at row 3 and odd at row 12. With `pooling: 'frequency-row'` (default) there is one
 * Gaussian per frequency row i, fitted on every column of every training window (width times the samples of
 * the per-position fit, and the same score wherever in time a sound falls); `'position'` is the paper's
 * per-position fit, for comparison.
 */
export interface PadimOptions {
  /** d, the size of the random channel subset (paper: 100 for ResNet-18); all channels when dim <= d. */
  channels?: number;
  /** ε, added to the covariance diagonal (paper: 0.01). */
  epsilon?: number;
  /** Seed of the channel subset. */
  seed?: number;
  /** One Gaussian per frequency row (pooled over time), or per grid position as in the paper. */
  pooling?: 'frequency-row' | 'position';
}

export const PADIM_DEFAULTS: Required<PadimOptions> = {
  channels: 100,
  epsilon: 0.01,
  seed: 0,
  pooling: 'frequency-row',
};

interface Fitted {
  grid: PatchGrid;
  /** Indices of the d kept channels, ascending. */
  channels: Int32Array;
  /** One Gaussian per frequency row (`height`) or per position (`height * width`). */
  gaussians: MultivariateGaussian[];
}

export class Padim implements AnomalyMethod {
  readonly name = 'padim' as const;
  readonly options: Required<PadimOptions>;
  #fitted: Fitted | null = null;
  #x = new Float32Array(0);
  #z = new Float64Array(0);

  constructor(options: PadimOptions = {}) {
    this.options = { ...PADIM_DEFAULTS, ...options };
    const { channels, epsilon, seed, pooling } = this.options;
    checkCount('channels', channels);
    if (!(epsilon >= 0 && Number.isFinite(epsilon)))
      throw new RangeError(`epsilon (${showValue(epsilon)}) must be a finite number >= 0`);
    if (!Number.isInteger(seed)) throw new RangeError(`seed (${showValue(seed)}) must be a whole number`);
    if (pooling !== 'frequency-row' && pooling !== 'position') {
      throw new RangeError(`pooling (${showValue(pooling)}) must be 'frequency-row' or 'position'`);
    }
  }

  get fitted(): boolean {
    return this.#fitted !== null;
  }

  /** The kept channel indices (ascending), `[d]`. */
  get channels(): Int32Array {
    return this.#require().channels;
  }

  /** Fits a Gaussian per frequency row (or per position) on `nWindows` normal windows. */
  fit(embeddings: Float32Array, nWindows: number, grid: PatchGrid, onProgress?: FitProgress): void {
    checkFitInput(embeddings, nWindows, grid);
    const { height, width, dim } = grid;
    const perWindow = height * width;
    const byRow = this.options.pooling === 'frequency-row';
    const samples = byRow ? nWindows * width : nWindows;
    if (samples < 2) {
      throw new RangeError(
        `PaDiM with pooling '${this.options.pooling}' needs >= 2 samples per Gaussian, got ${samples}; fit on more windows`,
      );
    }
    const channels = chooseChannels(dim, this.options.channels, this.options.seed);
    const d = channels.length;
    const groups = byRow ? height : perWindow;
    const x = new Float32Array(samples * d);
    const gaussians: MultivariateGaussian[] = [];
    for (let g = 0; g < groups; g++) {
      // Gather the kept channels of every sample of group g into x ([samples, d]).
      let s = 0;
      for (let w = 0; w < nWindows; w++) {
        const first = w * perWindow + (byRow ? g * width : g);
        const last = byRow ? first + width : first + 1;
        for (let p = first; p < last; p++, s++) {
          const src = p * dim;
          const dst = s * d;
          for (let k = 0; k < d; k++) x[dst + k] = embeddings[src + channels[k]];
        }
      }
      gaussians.push(MultivariateGaussian.fit(x, samples, d, this.options.epsilon));
      onProgress?.(g + 1, groups);
    }
    this.#install({ grid: { height, width, dim }, channels, gaussians });
  }

  /** M(x_ij) for every patch of one window (`[height * width, dim]`) and the window score max M. */
  async score(embeddings: Float32Array): Promise<WindowScores> {
    const patchScores = this.scorePatches(embeddings);
    let windowScore = -Infinity;
    for (let i = 0; i < patchScores.length; i++)
      if (patchScores[i] > windowScore) windowScore = patchScores[i];
    return { patchScores, windowScore };
  }

  /** The Mahalanobis map M (`[height * width]`), synchronously. */
  scorePatches(embeddings: Float32Array): Float32Array {
    const { grid, channels, gaussians } = this.#require();
    const { height, width, dim } = grid;
    const n = height * width;
    if (embeddings.length !== n * dim) {
      throw new RangeError(
        `embeddings has ${embeddings.length} values, expected height * width * dim = ${height} * ${width} * ${dim}`,
      );
    }
    const byRow = this.options.pooling === 'frequency-row';
    const d = channels.length;
    const x = this.#x;
    const out = new Float32Array(n);
    for (let p = 0; p < n; p++) {
      const src = p * dim;
      for (let k = 0; k < d; k++) x[k] = embeddings[src + channels[k]];
      const gaussian = gaussians[byRow ? Math.floor(p / width) : p];
      out[p] = Math.sqrt(gaussian.mahalanobis2(x, 0, this.#z));
    }
    return out;
  }

  /** Means `[groups, d]` and Cholesky factors `[groups, d, d]` (Float64), channel indices and grid. */
  state(): MethodState {
    const { grid, channels, gaussians } = this.#require();
    const d = channels.length;
    const means = new Float64Array(gaussians.length * d);
    const cholesky = new Float64Array(gaussians.length * d * d);
    gaussians.forEach((g, i) => {
      means.set(g.mean, i * d);
      cholesky.set(g.cholesky, i * d * d);
    });
    return { json: { options: this.options, grid }, arrays: { means, cholesky, channels } };
  }

  static fromState(state: MethodState): Padim {
    const { options, grid } = state.json as { options: PadimOptions; grid: PatchGrid };
    const { means, cholesky, channels } = state.arrays;
    if (!(means instanceof Float64Array)) throw new Error('PaDiM state has no Float64Array "means"');
    if (!(cholesky instanceof Float64Array)) throw new Error('PaDiM state has no Float64Array "cholesky"');
    if (!(channels instanceof Int32Array)) throw new Error('PaDiM state has no Int32Array "channels"');
    const model = new Padim(options);
    checkGrid(grid);
    const d = channels.length;
    const groups = model.options.pooling === 'frequency-row' ? grid.height : grid.height * grid.width;
    if (d < 1 || means.length !== groups * d || cholesky.length !== groups * d * d) {
      throw new RangeError(
        `PaDiM state holds ${means.length} means and ${cholesky.length} Cholesky values, expected ${groups} Gaussians of d = ${d}`,
      );
    }
    if (channels.some((c) => c < 0 || c >= grid.dim))
      throw new RangeError(`PaDiM state has channel indices outside [0, ${grid.dim})`);
    const gaussians = Array.from(
      { length: groups },
      (_, i) =>
        new MultivariateGaussian(
          d,
          means.slice(i * d, (i + 1) * d),
          cholesky.slice(i * d * d, (i + 1) * d * d),
        ),
    );
    model.#install({ grid: { ...grid }, channels, gaussians });
    return model;
  }

  dispose(): void {
    this.#fitted = null;
  }

  #install(fitted: Fitted): void {
    this.#fitted = fitted;
    this.#x = new Float32Array(fitted.channels.length);
    this.#z = new Float64Array(fitted.channels.length);
  }

  #require(): Fitted {
    if (!this.#fitted) throw new Error('PaDiM is not fitted: call fit() (or load a model) before scoring');
    return this.#fitted;
  }
}

/** The paper's random dimensionality reduction: `count` distinct channels of `dim`, ascending (all if dim <= count). */
export function chooseChannels(dim: number, count: number, seed: number): Int32Array {
  const all = Int32Array.from({ length: dim }, (_, i) => i);
  if (dim <= count) return all;
  const rng = new Random(seed);
  // Partial Fisher-Yates: the first `count` slots become a uniform random subset.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.next() * (dim - i));
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, count).sort();
}
