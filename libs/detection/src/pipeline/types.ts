/**
 * Types the pipeline's modules share, kept apart from the modules that use them so none of those imports
 * another only for a type (detector.ts, feature-extractor.ts and input-scaling.ts once formed a circle).
 */
import type { LogMelSpectrogram } from '@hark/dsp';

/** A log-mel spectrogram `[nMels, nFrames]` in dB (libs/dsp layout). */
export type Spectrogram = Pick<LogMelSpectrogram, 'nMels' | 'nFrames' | 'data'>;
