/**
 * Pretrained CNN backbones on onnxruntime-node (CPU): ImageNet MobileNetV2 / InceptionV3 converted from the
 * Keras weights shipped in nsfwjs, and the openWakeWord speech embedding. Nothing is downloaded at run time.
 */
export {
  loadBackbone,
  openBackboneSessions,
  resolveTaps,
  type Backbone,
  type BackboneTap,
  type LoadBackboneOptions,
  type TapOutput,
} from './backbone.js';
export {
  backboneThread,
  backboneWorkerThreads,
  setBackboneThread,
  type BackboneThread,
  type RunOutput,
  type SessionRunner,
} from './session-runner.js';
export {
  BACKBONE_IDS,
  BACKBONES,
  MOBILENETV2_TAPS,
  backboneSpec,
  frozenFeatureLayers,
  type BackboneId,
  type BackboneSpec,
} from './registry.js';
export { toBackboneInput, type DbRange } from './preprocess.js';
export {
  SpeechFrontEnd,
  speechFrameCount,
  SPEECH_HOP,
  SPEECH_SAMPLE_RATE,
  SPEECH_WINDOW,
  type SpeechMel,
} from './speech-frontend.js';
export { SPEECH_MEL_BINS, SPEECH_TAP_TENSORS, SPEECH_WINDOW_FRAMES, speechTapSize } from './speech.js';
export {
  CONVERTER_VERSION,
  convertKerasModel,
  type ConvertedModel,
  type TapInfo,
} from './convert/convert-keras.js';
export { loadTfjsLayersModel, nsfwjsModelDir, type TfjsLayersModel } from './convert/tfjs-layers.js';
export { defaultCacheDir } from './cache.js';
