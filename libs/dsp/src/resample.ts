import { sharedKernel, TAP_MULTIPLE } from './resample-kernel.js';
import { kaiser, kaiserBeta } from './window.js';
import { concatSamples } from './concat.js';

export interface ResamplerOptions {
  /** Stop-band attenuation of the anti-aliasing filter in dB. Default 80. */
  attenuationDb?: number;
  /**
   * Where the pass band ends, as a fraction of the lower Nyquist frequency min(inRate, outRate) / 2; the
   * transition band runs from there to that Nyquist frequency, so nothing above it aliases by more than
   * -attenuationDb. Default 0.9 (7.2 kHz pass band, 8 kHz stop band for 16 kHz output).
   */
  passband?: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const MAX_TABLE = 1 << 23;
/** Input samples copied to the kernel per call: bounds the shared scratch area to ~taps + SLICE * (1 + up / down) floats. */
const SLICE = 4096;
/**
 * Kaiser's formulas for beta and length are empirical fits, off by a few tenths of a dB: designed for exactly
 * 80 dB, the measured stop band of these filters ranged 79.7-81.5 dB over 8-96 kHz -> 16 kHz. Designing
 * for A + 0.5 dB keeps every one at or above A (checked by the frequency-response test).
 */
const DESIGN_MARGIN_DB = 0.5;

/**
 * Streaming rational resampler: a Kaiser-windowed-sinc low-pass evaluated as a polyphase filter bank.
 *
 * With up / down = outRate / inRate in lowest terms, output sample n sits at input time t = n * down / up and
 * is `sum_k x[k] * h(t - k)`, h the windowed sinc (zero phase: output and input stay aligned, no delay in
 * the batch result). The `up` filter phases are precomputed once per design and shared by every resampler
 * of that design; the dot products run in a WebAssembly SIMD kernel (see resample-kernel.ts).
 *
 * Frequency response (defaults, with F = min(inRate, outRate) / 2, e.g. 8 kHz for 16 kHz output):
 * - pass band 0 .. 0.9 F (7.2 kHz): gain 1 within +-0.001 dB;
 * - transition 0.9 F .. F (7.2 - 8 kHz);
 * - stop band F and above: attenuated by at least 80 dB, so nothing aliases into the output by more than
 *   -80 dB, and an upsampler's images are removed by as much.
 *
 * Time and phase are exact integers and each output is computed by the same instructions whatever the
 * chunking, so the output of any chunking followed by {@link flush} is bitwise equal to {@link resample} of
 * the whole signal. Streaming latency is `halfTaps` input samples. Equal rates pass samples through unchanged.
 */
/** Tables of resamplers collected without {@link Resampler.dispose}. */
const unreleased = new FinalizationRegistry<string>((key) => sharedKernel().release(key));

export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  readonly up: number;
  readonly down: number;
  /** Half the filter length in input samples; each output reads 2 * halfTaps inputs. */
  readonly halfTaps: number;
  private readonly taps: number;
  /** Key of the `[up, taps]` table in the shared kernel memory (row p for output times i + p / up), or null. */
  private readonly tableKey: string | null = null;
  /** The last input samples that future outputs still read, from input index `historyStart`. */
  private readonly history: Float32Array;
  private historyStart = 0;
  private historyLength = 0;
  private produced = 0;
  private flushed = false;
  private disposed = false;

