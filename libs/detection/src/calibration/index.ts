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
