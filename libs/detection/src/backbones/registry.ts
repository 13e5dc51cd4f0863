/**
 * The backbones hark ships: where their weights come from, which layers may be tapped, and how to build them.
 */
import { CONVERTER_VERSION, convertKerasModel, type ConvertedModel } from './convert/convert-keras.js';
import {
  buildSpeechBackbone,
  openWakeWordModelFile,
  SPEECH_MEL_BINS,
  SPEECH_TAP_TENSORS,
  speechTapSize,
} from './speech.js';
import {
  loadTfjsLayersModel,
  nsfwjsModelDir,
  readTfjsModelJson,
  tfjsModelFiles,
  type TfjsModelJson,
} from './convert/tfjs-layers.js';

export type BackboneId = 'mobilenetv2' | 'inceptionv3' | 'speech';

export const BACKBONE_IDS: readonly BackboneId[] = ['mobilenetv2', 'inceptionv3', 'speech'];

/**
 * The two MobileNetV2 tap pairs at strides 8 and 16, to be chosen by evaluation: `narrow` = the linear
 * bottleneck block outputs (32 + 64 channels), `wide` = the expansion activations (192 + 384 channels).
 */
export const MOBILENETV2_TAPS = {
  narrow: ['block_5_add', 'block_9_add'],
  wide: ['block_6_expand_relu', 'block_10_expand_relu'],
} as const;

export interface BackboneSpec {
  id: BackboneId;
  description: string;
  /** Taps used when none are given. */
  defaultTaps: readonly string[];
  /** Version of the code that builds the model (part of the cache key). */
  builderVersion: string;
  /** What the input `x` `[n, 1, h, w]` must hold. */
  inputDoc: string;
  /** Files whose bytes define the built model (part of the cache key). */
  files(): string[];
  /** Every valid tap name, in network order. */
  tapNames(): string[];
  /** Why `h` x `w` cannot go through `taps`, or `null` when it can. */
  checkSize(h: number, w: number, taps: readonly string[]): string | null;
  build(taps: string[]): ConvertedModel;
}

/** Keras layer kinds whose outputs are offered as taps: activations, merges and pools. */
const FEATURE_KINDS = new Set([
  'Add',
  'Concatenate',
  'ReLU',
  'Activation',
  'MaxPooling2D',
  'AveragePooling2D',
]);

/**
 * Feature layers that keep their ImageNet weights: the layer and all its ancestors are frozen
 * (`trainable: false`) in nsfwjs' fine-tuned model (MobileNetV2 up to block_10, InceptionV3 up to mixed5).
 */
export function frozenFeatureLayers(json: TfjsModelJson): string[] {
  const frozen = new Map<string, boolean>();
  const names: string[] = [];
  for (const l of json.modelTopology.model_config.config.layers) {
    const own = l.class_name === 'InputLayer' || l.config.trainable === false;
    const ok =
      own && l.inbound_nodes.every((node) => node.every(([inbound]) => frozen.get(inbound) === true));
    frozen.set(l.name, ok);
    if (ok && FEATURE_KINDS.has(l.class_name)) names.push(l.name);
  }
  return names;
}

const inputRange =
  'spectrogram image scaled to [-1, 1] (Keras x / 127.5 - 1; see toBackboneInput), 1 channel';

function imageSpec(
  id: BackboneId,
  model: string,
  description: string,
  defaultTaps: readonly string[],
  checkSize: BackboneSpec['checkSize'],
): BackboneSpec {
  const dir = () => nsfwjsModelDir(model);
  let json: TfjsModelJson | undefined;
  const topology = () => (json ??= readTfjsModelJson(dir()));
  return {
    id,
    description,
    defaultTaps,
    builderVersion: CONVERTER_VERSION,
    inputDoc: inputRange,
    files: () => tfjsModelFiles(dir(), topology()),
    tapNames: () => frozenFeatureLayers(topology()),
    checkSize,
    build: (taps) => convertKerasModel(loadTfjsLayersModel(dir()), taps, id),
  };
}

export const BACKBONES: Readonly<Record<BackboneId, BackboneSpec>> = {
  mobilenetv2: imageSpec(
    'mobilenetv2',
    'mobilenet_v2',
    'Keras MobileNetV2 (alpha 1.0), ImageNet weights from nsfwjs 4.4.0',
    MOBILENETV2_TAPS.wide,
    (h, w) =>
      h % 2 || w % 2 || h < 32 || w < 32
        ? `mobilenetv2 needs even h and w >= 32 (got ${h} x ${w}): crop or pad the image`
        : null,
  ),
  inceptionv3: imageSpec(
    'inceptionv3',
    'inception_v3',
    'Keras InceptionV3, ImageNet weights from nsfwjs 4.4.0',
    ['mixed2', 'mixed5'],
    (h, w) =>
      h < 75 || w < 75 ? `inceptionv3 needs h and w >= 75 (got ${h} x ${w}): resize or pad the image` : null,
  ),
  speech: {
    id: 'speech',
    description: 'Google speech embedding (openWakeWord embedding_model.onnx, Apache-2.0), inner max-pools',
    defaultTaps: ['max_pooling2d_1', 'max_pooling2d_2'],
    builderVersion: 'speech-onnx/1',
    inputDoc: `openWakeWord log-mel [n, 1, ${SPEECH_MEL_BINS} mel bins, frames at 10 ms] scaled x / 10 + 2 (see SpeechFrontEnd)`,
    files: () => [openWakeWordModelFile('embedding_model.onnx')],
    tapNames: () => Object.keys(SPEECH_TAP_TENSORS),
    checkSize: (h, w, taps) => {
      if (h !== SPEECH_MEL_BINS)
        return `speech needs h = ${SPEECH_MEL_BINS} mel bins (got ${h}): use SpeechFrontEnd`;
      const short = taps.find((t) => speechTapSize(t, h, w).some((d) => d < 1));
      if (!short) return null;
      let min = w;
      while (speechTapSize(short, h, min).some((d) => d < 1)) min++;
      return `speech tap '${short}' needs at least ${min} frames (got ${w})`;
    },
    build: (taps) => buildSpeechBackbone(taps),
  },
};

/** The spec for `id`, or an error listing the valid ids. */
export function backboneSpec(id: string): BackboneSpec {
  if (!(BACKBONE_IDS as readonly string[]).includes(id)) {
    throw new Error(`unknown backbone '${id}'; valid: ${BACKBONE_IDS.join(', ')}`);
  }
  return BACKBONES[id as BackboneId];
}
