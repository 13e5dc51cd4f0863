/**
 * Patch scores to an anomaly map on the spectrogram grid, as the papers do for images (PatchCore, PaDiM,
 * SPADE: upsample the patch score grid bilinearly to the input size, then a Gaussian blur with sigma 4):
 * here the "input size" is the window's log-mel grid, `[nMels, windowFrames]`, one value per time-frequency
 * cell, and the blur has its own sigma along mel bins and along frames (cells are not square in audio).
 */
import { resizeBilinear } from '../components/feature-maps.js';
import { gaussianBlur2d } from '../components/gaussian-blur.js';
import type { PatchGrid } from '../method.js';

export interface MapShape {
  /** Rows of the window map: mel bins, row 0 = lowest frequency. */
  nMels: number;
  /** Columns: frames of one window. */
  windowFrames: number;
  blurSigmaMel: number;
  blurSigmaTime: number;
}

/** The window map `[nMels, windowFrames]` from the patch scores (`[grid.height * grid.width]`). */
export function windowAnomalyMap(
  patchScores: Float32Array,
  grid: Pick<PatchGrid, 'height' | 'width'>,
  shape: MapShape,
): Float32Array {
  if (patchScores.length !== grid.height * grid.width) {
    throw new RangeError(
      `patchScores has ${patchScores.length} values, the grid ${grid.height} x ${grid.width}`,
    );
  }
  const up = resizeBilinear(
    { data: patchScores, channels: 1, height: grid.height, width: grid.width },
    shape.nMels,
    shape.windowFrames,
  ).data;
  if (shape.blurSigmaMel === 0 && shape.blurSigmaTime === 0) return up === patchScores ? up.slice() : up;
  return gaussianBlur2d(up, shape.nMels, shape.windowFrames, shape.blurSigmaMel, shape.blurSigmaTime);
}
