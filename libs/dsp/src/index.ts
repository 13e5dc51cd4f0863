/**
 * @hark/dsp: audio to log-mel spectrograms, batch and streaming.
 *
 * Data path: {@link readWav} / {@link decodeWav} (mono float32) -> {@link Resampler} (any rate to the model
 * rate) -> {@link LogMelExtractor} (streaming columns `[nMels]`) or {@link logMelSpectrogram} (batch
 * `[nMels, nFrames]`). Maths are free functions: {@link hann}, {@link melFilterBank}, {@link stft},
 * {@link powerToDb}.
 */
export { decodeWav, readWav, type DecodeWavOptions, type WavAudio } from './wav.js';
export {
  ANALYSIS_PASSBAND,
  analysisResampler,
  Resampler,
  resample,
  resamplerTableBytes,
  toAnalysisRate,
  type ResamplerOptions,
} from './resample.js';
export { concatSamples } from './concat.js';
export { besselI0, hann, kaiser, kaiserBeta, padWindow } from './window.js';
export {
  applyFilterBank,
  hzToMel,
  melCentreFrequencies,
  melFilterBank,
  melToHz,
  sparseFilterBank,
  type MelFilterBankOptions,
  type SparseFilterBank,
} from './mel.js';
export {
  FramePowerSpectrum,
  powerToDb,
  reflectPad,
  stft,
  type PowerSpectrogram,
  type StftOptions,
} from './stft.js';
export {
  frameCount,
  MEL_DEFAULTS,
  nFreqs,
  resolveMelParams,
  type MelParams,
  type MelScale,
} from './params.js';
export { LogMelExtractor, type ColumnCallback } from './extractor.js';
export { column, logMelSpectrogram, transpose, type LogMelSpectrogram } from './spectrogram.js';
export * from './wav-encode.js';
export * from './synth/index.js';
export { showValue, SHOW_VALUE_MAX_CHARS } from './show-value.js';
export { startWorker, withoutConditions } from './worker-thread.js';