  constructor(inRate: number, outRate: number, options: ResamplerOptions = {}) {
    for (const [name, rate] of [
      ['inRate', inRate],
      ['outRate', outRate],
    ] as const) {
      if (!Number.isInteger(rate) || rate <= 0)
        throw new RangeError(`${name} (${rate}) must be a whole number of Hz > 0`);
    }
    const attenuation = options.attenuationDb ?? 80;
    const passband = options.passband ?? 0.9;
    if (!(attenuation >= 20 && attenuation <= 200))
      throw new RangeError(`attenuationDb (${attenuation}) must be in [20, 200]`);
    if (!(passband > 0 && passband < 1)) throw new RangeError(`passband (${passband}) must be in (0, 1)`);
    const g = gcd(inRate, outRate);
    this.inRate = inRate;
    this.outRate = outRate;
    this.up = outRate / g;
    this.down = inRate / g;
    const stop = Math.min(inRate, outRate) / 2 / inRate; // cycles per input sample
    const transition = stop * (1 - passband);
    const cutoff = stop - transition / 2;
    const design = attenuation + DESIGN_MARGIN_DB;
    const length = (design - 7.95) / (2.285 * 2 * Math.PI * transition) + 1;
    // Rounded up to the kernel's multiple: a slightly longer window only narrows the transition band.
    const half = TAP_MULTIPLE / 2;
    this.halfTaps = inRate === outRate ? 0 : Math.ceil(length / 2 / half) * half;
    this.taps = 2 * this.halfTaps;
    if (this.up * this.taps > MAX_TABLE) {
      throw new RangeError(
        `resampling ${inRate} Hz to ${outRate} Hz needs ${this.up} filter phases (the rates share no large ` +
          `common factor); resample to a rate with a larger common factor with ${outRate} Hz first`,
      );
    }
    this.history = new Float32Array(this.taps);
    if (this.taps > 0) {
      const kernel = sharedKernel();
      const key = `${inRate}:${outRate}:${attenuation}:${passband}`;
      kernel.acquire(key, this.up * this.taps, () =>
        polyphaseTable(this.up, this.halfTaps, cutoff, kaiserBeta(design)),
      );
      this.tableKey = key;
      // A resampler dropped without dispose() still gives its table back once collected.
      unreleased.register(this, key, this);
      const outputs = Math.ceil(((this.taps + SLICE) * this.up) / this.down) + 1;
      kernel.ensureScratch(4 * (this.taps + SLICE + outputs));
    }
    this.reset();
  }

  /** Output samples that a signal of `inputLength` samples resamples to: ceil(inputLength * up / down). */
  outputLength(inputLength: number): number {
    return Math.ceil((inputLength * this.up) / this.down);
  }

  /**
   * Gives the filter table back to the shared kernel (it stays cached while space allows). The resampler
   * cannot be used after; calling it again does nothing.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.tableKey) {
      unreleased.unregister(this);
      sharedKernel().release(this.tableKey);
    }
  }

  /** Consumes a chunk; returns every output sample whose inputs have all arrived (a new array, maybe empty). */
  push(chunk: ArrayLike<number>): Float32Array {
    if (this.disposed) throw new Error('Resampler.push after dispose()');
    if (this.flushed) throw new Error('Resampler.push after flush(): call reset() to start a new stream');
    if (this.taps === 0) return Float32Array.from(chunk);
    return this.consume(chunk, chunk.length);
  }

  /** Ends the stream: returns the remaining outputs, treating the input as zero after its end. */
  flush(): Float32Array {
    if (this.disposed) throw new Error('Resampler.flush after dispose()');
    if (this.flushed) return new Float32Array(0);
    this.flushed = true;
    if (this.taps === 0) return new Float32Array(0);
    return this.consume(null, this.halfTaps);
  }

  /** Starts a new stream. */
  reset(): void {
    const pre = Math.max(this.halfTaps - 1, 0); // zeros before the signal, input indices -pre .. -1
    this.history.fill(0, 0, pre);
    this.historyStart = -pre;
    this.historyLength = pre;
    this.produced = 0;
    this.flushed = false;
  }

  /** Outputs whose last input index (floor(n * down / up) + halfTaps) is below `end`. */
  private available(end: number): number {
    return end > this.halfTaps ? Math.ceil(((end - this.halfTaps) * this.up) / this.down) : 0;
  }

  /** Appends `n` samples of `chunk` (zeros when null) slice by slice, returning the outputs they complete. */
  private consume(chunk: ArrayLike<number> | null, n: number): Float32Array {
    const out = new Float32Array(this.available(this.historyStart + this.historyLength + n) - this.produced);
    let written = 0;
    for (let s = 0; s < n; s += SLICE) written += this.slice(chunk, s, Math.min(SLICE, n - s), out, written);
    return out;
  }

  /**
   * One kernel call: history and `n` new samples go to the shared scratch, the outputs they complete are
   * computed into `out` at `at`, and the samples that later outputs read go back to the history.
   */
  private slice(
    chunk: ArrayLike<number> | null,
    from: number,
    n: number,
    out: Float32Array,
    at: number,
  ): number {
    const { up, down, halfTaps, taps, history } = this;
    const kernel = sharedKernel();
    const heap = kernel.heapView;
    const x = kernel.scratch;
    heap.set(history.subarray(0, this.historyLength), x);
    const fresh = x + this.historyLength;
    if (chunk === null) heap.fill(0, fresh, fresh + n);
    else if (ArrayBuffer.isView(chunk)) heap.set((chunk as Float32Array).subarray(from, from + n), fresh);
    else for (let j = 0; j < n; j++) heap[fresh + j] = chunk[from + j];
    const start = this.historyStart;
    const length = this.historyLength + n;

    const count = this.available(start + length) - this.produced;
    if (count > 0) {
      const i = Math.floor((this.produced * down) / up);
      const p = this.produced * down - i * up;
      const y = x + taps + SLICE;
      kernel.run(
        y,
        count,
        x + i - halfTaps + 1 - start,
        kernel.address(this.tableKey!),
        taps,
        p,
        up,
        Math.floor(down / up),
        down % up,
      );
      out.set(heap.subarray(y, y + count), at);
      this.produced += count;
    }
    const next = Math.floor((this.produced * down) / up) - halfTaps + 1; // first input the next output reads
    const keep = Math.min(Math.max(next, start), start + length);
    history.set(heap.subarray(x + keep - start, x + length));
    this.historyStart = keep;
    this.historyLength = start + length - keep;
    return Math.max(count, 0);
  }
}

