/**
 * Keras (tfjs-layers) functional model -> ONNX feature extractor.
 *
 * - NHWC becomes NCHW; batch, height and width are dynamic (`batch`, `height`, `width`).
 * - The model takes ONE input channel that stands for the Keras model's three identical channels: the first
 *   convolution's kernel is summed over its input channels (exact for replicated input; no copy at run time).
 * - Only the ancestors of the requested taps are converted (the graph is cut after the deepest tap); each tap
 *   becomes a graph output named after its Keras layer, `[batch, channels, h, w]` (or `[batch, units]`).
 * - ZeroPadding2D is folded into the following valid convolution; BatchNormalization into the preceding
 *   linear convolution (or emitted as Mul + Add when it cannot be folded); TF "same" padding becomes explicit
 *   pads for stride 1 and `auto_pad = SAME_UPPER` (TF puts the odd pixel at the end) otherwise.
 */
import type { TfjsLayersModel } from './tfjs-layers.js';
import { OnnxGraph, type Dim } from './onnx-builder.js';
import { layerConverters } from './keras-layers.js';
import { materialise, type LayerContext, type Value } from './keras-values.js';

/** Bump when the emitted graph changes for the same weights: it invalidates cached builds. */
export const CONVERTER_VERSION = 'keras-onnx/1';

/** A feature map exposed as a graph output. */
export interface TapInfo {
  /** Keras layer name, also the ONNX output name. */
  name: string;
  /** Channels of the feature map. */
  channels: number;
  /** Nominal downsampling `[along h, along w]` relative to the input image. */
  stride: [number, number];
}

export interface ConvertedModel {
  /** Serialised ONNX model, input `x` `[batch, 1, height, width]`. */
  bytes: Uint8Array;
  taps: TapInfo[];
}

/** Layer names whose outputs can be tapped in `model`, in topological order. */
export function kerasLayerNames(model: Pick<TfjsLayersModel, 'layers'>): string[] {
  return model.layers.map((l) => l.name);
}

/** Every ancestor of `names` (inclusive). */
export function kerasAncestors(model: Pick<TfjsLayersModel, 'layers'>, names: string[]): Set<string> {
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const seen = new Set<string>();
  const stack = [...names];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    const layer = byName.get(name);
    if (!layer) throw new Error(`layer '${name}' is not in the model`);
    seen.add(name);
    for (const node of layer.inbound_nodes) for (const [inbound] of node) stack.push(inbound);
  }
  return seen;
}

/** Converts the part of `model` needed for `taps` to ONNX. */
export function convertKerasModel(
  model: TfjsLayersModel,
  taps: string[],
  graphName = 'backbone',
): ConvertedModel {
  if (taps.length === 0) throw new Error('taps is empty: name at least one layer to expose');
  const known = new Set(kerasLayerNames(model));
  for (const t of taps) {
    if (!known.has(t))
      throw new Error(
        `tap '${t}' is not a layer of the model (${known.size} layers, e.g. '${model.layers.at(-1)?.name}')`,
      );
  }
  const needed = kerasAncestors(model, taps);
  const consumers = new Map<string, number>();
  for (const layer of model.layers) {
    if (!needed.has(layer.name)) continue;
    for (const node of layer.inbound_nodes)
      for (const [inbound] of node) consumers.set(inbound, (consumers.get(inbound) ?? 0) + 1);
  }
  for (const t of taps) consumers.set(t, (consumers.get(t) ?? 0) + 1);

  const g = new OnnxGraph(graphName);
  const values = new Map<string, Value>();
  for (const layer of model.layers) {
    if (!needed.has(layer.name)) continue;
    if (layer.inbound_nodes.length > 1)
      throw new Error(
        `layer '${layer.name}' is shared (called ${layer.inbound_nodes.length} times): unsupported`,
      );
    const convert = layerConverters[layer.class_name];
    if (!convert) {
      throw new Error(
        `layer '${layer.name}' has unsupported kind ${layer.class_name}; supported: ${Object.keys(layerConverters).join(', ')}`,
      );
    }
    const inputs = (layer.inbound_nodes[0] ?? []).map(([inbound]) => values.get(inbound)!);
    const ctx: LayerContext = {
      g,
      layer,
      weights: model.weights,
      consumers: (name) => consumers.get(name) ?? 0,
    };
    values.set(layer.name, convert(ctx, inputs));
  }

  const info: TapInfo[] = [];
  for (const t of taps) {
    const v = materialise(g, values.get(t)!, t);
    if (v.tensor !== t) {
      if (g.unique(t) !== t) throw new Error(`tap '${t}' clashes with a generated tensor name`);
      g.node('Identity', [v.tensor], [t]);
    }
    const dims: Dim[] =
      v.rank === 4 ? ['batch', v.channels, `${t}_height`, `${t}_width`] : ['batch', v.channels];
    g.output(t, dims);
    info.push({ name: t, channels: v.channels, stride: v.stride });
  }
  const doc = `Converted by hark ${CONVERTER_VERSION} from a Keras ${model.json.modelTopology.keras_version ?? ''} model; taps ${taps.join(', ')}`;
  return { bytes: g.toBytes('hark', doc), taps: info };
}
