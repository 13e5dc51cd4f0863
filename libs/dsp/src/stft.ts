import FFT from 'fft.js';
import { frameCount, nFreqs } from './params.js';
import { hann, padWindow } from './window.js';

/**
 * Power spectrum of one frame, |FFT(window * x)|^2, with every buffer allocated once: the building block
 * of {@link stft} and of the streaming extractor. Uses fft.js's radix-4 real transform.
 */
export class FramePowerSpectrum {
  readonly nFft: number;
  readonly nFreqs: number;
  /** The analysis window, already centred in nFft samples. */
  readonly window: Float64Array;
  /** |X[k]|^2 for k = 0 .. nFft / 2 of the last frame computed. */
  readonly power: Float64Array;
  private readonly fft: FFT;
  private readonly frame: Float64Array;
  private readonly spectrum: Float64Array;

  constructor(nFft: number, window: Float64Array = hann(nFft)) {
    this.nFft = nFft;
    this.nFreqs = nFreqs(nFft);
    this.window = padWindow(window, nFft);
    this.power = new Float64Array(this.nFreqs);
    this.fft = new FFT(nFft);
    this.frame = new Float64Array(nFft);
    this.spectrum = new Float64Array(2 * nFft);
  }

  /** Computes the power spectrum of `x[offset .. offset + nFft]` into {@link power}. */
  compute(x: ArrayLike<number>, offset: number): Float64Array {
    const { frame, window, spectrum, power } = this;
    for (let i = 0; i < frame.length; i++) frame[i] = x[offset + i] * window[i];
    this.fft.realTransform(spectrum, frame);
    for (let k = 0; k < power.length; k++) {
      const re = spectrum[2 * k];
      const im = spectrum[2 * k + 1];
      power[k] = re * re + im * im;
    }
    return power;
  }
}

/**
 * Reflect-pads `pad` samples on both sides without repeating the edge sample (numpy/torch 'reflect').
 * @throws RangeError when the signal has `pad` samples or fewer, as torch does.
 */
export function reflectPad(x: Float32Array, pad: number): Float32Array {
  if (pad === 0) return x;
  if (x.length <= pad) {
    throw new RangeError(
      `reflect padding of ${pad} samples needs a signal longer than ${pad} (got ${x.length})`,
    );
  }
  const out = new Float32Array(x.length + 2 * pad);
  out.set(x, pad);
  for (let i = 0; i < pad; i++) {
    out[pad - 1 - i] = x[i + 1];
    out[pad + x.length + i] = x[x.length - 2 - i];
  }
  return out;
}

export interface StftOptions {
  nFft: number;
  hopLength: number;
  /** Window length (<= nFft) of the periodic Hann window centred in each frame. Default nFft. */
  winLength?: number;
  /** Reflect-pad nFft / 2 samples on both sides (torch.stft center=True). Default false. */
  center?: boolean;
}

/** A power spectrogram, feature-major like torch.stft's output. */
export interface PowerSpectrogram {
  nFreqs: number;
  nFrames: number;
  /** |X|^2, `[nFreqs, nFrames]` row-major; row k is the bin at k * sampleRate / nFft Hz. */
  data: Float32Array;
}

/**
 * Short-time power spectrum with a periodic Hann window, as torch.stft(...).abs() ** 2. Without centring
 * frame t covers samples [t * hopLength, t * hopLength + nFft); a signal shorter than nFft has no frames.
 */
export function stft(signal: Float32Array, o: StftOptions): PowerSpectrogram {
  const x = o.center ? reflectPad(signal, o.nFft >> 1) : signal;
  const kernel = new FramePowerSpectrum(o.nFft, hann(o.winLength ?? o.nFft));
  const nFrames = frameCount(x.length, o.nFft, o.hopLength);
  const data = new Float32Array(kernel.nFreqs * nFrames);
  for (let t = 0; t < nFrames; t++) {
    const power = kernel.compute(x, t * o.hopLength);
    for (let k = 0; k < power.length; k++) data[k * nFrames + t] = power[k];
  }
  return { nFreqs: kernel.nFreqs, nFrames, data };
}

/** `10 * log10(max(p, amin))` for every element, into `out` (may be `power` itself). */
export function powerToDb<T extends Float32Array | Float64Array>(
  power: ArrayLike<number>,
  out: T,
  amin = 1e-10,
): T {
  for (let i = 0; i < power.length; i++) out[i] = 10 * Math.log10(Math.max(power[i], amin));
  return out;
}
