import { showValue } from './show-value.js';

/** Mel frequency scale: Slaney's (librosa's and torchaudio's `norm='slaney'` default) or HTK's. */
export type MelScale = 'slaney' | 'htk';

/**
 * Log-mel spectrogram parameters, named as in librosa/torchaudio so golden tests compare one to one.
 * Every field is optional on input; {@link resolveMelParams} fills the defaults and validates.
 */
export interface MelParams {
  /** Sample rate of the signal in Hz. Default 16000. */
  sampleRate: number;
  /** FFT size in samples; a power of two (fft.js). Default 1024. */
  nFft: number;
  /** Window length in samples, <= nFft; the Hann window is centred in the nFft frame. Default nFft. */
  winLength: number;
  /** Samples between successive frames. Default 256 (16 ms at 16 kHz). */
  hopLength: number;
  /** Number of mel bands. Default 128. */
  nMels: number;
  /** Lowest filter edge in Hz. Default 0. */
  fMin: number;
  /** Highest filter edge in Hz, <= sampleRate / 2. Default sampleRate / 2. */
  fMax: number;
  /**
   * Batch only: reflect-pad nFft / 2 samples on both sides so frame t is centred on sample t * hopLength
   * (torch.stft's `center=True`). The streaming extractor always uses `center = false`. Default false.
   */
  center: boolean;
  /** Mel scale of the filter centres. Default 'slaney'. Filters always get Slaney area normalisation. */
  melScale: MelScale;
}

/** The defaults of {@link MelParams}; `winLength` and `fMax` follow `nFft` and `sampleRate`. */
export const MEL_DEFAULTS = {
  sampleRate: 16000,
  nFft: 1024,
  hopLength: 256,
  nMels: 128,
  fMin: 0,
  center: false,
  melScale: 'slaney',
} as const;

const positiveInteger = (name: string, value: number): void => {
  if (typeof value !== 'number' || !(value > 0))
    throw new RangeError(`${name} (${showValue(value)}) must be > 0`);
  if (!Number.isInteger(value)) throw new RangeError(`${name} (${showValue(value)}) must be a whole number`);
};

/** Highest sample rate: 768 kHz, the highest that audio interfaces offer. */
export const MAX_SAMPLE_RATE = 768_000;
/** Largest FFT: 65536 samples is 1.4 s at 48 kHz, past any short-time analysis a window of sound uses. */
export const MAX_NFFT = 65_536;

/**
 * Fills defaults and rejects invalid combinations with a message that quotes the values, e.g.
 * `hopLength (0) must be > 0` or `fMax (9000) must be <= sampleRate / 2 (8000)`.
 * Empty mel filters (too many mels for nFft) are rejected by {@link melFilterBank}.
 */
export function resolveMelParams(options: Partial<MelParams> = {}): MelParams {
  const sampleRate = options.sampleRate ?? MEL_DEFAULTS.sampleRate;
  const nFft = options.nFft ?? MEL_DEFAULTS.nFft;
  const p: MelParams = {
    sampleRate,
    nFft,
    winLength: options.winLength ?? nFft,
    hopLength: options.hopLength ?? MEL_DEFAULTS.hopLength,
    nMels: options.nMels ?? MEL_DEFAULTS.nMels,
    fMin: options.fMin ?? MEL_DEFAULTS.fMin,
    fMax: options.fMax ?? sampleRate / 2,
    center: options.center ?? MEL_DEFAULTS.center,
    melScale: options.melScale ?? MEL_DEFAULTS.melScale,
  };
  positiveInteger('sampleRate', p.sampleRate);
  if (p.sampleRate > MAX_SAMPLE_RATE)
    throw new RangeError(
      `sampleRate (${showValue(p.sampleRate)}) must be <= ${MAX_SAMPLE_RATE} Hz, the highest rate audio interfaces offer`,
    );
  positiveInteger('nFft', p.nFft);
  // Checked on the number, not with `n & (n - 1)`: the bitwise test truncates to 32 bits, so it passed 2^31 and 1e308.
  if (p.nFft < 4 || p.nFft > MAX_NFFT || 2 ** Math.round(Math.log2(p.nFft)) !== p.nFft) {
    throw new RangeError(
      `nFft (${showValue(p.nFft)}) must be a power of two >= 4 and <= ${MAX_NFFT} (e.g. 512, 1024, 2048)`,
    );
  }
  positiveInteger('winLength', p.winLength);
  if (p.winLength > p.nFft)
    throw new RangeError(`winLength (${showValue(p.winLength)}) must be <= nFft (${p.nFft})`);
  positiveInteger('hopLength', p.hopLength);
  positiveInteger('nMels', p.nMels);
  // Each mel band needs an FFT bin of its own (melFilterBank names the first empty one); more bands than bins
  // can never work, and a damaged model file's huge count would first ask for windows no memory holds.
  if (p.nMels > nFreqs(p.nFft))
    throw new RangeError(
      `nMels (${showValue(p.nMels)}) must be <= nFft / 2 + 1 (${nFreqs(p.nFft)}), the spectrum's bins`,
    );
  if (!Number.isFinite(p.fMin) || p.fMin < 0)
    throw new RangeError(`fMin (${showValue(p.fMin)}) must be >= 0 Hz`);
  if (!Number.isFinite(p.fMax) || p.fMax > p.sampleRate / 2) {
    throw new RangeError(`fMax (${showValue(p.fMax)}) must be <= sampleRate / 2 (${p.sampleRate / 2})`);
  }
  if (p.fMax <= p.fMin)
    throw new RangeError(`fMax (${showValue(p.fMax)}) must be > fMin (${showValue(p.fMin)})`);
  if (typeof p.center !== 'boolean')
    throw new TypeError(`center (${showValue(p.center)}) must be true or false`);
  if (p.melScale !== 'slaney' && p.melScale !== 'htk') {
    throw new RangeError(`melScale (${showValue(p.melScale)}) must be 'slaney' or 'htk'`);
  }
  return p;
}

/** Number of frequency bins of a one-sided spectrum: nFft / 2 + 1. */
export const nFreqs = (nFft: number): number => (nFft >> 1) + 1;

/** Number of whole frames in `length` samples without padding (center = false). */
export function frameCount(length: number, nFft: number, hopLength: number): number {
  return length < nFft ? 0 : Math.floor((length - nFft) / hopLength) + 1;
}
