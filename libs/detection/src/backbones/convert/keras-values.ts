/**
 * The converter's view of a tensor while a Keras model is walked, and helpers shared by the layer converters.
 */
import type { KerasLayer, Weight } from './tfjs-layers.js';
import type { GraphNode, OnnxGraph } from './onnx-builder.js';

/** A converted tensor, plus what may still be folded into its consumer. */
export interface Value {
  tensor: string;
  rank: 2 | 4;
  channels: number;
  stride: [number, number];
  /** Zero padding not yet applied, ONNX order `[top, left, bottom, right]` (a ZeroPadding2D to fold). */
  pad?: [number, number, number, number];
  /** The tensor has 1 channel standing for `channels` identical ones (the replicated network input). */
  replicated?: boolean;
  /** The linear convolution that produced this tensor, for folding a following batch norm. */
  conv?: { layer: string; node: GraphNode; w: Float32Array; b: Float32Array };
}

export interface LayerContext {
  g: OnnxGraph;
  layer: KerasLayer;
  weights: Map<string, Weight>;
  /** How many converted layers (and taps) read `layerName`'s output. */
  consumers(layerName: string): number;
}

export type Converter = (ctx: LayerContext, inputs: Value[]) => Value;

/** Applies pending padding / replication so that `v.tensor` holds the value itself. */
export function materialise(g: OnnxGraph, v: Value, base: string): Value {
  let out = v;
  if (out.replicated) {
    const t = g.unique(`${base}/replicate`);
    g.node('Concat', Array(out.channels).fill(out.tensor), [t], { axis: 1 });
    out = { ...out, tensor: t, replicated: false };
  }
  if (out.pad) {
    const [t, l, b, r] = out.pad;
    const pads = g.constant(`${base}/pads`, BigInt64Array.from([0, 0, t, l, 0, 0, b, r], BigInt), [8]);
    const tensor = g.unique(`${base}/padded`);
    g.node('Pad', [out.tensor, pads], [tensor], { mode: 'constant' });
    out = { ...out, tensor, pad: undefined };
  }
  return { ...out, conv: undefined };
}

/** The layer's weight `name` (e.g. `kernel`), or an error naming the missing manifest entry. */
export function weight(ctx: LayerContext, name: string): Weight {
  const w = ctx.weights.get(`${ctx.layer.name}/${name}`);
  if (!w)
    throw new Error(
      `layer '${ctx.layer.name}' needs weight '${ctx.layer.name}/${name}', missing from the manifest`,
    );
  return w;
}

/** A Keras int-or-pair config value as `[along h, along w]`. */
export function pair(v: unknown, fallback: [number, number]): [number, number] {
  if (v === null || v === undefined) return fallback;
  return typeof v === 'number' ? [v, v] : [(v as number[])[0], (v as number[])[1]];
}

/** Emits a Keras activation (`final`: the output takes the layer name). */
export function activation(g: OnnxGraph, x: Value, kind: string, name: string, final: boolean): Value {
  if (kind === 'linear') return x;
  const ops: Record<string, string> = {
    relu: 'Relu',
    sigmoid: 'Sigmoid',
    tanh: 'Tanh',
    softmax: 'Softmax',
    elu: 'Elu',
    softplus: 'Softplus',
  };
  if (!(kind in ops))
    throw new Error(
      `activation '${kind}' of '${name}' is unsupported; supported: linear, ${Object.keys(ops).join(', ')}`,
    );
  const out = final ? g.unique(name) : g.unique(`${name}/${kind}`);
  g.node(ops[kind], [x.tensor], [out], kind === 'softmax' ? { axis: 1 } : {});
  return { ...x, tensor: out, conv: undefined };
}
