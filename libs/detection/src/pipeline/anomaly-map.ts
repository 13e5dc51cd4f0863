/**
 * Patch scores to an anomaly map on the spectrogram grid, as the papers do for images (PatchCore, PaDiM,
 * SPADE: upsample the patch score grid bilinearly to the input size, then a Gaussian blur with sigma 4):
 * here the "input size" is the window's log-mel grid, `[nMels, windowFrames]`, one value per time-frequency
 * cell, and the blur has its own sigma along mel bins and along frames (cells are not square in audio).
 *
 * Both steps are linear and separable, so each axis's upsampling and blur fold into one matrix (`AxisMap`,
 * `[out, patches]`) and the map is `Ay P Ax^T`: 2 small products on the patch grid instead of a blur of every
 * cell with 65 and 33 taps (3.0 -> 0.3 ms of CPU per window at the defaults, BENCHMARKS.md). It is the same
 * map up to float rounding: `resizeBilinear` then `gaussianBlur2d` (the test compares them).
 */
import { axisTaps } from '../components/feature-maps.js';
import { blurMatrix } from '../components/gaussian-blur.js';
import type { PatchGrid } from '../method.js';

export interface MapShape {
  /** Rows of the window map: mel bins, row 0 = lowest frequency. */
  nMels: number;
  /** Columns: frames of one window. */
  windowFrames: number;
  blurSigmaMel: number;
  blurSigmaTime: number;
}

/**
 * One axis of the map: `out[o] = sum over p in [lo[o], hi[o]) of w[o * patches + p] * in[p]`, the bilinear
 * upsampling (align_corners false, as `resizeBilinear`) followed by the blur (as `gaussianBlur2d`, sigma 0:
 * none). `lo`/`hi` bound each row's non-zero weights.
 */
interface AxisMap {
  out: number;
  patches: number;
  w: Float64Array;
  lo: Int32Array;
  hi: Int32Array;
}

function axisMap(out: number, patches: number, sigma: number): AxisMap {
  // The upsampling as a matrix [out, patches]; the same size is the identity, as resizeBilinear returns its input.
  const up = new Float64Array(out * patches);
  if (out === patches) for (let o = 0; o < out; o++) up[o * patches + o] = 1;
  else {
    const { i0, i1, w1 } = axisTaps(out, patches);
    for (let o = 0; o < out; o++) {
      up[o * patches + i0[o]] += 1 - w1[o];
      up[o * patches + i1[o]] += w1[o];
    }
  }
  let w = up;
  if (sigma > 0) {
    const b = blurMatrix(out, sigma);
    w = new Float64Array(out * patches);
    for (let o = 0; o < out; o++)
      for (let s = 0; s < out; s++) {
        const bs = b[o * out + s];
        if (bs !== 0) for (let p = 0; p < patches; p++) w[o * patches + p] += bs * up[s * patches + p];
      }
  }
  const lo = new Int32Array(out);
  const hi = new Int32Array(out);
  for (let o = 0; o < out; o++) {
    let a = 0;
    let z = patches;
    while (a < patches && w[o * patches + a] === 0) a++;
    while (z > a && w[o * patches + z - 1] === 0) z--;
    lo[o] = a;
    hi[o] = z;
  }
  return { out, patches, w, lo, hi };
}

/** Axis maps by shape and sigma: a model's windows all use the same two. */
const axisMaps = new Map<string, AxisMap>();

function cachedAxisMap(out: number, patches: number, sigma: number): AxisMap {
  const key = `${out}:${patches}:${sigma}`;
  let m = axisMaps.get(key);
  if (!m) {
    m = axisMap(out, patches, sigma);
    if (axisMaps.size > 64) axisMaps.clear();
    axisMaps.set(key, m);
  }
  return m;
}

/** The window map `[nMels, windowFrames]` from the patch scores (`[grid.height * grid.width]`). */
export function windowAnomalyMap(
  patchScores: Float32Array,
  grid: Pick<PatchGrid, 'height' | 'width'>,
  shape: MapShape,
): Float32Array {
  const { height: gh, width: gw } = grid;
  if (patchScores.length !== gh * gw) {
    throw new RangeError(`patchScores has ${patchScores.length} values, the grid ${gh} x ${gw}`);
  }
  const { nMels, windowFrames: wf } = shape;
  const ay = cachedAxisMap(nMels, gh, shape.blurSigmaMel);
  const ax = cachedAxisMap(wf, gw, shape.blurSigmaTime);
  // Along time first (t = P Ax^T, [gh, wf]), then along mel bins (Ay t), each in double.
  const t = new Float64Array(gh * wf);
  for (let i = 0; i < gh; i++) {
    const row = i * gw;
    for (let x = 0; x < wf; x++) {
      let s = 0;
      const wx = x * gw;
      for (let j = ax.lo[x]; j < ax.hi[x]; j++) s += ax.w[wx + j] * patchScores[row + j];
      t[i * wf + x] = s;
    }
  }
  const map = new Float32Array(nMels * wf);
  const acc = new Float64Array(wf);
  for (let y = 0; y < nMels; y++) {
    acc.fill(0);
    const wy = y * gh;
    for (let i = ay.lo[y]; i < ay.hi[y]; i++) {
      const a = ay.w[wy + i];
      const ti = i * wf;
      for (let x = 0; x < wf; x++) acc[x] += a * t[ti + x];
    }
    map.set(acc, y * wf);
  }
  return map;
}
