import { LogMelExtractor } from './extractor.js';
import { resolveMelParams, type MelParams } from './params.js';
import { reflectPad } from './stft.js';

/**
 * A log-mel spectrogram, feature-major like librosa and torchaudio.
 *
 * `data` is `[nMels, nFrames]` row-major: `data[m * nFrames + t]` is mel band m (band 0 = lowest
 * frequency) at frame t, in dB (`10 * log10(max(power, 1e-10))`). Frame t starts at sample
 * `t * hopLength`, or is centred on it when `params.center` is true; its time in seconds is
 * `t * hopLength / sampleRate` (+ `nFft / 2 / sampleRate` for its centre when not centred).
 */
export interface LogMelSpectrogram {
  nMels: number;
  nFrames: number;
  data: Float32Array;
  /** The resolved parameters (defaults filled in). */
  params: MelParams;
}

/**
 * Batch log-mel spectrogram of a mono signal at `params.sampleRate`, equal to
 * torchaudio.transforms.MelSpectrogram(power=2, norm='slaney', window_fn=hann_window) followed by
 * `10 * log10(max(p, 1e-10))`. With `center = false` it is bitwise the concatenation of the streaming
 * {@link LogMelExtractor}'s columns, transposed. A signal shorter than nFft gives zero frames.
 */
export function logMelSpectrogram(signal: Float32Array, params: Partial<MelParams> = {}): LogMelSpectrogram {
  const p = resolveMelParams(params);
  const x = p.center ? reflectPad(signal, p.nFft >> 1) : signal;
  const extractor = new LogMelExtractor({ ...p, center: false });
  const columns = extractor.push(x);
  const nFrames = columns.length / p.nMels;
  return { nMels: p.nMels, nFrames, data: transpose(columns, nFrames, p.nMels), params: p };
}

/** Transposes a row-major `[rows, cols]` matrix into a new `[cols, rows]` one. */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** Column t of a feature-major `[nMels, nFrames]` spectrogram as a new `[nMels]` array. */
export function column(s: Pick<LogMelSpectrogram, 'nMels' | 'nFrames' | 'data'>, t: number): Float32Array {
  const out = new Float32Array(s.nMels);
  for (let m = 0; m < s.nMels; m++) out[m] = s.data[m * s.nFrames + t];
  return out;
}
