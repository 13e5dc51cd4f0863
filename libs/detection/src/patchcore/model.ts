import { showValue } from '@hark/dsp';
import { FlatIndex, KnnIndex } from '@hark/native';
import { kCenterGreedy } from '../components/kcenter-greedy.js';
import { SearchedIndexes } from '../components/searched-indexes.js';
import { checkCount } from '../method.js';
import type { AnomalyMethod, FitProgress, MethodState, PatchGrid, WindowScores } from '../method.js';
import { reweightedScore } from './reweight.js';

/**
 * PatchCore (Roth et al., "Towards Total Recall in Industrial Anomaly Detection", arXiv 2106.08265) on
 * spectrogram patch embeddings. Fit: the memory bank M of every training patch is reduced to a coreset M_C by
 * greedy k-center selection (Algorithm 1). Score: each test patch m^test gets
 * s(m^test) = min_{m ∈ M_C} ‖m^test − m‖₂ (exact search in FAISS through @hark/native); the window's score is
 * s* = max over its patches, re-weighted by eq. 7 (`scoreMode: 'reweighted'`) or taken as is (`'max'`).
 */
export interface PatchCoreOptions {
  /** Fraction of training patches kept in the coreset (paper: 0.1, 0.01 for speed). */
  coresetRatio?: number;
  /** b, the neighbourhood of m* used by the re-weighting of eq. 7 (paper: 9). */
  numNeighbors?: number;
  scoreMode?: 'reweighted' | 'max';
  /** Dimension of the random projection used by the coreset selection (0: none). */
  projectionDim?: number;
  seed?: number;
}

export const PATCHCORE_DEFAULTS: Required<PatchCoreOptions> = {
  coresetRatio: 0.1,
  numNeighbors: 9,
  scoreMode: 'reweighted',
  projectionDim: 128,
  seed: 0,
};

/** Per-patch scores of one batch: Euclidean distance to the nearest bank patch, and that patch's row. */
export interface PatchScores {
  scores: Float32Array;
  nearest: Int32Array;
}

interface BankSnapshot {
  bank: Float32Array;
  index: KnnIndex;
  dim: number;
}

export class PatchCore implements AnomalyMethod {
  readonly name = 'patchcore' as const;
  readonly options: Required<PatchCoreOptions>;
  #bank: Float32Array | null = null;
  /** The bank as fitted or loaded, before operator feedback (`teach`). */
  #base: Float32Array | null = null;
  #index: KnnIndex | null = null;
  #dim = 0;
  /** Rows of `fit`'s embeddings that the coreset kept (null when loaded: the rows are not known). */
  #picked: Int32Array | null = null;
  /** Searches in flight per index, so a bank swapped during scoring frees the old index only when idle. */
  readonly #indexes = new SearchedIndexes();

  constructor(options: PatchCoreOptions = {}) {
    this.options = { ...PATCHCORE_DEFAULTS, ...options };
    const { coresetRatio, numNeighbors, scoreMode, projectionDim, seed } = this.options;
    if (!(typeof coresetRatio === 'number' && coresetRatio > 0 && coresetRatio <= 1))
      throw new RangeError(`coresetRatio (${showValue(coresetRatio)}) must be in (0, 1]`);
    checkCount('numNeighbors', numNeighbors);
    if (scoreMode !== 'reweighted' && scoreMode !== 'max')
      throw new RangeError(`scoreMode (${showValue(scoreMode)}) must be 'reweighted' or 'max'`);
    if (!(Number.isInteger(projectionDim) && projectionDim >= 0))
      throw new RangeError(
        `projectionDim (${showValue(projectionDim)}) must be a whole number >= 0 (0: none)`,
      );
    if (!Number.isInteger(seed)) throw new RangeError(`seed (${showValue(seed)}) must be a whole number`);
  }

  get fitted(): boolean {
    return this.#bank !== null;
  }

  /** The coreset M_C, `[bankSize, dim]`, with the patches taught by operator feedback. */
  get bank(): Float32Array {
    return this.#require().bank;
  }