/**
 * The `[up, 2 * halfTaps]` polyphase table: row p, tap m weighs input i - halfTaps + 1 + m for the output at
 * input time i + p / up, i.e. h(t) at t = halfTaps - 1 - m + p / up, with h(t) = 2 fc sinc(2 fc t) w(t),
 * fc the cut-off in cycles per input sample and w a Kaiser window of half-width halfTaps (zero at and beyond
 * its ends, so the filter is exactly symmetric).
 */
function polyphaseTable(up: number, halfTaps: number, cutoff: number, beta: number): Float32Array {
  const taps = 2 * halfTaps;
  const table = new Float32Array(up * taps);
  for (let p = 0; p < up; p++) {
    for (let m = 0; m < taps; m++) {
      const t = halfTaps - 1 - m + p / up;
      if (Math.abs(t) >= halfTaps) continue;
      const x = 2 * cutoff * t;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      table[p * taps + m] = 2 * cutoff * sinc * kaiser(t / halfTaps, beta);
    }
  }
  return table;
}

/**
 * Bytes of filter tables the process keeps for its resamplers (used, and cached while there is room): one
 * per design, shared; bounded by `TABLE_CACHE_BYTES` plus the tables in use.
 */
export function resamplerTableBytes(): number {
  return sharedKernel().tableBytes;
}

/**
 * Pass band of the resampling to a model's analysis rate (a sensor's stream, a WAV file to fit, score or
 * evaluate on): 0.95 of the analysis Nyquist frequency, 7.6 kHz at 16 kHz, with the stop band still from 8 kHz
 * (nothing aliases by more than -80 dB). The default 0.9 put the transition band (7.2-8 kHz) under the top
 * three mel bins, 1-17 dB lower than in a recording made at 16 kHz, and a model fitted on such recordings then
 * ranked 48 kHz sound worse: on the development corpus, its test clips sent at 48 kHz, pAUC 0.873 against 0.917
 * as recorded; 0.927 with this pass band, and 0.917 with 0.98 (BENCHMARKS.md, issue 16, session 22). Twice the
 * taps of the default: 1018x real time for 48 to 16 kHz on one core, against 1664x.
 */
export const ANALYSIS_PASSBAND = 0.95;

/**
 * A resampler to a model's analysis rate: {@link ANALYSIS_PASSBAND}, or the default design when that one's
 * table would be too large (rates with almost no common factor, such as 44101 Hz, need thousands of filter
 * phases, and the longer filter would pass the table's bound; common rates need at most 160 phases). Rates the
 * default design cannot take either are refused with its error.
 */
export function analysisResampler(inRate: number, rate: number): Resampler {
  try {
    return new Resampler(inRate, rate, { passband: ANALYSIS_PASSBAND });
  } catch {
    return new Resampler(inRate, rate);
  }
}

/** `signal` at a model's analysis rate `rate`: unchanged at that rate, else through {@link analysisResampler}. */
export function toAnalysisRate(signal: Float32Array, inRate: number, rate: number): Float32Array {
  return inRate === rate ? signal : whole(analysisResampler(inRate, rate), signal);
}

/** `signal` through `r` from start to end (`push` then `flush`), `r` disposed after. */
function whole(r: Resampler, signal: ArrayLike<number>): Float32Array {
  try {
    return concatSamples([r.push(signal), r.flush()]);
  } finally {
    r.dispose();
  }
}

/** Batch resampling of a whole signal: `push(signal)` then `flush()` of a new {@link Resampler}. */
export function resample(
  signal: ArrayLike<number>,
  inRate: number,
  outRate: number,
  options?: ResamplerOptions,
): Float32Array {
  return whole(new Resampler(inRate, outRate, options), signal);
}
