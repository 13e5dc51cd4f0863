export { auc, pauc, rocCurve, trapezoid, type RocCurve } from './roc.js';
export { validateBinary, type BinaryLabels, type ClassCounts } from './validate.js';
export { ClipMetricAccumulator, type ClipMetrics } from './clip-accumulator.js';
export { PixelMetricAccumulator, type PixelMetrics } from './pixel-accumulator.js';
export { aupro, clipPixelAuc, pixelAuc, pixelMetrics, type PixelClip } from './pixel.js';
export { connectedComponents8, type Components } from './connected-components.js';
export {
  clipRankAuc,
  faultKind,
  kindClips,
  kindTable,
  shareOverThreshold,
  type KindClip,
  type KindResult,
} from './by-kind.js';