  /** The coreset as fitted (or loaded), without taught patches: what a model directory saves. */
  get baseBank(): Float32Array {
    this.#require();
    return this.#base!;
  }

  get dim(): number {
    return this.#dim;
  }

  get bankSize(): number {
    return this.#bank ? this.#bank.length / this.#dim : 0;
  }

  /** Builds M_C from the patches of `nWindows` normal windows (`[nWindows, height * width, dim]`). */
  fit(embeddings: Float32Array, nWindows: number, grid: PatchGrid, onProgress?: FitProgress): void {
    this.fitPatches(embeddings, nWindows * grid.height * grid.width, grid.dim, onProgress);
  }

  /** Scores one window: s(m^test) per patch and the window score. */
  async score(embeddings: Float32Array): Promise<WindowScores> {
    // One snapshot of bank and index for both searches: a bank swapped meanwhile (feedback) cannot mix them.
    const snap = this.#require();
    const n = embeddings.length / snap.dim;
    const patch = await this.#scorePatches(snap, embeddings, n);
    return { patchScores: patch.scores, windowScore: await this.#windowScore(snap, embeddings, patch) };
  }

  /**
   * The fitted coreset is the whole state: the exact index is rebuilt from it, so results are identical.
   * Taught patches are not part of it (like the context memory's): their owner teaches them again on load.
   */
  state(): MethodState {
    const { dim } = this.#require();
    return { json: { options: this.options, dim }, arrays: { bank: this.#base! } };
  }

  static fromState(state: MethodState): PatchCore {
    const { options, dim } = state.json as { options: PatchCoreOptions; dim: number };
    const bank = state.arrays.bank;
    if (!(bank instanceof Float32Array)) throw new Error('PatchCore state has no Float32Array "bank"');
    const model = new PatchCore(options);
    model.setBank(bank, dim);
    return model;
  }

  /** Builds M_C from `n` training patch embeddings (`[n, dim]`), whatever windows they came from. */
  fitPatches(embeddings: Float32Array, n: number, dim: number, onProgress?: FitProgress): void {
    if (n < 1 || embeddings.length !== n * dim) {
      throw new RangeError(
        `embeddings has ${embeddings.length} values, expected n * dim = ${n} * ${dim} with n >= 1`,
      );
    }
    const count = Math.max(1, Math.round(this.options.coresetRatio * n));
    const picked =
      count >= n
        ? null
        : kCenterGreedy(embeddings, n, dim, count, {
            projectionDim: this.options.projectionDim,
            seed: this.options.seed,
            onProgress,
          });
    const bank = picked ? new Float32Array(picked.length * dim) : embeddings.slice();
    if (picked)
      picked.forEach((row, i) => bank.set(embeddings.subarray(row * dim, (row + 1) * dim), i * dim));
    this.setBank(bank, dim);
    this.#picked = picked ? Int32Array.from(picked) : Int32Array.from({ length: n }, (_, i) => i);
  }

  /**
   * The fitted coreset without the patches `drop` names (rows of `fit`'s embeddings): the memory of a model
   * fitted without them, up to the k-center selection (their neighbours that the greedy selection left out
   * because these patches covered them stay out, so scores without them err high). Null when loaded.
   */
  without(drop: (row: number) => boolean): PatchCore | null {
    const picked = this.#picked;
    const base = this.#base;
    if (!picked || !base) return null;
    const dim = this.#dim;
    const keep = [...picked.keys()].filter((i) => !drop(picked[i]));
    if (keep.length === 0) return null;
    const bank = new Float32Array(keep.length * dim);
    keep.forEach((i, j) => bank.set(base.subarray(i * dim, (i + 1) * dim), j * dim));
    const model = new PatchCore(this.options);
    model.setBank(bank, dim);
    return model;
  }

  /** Installs a fitted bank (from `fit` or a saved model) and indexes it; taught patches are dropped. */
  setBank(bank: Float32Array, dim: number): void {
    if (dim < 1 || bank.length === 0 || bank.length % dim !== 0) {
      throw new RangeError(`bank has ${bank.length} values, not a whole number of rows of dim ${dim}`);
    }
    this.#base = this.#install(bank, dim);
    this.#picked = null;
  }

  /**
   * Operator feedback: `patches` (`[n, dim]`, taught as normal) are added to the fitted coreset, replacing
   * what was taught before; an empty array restores the fitted coreset.
   */
  teach(patches: Float32Array): void {
    const { dim } = this.#require();
    if (patches.length % dim !== 0)
      throw new RangeError(
        `taught patches have ${patches.length} values, not a whole number of rows of dim ${dim}`,
      );
    const base = this.#base!;
    if (patches.length === 0) {
      // The new index holds the fitted coreset; the old base (a view of a retired index) is let go.
      if (this.#bank !== base) this.#base = this.#install(base, dim);
      return;
    }
    const bank = new Float32Array(base.length + patches.length);
    bank.set(base);
    bank.set(patches, base.length);
    this.#install(bank, dim);
  }

  /**
   * Indexes `bank` and keeps the index's own copy of it (`vectors()`, a view without a copy) as the bank the
   * re-weighting reads, so the coreset is held once; the caller's array can be collected. Returns the view.
   */
  #install(bank: Float32Array, dim: number): Float32Array {
    const index = new FlatIndex(dim);
    index.add(bank);
    if (this.#index) this.#indexes.retire(this.#index);
    this.#index = index;
    this.#bank = index.vectors();
    this.#dim = dim;
    return this.#bank;
  }

  /** s(m^test) for `n` patches (`[n, dim]`), off the event loop. */
  async scorePatches(embeddings: Float32Array, n: number): Promise<PatchScores> {
    return this.#scorePatches(this.#require(), embeddings, n);
  }

  async #scorePatches(snap: BankSnapshot, embeddings: Float32Array, n: number): Promise<PatchScores> {
    const { index, dim } = snap;
    if (embeddings.length !== n * dim)
      throw new RangeError(`embeddings has ${embeddings.length} values, expected ${n} * ${dim}`);
    const { distances, labels } = await this.#indexes.search(index, embeddings, 1);
    const scores = new Float32Array(n);
    const nearest = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      scores[i] = Math.sqrt(Math.max(0, distances[i]));
      nearest[i] = Number(labels[i]);
    }
    return { scores, nearest };
  }

  /** The window score from its patches' embeddings and scores (eq. 7, or the plain maximum). */
  async windowScore(embeddings: Float32Array, patch: PatchScores): Promise<number> {
    return this.#windowScore(this.#require(), embeddings, patch);
  }

  async #windowScore(snap: BankSnapshot, embeddings: Float32Array, patch: PatchScores): Promise<number> {
    const { bank, index, dim } = snap;
    const bankSize = bank.length / dim;
    let star = 0;
    for (let i = 1; i < patch.scores.length; i++) if (patch.scores[i] > patch.scores[star]) star = i;
    const sStar = patch.scores[star];
    if (this.options.scoreMode === 'max' || bankSize === 1) return sStar;
    const mStar = patch.nearest[star];
    const b = Math.min(this.options.numNeighbors, bankSize);
    const { labels } = await this.#indexes.search(index, bank.subarray(mStar * dim, (mStar + 1) * dim), b);
    const support = Array.from(labels, Number).filter((l) => l >= 0);
    // m* is its own nearest neighbour; keep it first even when duplicates tie with it.
    const ordered = [mStar, ...support.filter((l) => l !== mStar)].slice(0, b);
    return reweightedScore(embeddings, star * dim, bank, dim, ordered, sStar);
  }

  /** Frees the FAISS index (once searches in flight have finished). */
  dispose(): void {
    if (this.#index) this.#indexes.retire(this.#index);
    this.#index = null;
    this.#bank = null;
    this.#base = null;
  }

  #require(): BankSnapshot {
    if (!this.#bank || !this.#index)
      throw new Error('PatchCore is not fitted: call fit() (or load a model) before scoring');
    return { bank: this.#bank, index: this.#index, dim: this.#dim };
  }
}
