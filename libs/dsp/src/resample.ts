import { kaiser, kaiserBeta } from './window.js';

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

/**
 * Streaming rational resampler: a Kaiser-windowed-sinc low-pass evaluated as a polyphase filter bank.
 * With up / down = outRate / inRate in lowest terms, output sample n sits at input time t = n * down / up
 * and is `sum_k x[k] * h(t - k)`, h the windowed sinc (zero phase: output and input stay aligned, no delay
 * in the batch result). Time and phase are exact integers, so the output of any chunking followed by
 * {@link flush} is bitwise equal to {@link resample} of the whole signal. Streaming latency is
 * `halfTaps` input samples. Equal rates pass samples through unchanged.
 */
export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  readonly up: number;
  readonly down: number;
  /** Half the filter length in input samples; each output reads 2 * halfTaps inputs. */
  readonly halfTaps: number;
  /** `[up, 2 * halfTaps]`: row p holds the taps for outputs whose time has fraction p / up. */
  private readonly table: Float32Array;
  private buffer: Float32Array;
  /** Input index of buffer[0] (negative at the start: zeros before the signal). */
  private bufferStart = 0;
  private bufferLength = 0;
  private received = 0;
  private produced = 0;
  private flushed = false;

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
    const length = (attenuation - 7.95) / (2.285 * 2 * Math.PI * transition) + 1;
    this.halfTaps = inRate === outRate ? 0 : Math.ceil(length / 2);
    const taps = 2 * this.halfTaps;
    if (this.up * taps > MAX_TABLE) {
      throw new RangeError(
        `resampling ${inRate} Hz to ${outRate} Hz needs ${this.up} filter phases (the rates share no large ` +
          `common factor); resample to a rate with a larger common factor with ${outRate} Hz first`,
      );
    }
    this.table = new Float32Array(this.up * taps);
    const beta = kaiserBeta(attenuation);
    for (let p = 0; p < this.up; p++) {
      for (let m = 0; m < taps; m++) {
        const t = this.halfTaps - 1 - m + p / this.up;
        const x = 2 * cutoff * t;
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
        this.table[p * taps + m] = 2 * cutoff * sinc * kaiser(t / this.halfTaps, beta);
      }
    }
    this.buffer = new Float32Array(4096 + taps);
    this.reset();
  }

  /** Output samples that a signal of `inputLength` samples resamples to: ceil(inputLength * up / down). */
  outputLength(inputLength: number): number {
    return Math.ceil((inputLength * this.up) / this.down);
  }

  /** Consumes a chunk; returns every output sample whose inputs have all arrived (a new array, maybe empty). */
  push(chunk: ArrayLike<number>): Float32Array {
    if (this.flushed) throw new Error('Resampler.push after flush(): call reset() to start a new stream');
    this.append(chunk, chunk.length);
    this.received += chunk.length;
    return this.drain();
  }

  /** Ends the stream: returns the remaining outputs, treating the input as zero after its end. */
  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    this.flushed = true;
    this.append(null, this.halfTaps);
    return this.drain();
  }

  /** Starts a new stream. */
  reset(): void {
    const pre = Math.max(this.halfTaps - 1, 0);
    this.buffer.fill(0, 0, pre);
    this.bufferStart = -pre;
    this.bufferLength = pre;
    this.received = 0;
    this.produced = 0;
    this.flushed = false;
  }

  /** Appends `n` samples of `chunk` (zeros when null), first dropping samples no future output reads. */
  private append(chunk: ArrayLike<number> | null, n: number): void {
    const keepFrom = Math.floor((this.produced * this.down) / this.up) - this.halfTaps + 1;
    const drop = Math.min(Math.max(keepFrom - this.bufferStart, 0), this.bufferLength);
    if (drop > 0) {
      this.buffer.copyWithin(0, drop, this.bufferLength);
      this.bufferStart += drop;
      this.bufferLength -= drop;
    }
    if (this.bufferLength + n > this.buffer.length) {
      const bigger = new Float32Array(Math.max(2 * this.buffer.length, this.bufferLength + n));
      bigger.set(this.buffer.subarray(0, this.bufferLength));
      this.buffer = bigger;
    }
    const b = this.buffer;
    const at = this.bufferLength;
    if (chunk) for (let j = 0; j < n; j++) b[at + j] = chunk[j];
    else b.fill(0, at, at + n);
    this.bufferLength += n;
  }

  /** Computes every output n with floor(n * down / up) + halfTaps inside the buffer. */
  private drain(): Float32Array {
    const { up, down, halfTaps, table, buffer } = this;
    if (halfTaps === 0) {
      const out = buffer.slice(0, this.bufferLength);
      this.bufferStart += this.bufferLength;
      this.bufferLength = 0;
      this.produced += out.length;
      return out;
    }
    const available = this.bufferStart + this.bufferLength - halfTaps; // = last index - halfTaps + 1
    const end = available > 0 ? Math.ceil((available * up) / down) : 0;
    const out = new Float32Array(Math.max(end - this.produced, 0));
    const taps = 2 * halfTaps;
    let i = Math.floor((this.produced * down) / up);
    let p = this.produced * down - i * up;
    for (let o = 0; o < out.length; o++) {
      const row = p * taps;
      const x0 = i - halfTaps + 1 - this.bufferStart;
      // Four partial sums (taps is even, so the tail has 0 or 2 terms): ~1.8x faster in V8, same every run.
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0;
      let m = 0;
      for (; m + 3 < taps; m += 4) {
        a0 += table[row + m] * buffer[x0 + m];
        a1 += table[row + m + 1] * buffer[x0 + m + 1];
        a2 += table[row + m + 2] * buffer[x0 + m + 2];
        a3 += table[row + m + 3] * buffer[x0 + m + 3];
      }
      for (; m < taps; m++) a0 += table[row + m] * buffer[x0 + m];
      out[o] = a0 + a1 + (a2 + a3);
      p += down;
      if (p >= up) {
        i += Math.floor(p / up);
        p %= up;
      }
    }
    this.produced += out.length;
    return out;
  }
}

/** Batch resampling of a whole signal: `push(signal)` then `flush()` of a new {@link Resampler}. */
export function resample(
  signal: ArrayLike<number>,
  inRate: number,
  outRate: number,
  options?: ResamplerOptions,
): Float32Array {
  const r = new Resampler(inRate, outRate, options);
  const head = r.push(signal);
  const tail = r.flush();
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
