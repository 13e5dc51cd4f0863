import { applyFilterBank, melFilterBank, sparseFilterBank, type SparseFilterBank } from './mel.js';
import { frameCount, resolveMelParams, type MelParams } from './params.js';
import { FramePowerSpectrum } from './stft.js';
import { hann } from './window.js';

/** Receives one spectrogram column: `nMels` dB values, lowest band first. The buffer is reused. */
export type ColumnCallback = (column: Float32Array, frameIndex: number) => void;

/**
 * Streaming log-mel extractor. Feed PCM chunks of any size (one sample to minutes); each whole frame is
 * emitted as soon as its last sample arrives. Frame t covers samples [t * hopLength, t * hopLength + nFft)
 * of everything pushed since construction or {@link reset} (`center = false`); a column is
 * `10 * log10(max(melPower, 1e-10))`, `[nMels]`, band 0 lowest.
 *
 * The concatenated columns are bitwise identical to {@link logMelSpectrogram} of the whole signal, for
 * every chunking: each frame is computed from the same float32 samples by the same code. Window, sparse
 * filterbank and all per-frame buffers are allocated once in the constructor.
 */
export class LogMelExtractor {
  readonly params: MelParams;
  private readonly kernel: FramePowerSpectrum;
  private readonly filters: SparseFilterBank;
  private readonly mel: Float64Array;
  private readonly column: Float32Array;
  /** The next frame's samples collected so far: buffer[0 .. filled). */
  private readonly buffer: Float32Array;
  private filled = 0;
  /** Samples still to drop before the next frame starts (hopLength > nFft). */
  private skip = 0;
  private received = 0;
  private emitted = 0;

  /** @param options any {@link MelParams}; `center` must be false (streams cannot see the future). */
  constructor(options: Partial<MelParams> = {}) {
    const p = resolveMelParams(options);
    if (p.center)
      throw new RangeError('center (true) is batch-only; the streaming extractor needs center = false');
    this.params = p;
    this.kernel = new FramePowerSpectrum(p.nFft, hann(p.winLength));
    this.filters = sparseFilterBank(melFilterBank(p), p.nMels, this.kernel.nFreqs);
    this.mel = new Float64Array(p.nMels);
    this.column = new Float32Array(p.nMels);
    this.buffer = new Float32Array(p.nFft);
  }

  /** Frames emitted since construction or reset. */
  get frames(): number {
    return this.emitted;
  }

  /** Samples pushed since construction or reset. */
  get samples(): number {
    return this.received;
  }

  /** Number of frames that pushing `n` more samples will complete. */
  framesAfter(n: number): number {
    const { nFft, hopLength } = this.params;
    return frameCount(this.received + n, nFft, hopLength) - this.emitted;
  }

  /**
   * Consumes `chunk` and calls `onColumn` for each completed frame with a reused `[nMels]` buffer (copy it
   * to keep it). Returns the number of columns emitted.
   */
  process(chunk: ArrayLike<number>, onColumn: ColumnCallback): number {
    return this.run(chunk, onColumn, null);
  }

  /**
   * Consumes `chunk` and returns the completed columns as a new Float32Array, frame-major
   * `[nNewFrames, nMels]` (possibly empty).
   */
  push(chunk: ArrayLike<number>): Float32Array {
    const out = new Float32Array(this.framesAfter(chunk.length) * this.params.nMels);
    this.run(chunk, null, out);
    return out;
  }

  /** Forgets buffered samples and restarts frame numbering (a new stream). */
  reset(): void {
    this.filled = 0;
    this.skip = 0;
    this.received = 0;
    this.emitted = 0;
  }

  private run(chunk: ArrayLike<number>, onColumn: ColumnCallback | null, out: Float32Array | null): number {
    const { nFft, hopLength, nMels } = this.params;
    const { buffer, column } = this;
    const first = this.emitted;
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(nFft - this.filled, chunk.length - i);
      for (let j = 0; j < n; j++) buffer[this.filled + j] = chunk[i + j];
      this.filled += n;
      i += n;
      if (this.filled < nFft) break;
      const target = out ?? column;
      this.frame(target, out ? (this.emitted - first) * nMels : 0);
      if (onColumn) onColumn(column, this.emitted);
      this.emitted++;
      if (hopLength < nFft) {
        buffer.copyWithin(0, hopLength, nFft);
        this.filled = nFft - hopLength;
      } else {
        this.filled = 0;
        this.skip = hopLength - nFft;
      }
    }
    this.received += chunk.length;
    return this.emitted - first;
  }

  /** Log-mel of the full buffer into `target[offset .. offset + nMels)`. */
  private frame(target: Float32Array, offset: number): void {
    const power = this.kernel.compute(this.buffer, 0);
    applyFilterBank(this.filters, power, this.mel);
    const mel = this.mel;
    for (let m = 0; m < mel.length; m++) target[offset + m] = 10 * Math.log10(Math.max(mel[m], 1e-10));
  }
}
