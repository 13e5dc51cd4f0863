/**
 * Frequency-aware matching (hark's addition to the papers): in a spectrogram the same local pattern means
 * different things at 200 Hz and at 6 kHz, while PatchCore's nearest-neighbour search ignores where a patch
 * sits. Appending the patch's frequency position as one more coordinate, `scale * (row + 0.5) / height`,
 * makes a patch's nearest normal neighbours come from nearby frequency rows; `scale` is the configured weight
 * times the mean norm of the training embeddings, so the weight means the same for every backbone.
 */
import type { PatchGrid } from '../method.js';

/** Mean Euclidean norm of the `n` rows of `x` (`[n, dim]`). */
export function meanRowNorm(x: Float32Array, n: number, dim: number): number {
  let sum = 0;
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[p * dim + j] ** 2;
    sum += Math.sqrt(s);
  }
  return n ? sum / n : 0;
}

/**
 * Appends the frequency coordinate to each patch of `nWindows` windows (`[nWindows, height * width, dim]`),
 * returning `[nWindows, height * width, dim + 1]`. `scale` 0 returns the input unchanged.
 */
export function appendFrequencyPosition(
  x: Float32Array,
  nWindows: number,
  grid: PatchGrid,
  scale: number,
): Float32Array {
  if (scale === 0) return x;
  const { height, width, dim } = grid;
  const perWindow = height * width;
  if (x.length !== nWindows * perWindow * dim) {
    throw new RangeError(`embeddings have ${x.length} values, expected ${nWindows} x ${perWindow} x ${dim}`);
  }
  const out = new Float32Array(nWindows * perWindow * (dim + 1));
  for (let p = 0; p < nWindows * perWindow; p++) {
    const row = Math.floor((p % perWindow) / width);
    out.set(x.subarray(p * dim, (p + 1) * dim), p * (dim + 1));
    out[p * (dim + 1) + dim] = (scale * (row + 0.5)) / height;
  }
  return out;
}
