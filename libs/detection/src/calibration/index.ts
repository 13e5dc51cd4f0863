export {
  Calibration,
  empiricalQuantile,
  MIN_NORMAL_SCORES,
  type CalibrationData,
  type CalibrationMethod,
  type CalibrationOptions,
} from './calibration.js';
export { fitGamma, gammaQuantile, type GammaParams } from './gamma.js';
export { gammaP, gammaPInv, gammaQ, lnGamma } from './special.js';
export {
  countClusters,
  DEFAULT_TAIL_SHARE,
  fitRate,
  gpdLogLikelihood,
  gpdReturnLevel,
  MIN_EXCESSES,
  rateFor,
  runMinima,
  type RateFit,
  type RateOptions,
} from './rate.js';
export { BurnIn, type BurnInOptions, type BurnInResult } from './burn-in.js';
