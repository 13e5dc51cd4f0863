/**
 * What every anomaly detection method (PatchCore, PaDiM, SPADE) offers the detector: fit on the patch
 * embeddings of normal windows, score the patches of one window, and save / restore its fitted state.
 *
 * Embeddings of a window are `[height * width, dim]` row-major, patches in row-major grid order where a row
 * is a frequency band (row 0 = lowest frequencies) and a column a time step. Every window of a model has the
 * same grid, so methods may keep per-position statistics (PaDiM) while PatchCore ignores position.
 */
import { showValue } from '@hark/dsp';
export interface PatchGrid {
  height: number;
  width: number;
  dim: number;
}

/** Checks a count (an option or a size): a whole number >= 1, or a RangeError naming it. */
export function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} (${showValue(value)}) must be a whole number >= 1`);
}

/** Checks a grid read from a saved state or given to `fit`: every size a whole number >= 1. */
export function checkGrid(grid: PatchGrid): void {
  for (const key of ['height', 'width', 'dim'] as const) checkCount(`grid.${key}`, grid?.[key]);
}

/** Checks `fit`'s input: a valid grid and `embeddings` of `nWindows >= 1` windows on it. */
export function checkFitInput(embeddings: Float32Array, nWindows: number, grid: PatchGrid): void {
  checkGrid(grid);
  const { height, width, dim } = grid;
  if (!Number.isInteger(nWindows) || nWindows < 1 || embeddings.length !== nWindows * height * width * dim) {
    throw new RangeError(
      `embeddings has ${embeddings.length} values, expected nWindows * height * width * dim = ${nWindows} * ${height} * ${width} * ${dim}`,
    );
  }
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

/** `onProgress(done, total)` of a fit: how much of its slow part is done. */
export type FitProgress = (done: number, total: number) => void;

export interface AnomalyMethod {
  readonly name: 'patchcore' | 'padim' | 'spade';
  /**
   * Rows of the memory bank of normal patches that scoring searches and feedback extends (PatchCore's
   * coreset with the taught patches). Absent: the method keeps no such bank (PaDiM, SPADE).
   */
  readonly bankSize?: number;
  /**
   * Fits on `nWindows` windows of normal embeddings, `[nWindows, height * width, dim]` concatenated.
   * `onProgress(done, total)` reports the slow part.
   */
  fit(embeddings: Float32Array, nWindows: number, grid: PatchGrid, onProgress?: FitProgress): void;
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
  /**
   * For methods whose fitted state is a selection of the training patches (PatchCore's coreset): a new model
   * without the patches for which `drop(row)` is true (`row` = the patch's row in `fit`'s embeddings), as if
   * fitted without them; null when the method cannot say (loaded or taught). Cross-fitting uses it to score
   * a clip without the clip's own patches, without fitting again. Absent: fit again (PaDiM, SPADE).
   */
  without?(drop: (row: number) => boolean): AnomalyMethod | null;
  dispose(): void;
}
