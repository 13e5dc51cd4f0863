/**
 * What every anomaly detection method (PatchCore, PaDiM, SPADE) offers the detector: fit on the patch
 * embeddings of normal windows, score the patches of one window, and save / restore its fitted state.
 *
 * Embeddings of a window are `[height * width, dim]` row-major, patches in row-major grid order where a row
 * is a frequency band (row 0 = lowest frequencies) and a column a time step. Every window of a model has the
 * same grid, so methods may keep per-position statistics (PaDiM) while PatchCore ignores position.
 */
export interface PatchGrid {
  height: number;
  width: number;
  dim: number;
}

/** Scores of one window: one per patch (`[height * width]`, larger is more anomalous) and the window's score. */
export interface WindowScores {
  patchScores: Float32Array;
  windowScore: number;
}

/** A fitted state as named binary arrays plus JSON, written to and read from the model directory. */
export interface MethodState {
  json: Record<string, unknown>;
  arrays: Record<string, Float32Array | Float64Array | Int32Array>;
}

export interface AnomalyMethod {
  readonly name: 'patchcore' | 'padim' | 'spade';
  /**
   * Fits on `nWindows` windows of normal embeddings, `[nWindows, height * width, dim]` concatenated.
   * `onProgress(done, total)` reports the slow part.
   */
  fit(
    embeddings: Float32Array,
    nWindows: number,
    grid: PatchGrid,
    onProgress?: (done: number, total: number) => void,
  ): void;
  /** Scores the patches of one window (`[height * width, dim]`). Throws a clear error before fit. */
  score(embeddings: Float32Array): Promise<WindowScores>;
  /** The fitted state, without what `teach` added. */
  state(): MethodState;
  /**
   * Operator feedback, for methods whose state is a memory of normal patches (PatchCore): `patches`
   * (`[n, dim]`, taught as normal) join the fitted memory, replacing what was taught before; an empty array
   * restores the fitted memory. Absent: the method cannot be taught (PaDiM, SPADE).
   */
  teach?(patches: Float32Array): void;
  dispose(): void;
}
