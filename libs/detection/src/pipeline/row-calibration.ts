/**
 * Per-frequency calibration of the anomaly map (hark's addition): normal sound is not equally steady in every
 * band (wind and traffic move the low bands, fans hiss in the high ones), so the same raw patch distance means
 * "normal" in one mel band and "anomalous" in another. From the held-out normal windows' maps, each mel bin
 * gets its own level, the `q` quantile of its raw map values; the normalised map divides by it, so 1.0 is
 * "as high as normal sound reaches in this band" everywhere. Clip and window scores keep the gamma threshold.
 */
import { empiricalQuantile } from '../calibration/index.js';

/** Collects raw window maps (`[nMels, windowFrames]`) of normal windows and gives per-bin quantiles. */
export class RowLevels {
  private readonly rows: number[][];

  constructor(readonly nMels: number) {
    this.rows = Array.from({ length: nMels }, () => []);
  }

  add(map: Float32Array): void {
    const frames = map.length / this.nMels;
    for (let m = 0; m < this.nMels; m++) {
      const row = this.rows[m];
      for (let t = m * frames; t < (m + 1) * frames; t++) row.push(map[t]);
    }
  }

  /** The `q` quantile of each bin's values, floored at `floor` (> 0) so the division stays finite. */
  levels(q: number, floor: number): number[] {
    return this.rows.map((row) => {
      if (row.length === 0) throw new Error('no normal window maps were added to calibrate the map rows');
      return Math.max(floor, empiricalQuantile(row, q));
    });
  }
}

/** Divides each row m of `map` (`[nMels, frames]`) by `levels[m]`, in place. */
export function normaliseRows(map: Float32Array, levels: readonly number[]): Float32Array {
  const frames = map.length / levels.length;
  for (let m = 0; m < levels.length; m++) {
    const inv = 1 / levels[m];
    for (let t = m * frames; t < (m + 1) * frames; t++) map[t] *= inv;
  }
  return map;
}
