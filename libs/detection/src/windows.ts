/**
 * Fixed-length windows over a log-mel spectrogram, so a 5 s clip and a live stream are scored by the same
 * code: a clip is cut into windows of `windowFrames` columns every `hopFrames` columns (the last window is
 * aligned to the clip's end so every column is covered), and the clip's map is the overlap-average of its
 * windows' maps.
 */

/** Start columns of the windows covering `nFrames` columns. A clip shorter than one window gets one window at 0. */
export function windowStarts(nFrames: number, windowFrames: number, hopFrames: number): number[] {
  if (!(windowFrames > 0 && hopFrames > 0)) {
    throw new RangeError(`windowFrames (${windowFrames}) and hopFrames (${hopFrames}) must be > 0`);
  }
  if (nFrames <= windowFrames) return [0];
  const starts: number[] = [];
  for (let s = 0; s + windowFrames <= nFrames; s += hopFrames) starts.push(s);
  const last = nFrames - windowFrames;
  if (starts[starts.length - 1] !== last) starts.push(last);
  return starts;
}

/**
 * Copies columns [start, start + windowFrames) of `spec` (`[nMels, nFrames]`) into `out` (`[nMels, windowFrames]`).
 * Columns past the end of the spectrogram repeat the last column (only for clips shorter than a window).
 */
export function copyWindow(
  spec: Float32Array,
  nMels: number,
  nFrames: number,
  start: number,
  windowFrames: number,
  out: Float32Array = new Float32Array(nMels * windowFrames),
): Float32Array {
  for (let m = 0; m < nMels; m++) {
    const src = m * nFrames;
    const dst = m * windowFrames;
    for (let t = 0; t < windowFrames; t++) out[dst + t] = spec[src + Math.min(start + t, nFrames - 1)];
  }
  return out;
}

/** Accumulates window maps (`[nMels, windowFrames]`) into a clip map (`[nMels, nFrames]`), averaging overlaps. */
export class OverlapAverager {
  private readonly sum: Float32Array;
  private readonly count: Uint16Array;

  constructor(
    readonly nMels: number,
    readonly nFrames: number,
  ) {
    this.sum = new Float32Array(nMels * nFrames);
    this.count = new Uint16Array(nFrames);
  }

  add(start: number, map: Float32Array, windowFrames: number): void {
    const end = Math.min(this.nFrames, start + windowFrames);
    for (let m = 0; m < this.nMels; m++) {
      const dst = m * this.nFrames;
      const src = m * windowFrames;
      for (let t = start; t < end; t++) this.sum[dst + t] += map[src + t - start];
    }
    for (let t = start; t < end; t++) this.count[t]++;
  }

  /** The averaged map; columns no window covered are 0. */
  result(): Float32Array {
    const out = new Float32Array(this.sum.length);
    for (let m = 0; m < this.nMels; m++) {
      for (let t = 0; t < this.nFrames; t++) {
        const c = this.count[t];
        out[m * this.nFrames + t] = c ? this.sum[m * this.nFrames + t] / c : 0;
      }
    }
    return out;
  }
}
