/** The detector pipeline: config, windows -> embeddings -> method -> anomaly map, model directory, evaluation. */
export * from './config.js';
export type { Spectrogram } from './types.js';
export { FeatureExtractor, poolChannels, type WindowEmbeddings } from './feature-extractor.js';
export {
  learnInputScaling,
  levelWindow,
  MIN_BIN_STD,
  median,
  percentile,
  removeWindowLevel,
  removeWindowTilt,
  standardiseBins,
  type InputScaling,
} from './input-scaling.js';
export { windowAnomalyMap, type MapShape } from './anomaly-map.js';
export { anomalyBoxes, toneExtent, type AnomalyBox, type BoxOptions } from './boxes.js';
export { binLevelRise, toneEvidence, type ToneEvidence } from './tone-map.js';
export { appendFrequencyPosition, meanRowNorm } from './frequency-position.js';
export { availableMethods, createMethod, methodFromState } from './methods.js';
export { normaliseRows, RowLevels } from './row-calibration.js';
export * from './detector.js';
export * from './fusion.js';
export * from './feedback.js';
export * from './fit-detector.js';
export * from './model-dir.js';
export * from './evaluate.js';
export * from './training-needs.js';
