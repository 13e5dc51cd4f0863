/**
 * One converter per Keras layer kind: Keras NHWC semantics emitted as ONNX NCHW nodes. See `convert-keras.ts`.
 */
import {
  depthwiseToOihw,
  kernelToOihw,
  poolOrConvPads,
  poolPads,
  type SpatialAttrs,
} from './keras-kernels.js';
import {
  activation,
  materialise,
  pair,
  weight,
  type Converter,
  type LayerContext,
  type Value,
} from './keras-values.js';

function conv(ctx: LayerContext, input: Value, depthwise: boolean): Value {
  const { g, layer } = ctx;
  const c = layer.config;
  const kernel = weight(ctx, depthwise ? 'depthwise_kernel' : 'kernel');
  const [kh, kw, cin, k3] = kernel.shape;
  const fromReplicated = !depthwise && input.replicated === true;
  const x = depthwise ? materialise(g, { ...input, pad: undefined }, layer.name) : input;
  const pending = depthwise ? input.pad : x.pad;
  const w = depthwise
    ? depthwiseToOihw(kernel.data, kh, kw, cin, k3)
    : kernelToOihw(kernel.data, kh, kw, cin, k3, fromReplicated);
  const cout = depthwise ? cin * k3 : k3;
  const b = c.use_bias ? Float32Array.from(weight(ctx, 'bias').data) : new Float32Array(cout);
  const strides = pair(c.strides, [1, 1]);
  const dil = pair(c.dilation_rate, [1, 1]);
  let src = x.tensor;
  let spatial: SpatialAttrs;
  if (pending && c.padding === 'valid') {
    spatial = { pads: [...pending] };
  } else {
    if (pending) src = materialise(g, { ...x, replicated: false, pad: pending }, layer.name).tensor;
    spatial = poolOrConvPads(c.padding as string, [kh, kw], strides, dil);
  }
  const inCh = fromReplicated ? 1 : depthwise ? 1 : cin;
  const wName = g.constant(`${layer.name}/W`, w, [cout, inCh, kh, kw]);
  const bName = g.constant(`${layer.name}/B`, b, [cout]);
  const act = (c.activation as string | undefined) ?? 'linear';
  const out = g.unique(act === 'linear' ? layer.name : `${layer.name}/preact`);
  const node = g.node('Conv', [src, wName, bName], [out], {
    kernel_shape: [kh, kw],
    strides,
    dilations: dil,
    group: depthwise ? cin : 1,
    ...spatial,
  });
  const value: Value = {
    tensor: out,
    rank: 4,
    channels: cout,
    stride: [input.stride[0] * strides[0], input.stride[1] * strides[1]],
  };
  if (act === 'linear') return { ...value, conv: { layer: layer.name, node, w, b } };
  return activation(g, value, act, layer.name, true);
}

function batchNorm(ctx: LayerContext, [x]: Value[]): Value {
  const { g, layer } = ctx;
  const c = layer.config;
  const axis = c.axis as number;
  if (!(axis === -1 || axis === x.rank - 1))
    throw new Error(
      `BatchNormalization '${layer.name}' normalises axis ${axis}; only the channel axis is supported`,
    );
  const mean = weight(ctx, 'moving_mean').data;
  const variance = weight(ctx, 'moving_variance').data;
  const gamma = c.scale === false ? null : weight(ctx, 'gamma').data;
  const beta = c.center === false ? null : weight(ctx, 'beta').data;
  const eps = (c.epsilon as number) ?? 1e-3;
  const n = mean.length;
  const scale = new Float64Array(n);
  const shift = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    scale[i] = (gamma ? gamma[i] : 1) / Math.sqrt(variance[i] + eps);
    shift[i] = (beta ? beta[i] : 0) - mean[i] * scale[i];
  }
  const src = x.conv;
  if (src && ctx.consumers(src.layer) === 1) {
    const per = src.w.length / n;
    for (let o = 0; o < n; o++) {
      for (let j = 0; j < per; j++) src.w[o * per + j] *= scale[o];
      src.b[o] = src.b[o] * scale[o] + shift[o];
    }
    src.node.outputs[0] = g.unique(layer.name);
    return { ...x, tensor: src.node.outputs[0], conv: undefined };
  }
  const v = materialise(g, x, layer.name);
  const dims = v.rank === 4 ? [n, 1, 1] : [n];
  const mul = g.unique(`${layer.name}/scaled`);
  const out = g.unique(layer.name);
  g.node('Mul', [v.tensor, g.constant(`${layer.name}/scale`, Float32Array.from(scale), dims)], [mul]);
  g.node('Add', [mul, g.constant(`${layer.name}/shift`, Float32Array.from(shift), dims)], [out]);
  return { ...v, tensor: out };
}

function relu(ctx: LayerContext, [x]: Value[]): Value {
  const { g, layer } = ctx;
  const maxValue = layer.config.max_value as number | null | undefined;
  const slope = (layer.config.negative_slope as number | undefined) ?? 0;
  if (((layer.config.threshold as number | undefined) ?? 0) !== 0 || (slope !== 0 && maxValue != null)) {
    throw new Error(
      `ReLU '${layer.name}' with threshold or with both negative_slope and max_value is unsupported`,
    );
  }
  const v = materialise(g, x, layer.name);
  const out = g.unique(layer.name);
  if (maxValue != null) {
    const lo = g.constant(`${layer.name}/min`, Float32Array.of(0), []);
    const hi = g.constant(`${layer.name}/max`, Float32Array.of(maxValue), []);
    g.node('Clip', [v.tensor, lo, hi], [out]);
  } else if (slope !== 0) {
    g.node('LeakyRelu', [v.tensor], [out], { alpha: { float: slope } });
  } else {
    g.node('Relu', [v.tensor], [out]);
  }
  return { ...v, tensor: out };
}

function leakyRelu({ g, layer }: LayerContext, [x]: Value[]): Value {
  const v = materialise(g, x, layer.name);
  const out = g.unique(layer.name);
  g.node('LeakyRelu', [v.tensor], [out], {
    alpha: { float: (layer.config.alpha as number | undefined) ?? 0.3 },
  });
  return { ...v, tensor: out };
}

function merge(op: string): Converter {
  return ({ g, layer }, inputs) => {
    const vs = inputs.map((v) => materialise(g, v, layer.name));
    const out = g.unique(layer.name);
    if (op === 'Concat') {
      const axis = layer.config.axis as number;
      if (!(axis === -1 || axis === vs[0].rank - 1))
        throw new Error(`Concatenate '${layer.name}' on axis ${axis}: only the channel axis is supported`);
      g.node(
        'Concat',
        vs.map((v) => v.tensor),
        [out],
        { axis: 1 },
      );
      return { ...vs[0], tensor: out, channels: vs.reduce((s, v) => s + v.channels, 0) };
    }
    g.node(
      op,
      vs.map((v) => v.tensor),
      [out],
    );
    return { ...vs[0], tensor: out };
  };
}

function pool(op: 'MaxPool' | 'AveragePool'): Converter {
  return ({ g, layer }, [x]) => {
    const v = materialise(g, x, layer.name);
    const size = pair(layer.config.pool_size, [2, 2]);
    const strides = pair(layer.config.strides, size);
    const out = g.unique(layer.name);
    const spatial = poolPads(layer.config.padding as string);
    g.node(op, [v.tensor], [out], { kernel_shape: size, strides, ...spatial }); // AveragePool excludes padding
    return { ...v, tensor: out, stride: [v.stride[0] * strides[0], v.stride[1] * strides[1]] };
  };
}

function globalPool(op: string): Converter {
  return ({ g, layer }, [x]) => {
    if (layer.config.keepdims === true)
      throw new Error(`${layer.class_name} '${layer.name}' with keepdims is unsupported`);
    const v = materialise(g, x, layer.name);
    const pooled = g.unique(`${layer.name}/pooled`);
    const out = g.unique(layer.name);
    g.node(op, [v.tensor], [pooled]);
    g.node('Flatten', [pooled], [out], { axis: 1 });
    return { ...v, tensor: out, rank: 2 };
  };
}

function flatten({ g, layer }: LayerContext, [x]: Value[]): Value {
  const v = materialise(g, x, layer.name);
  if (v.rank === 2) return v;
  const nhwc = g.unique(`${layer.name}/nhwc`); // Keras flattens in NHWC order
  const out = g.unique(layer.name);
  g.node('Transpose', [v.tensor], [nhwc], { perm: [0, 2, 3, 1] });
  g.node('Flatten', [nhwc], [out], { axis: 1 });
  return { ...v, tensor: out, rank: 2, channels: 0 }; // 0: the length depends on the input size
}

function dense(ctx: LayerContext, [x]: Value[]): Value {
  const { g, layer } = ctx;
  const v = materialise(g, x, layer.name);
  const kernel = weight(ctx, 'kernel');
  const [units] = kernel.shape.slice(-1);
  const b = layer.config.use_bias === false ? new Float32Array(units) : weight(ctx, 'bias').data;
  const pre = g.unique(`${layer.name}/gemm`);
  g.node(
    'Gemm',
    [
      v.tensor,
      g.constant(`${layer.name}/W`, kernel.data, kernel.shape),
      g.constant(`${layer.name}/B`, b, [units]),
    ],
    [pre],
  );
  const value: Value = { ...v, tensor: pre, channels: units };
  const act = (layer.config.activation as string | undefined) ?? 'linear';
  if (act !== 'linear') return activation(g, value, act, layer.name, true);
  const out = g.unique(layer.name);
  g.node('Identity', [pre], [out]);
  return { ...value, tensor: out };
}

function input({ g, layer }: LayerContext): Value {
  const shape = layer.config.batch_input_shape as (number | null)[];
  if (shape.length !== 4)
    throw new Error(
      `InputLayer '${layer.name}' has shape [${shape}]; only images [batch, h, w, c] are supported`,
    );
  return {
    tensor: g.input('x', ['batch', 1, 'height', 'width']),
    rank: 4,
    channels: shape[3] ?? 3,
    stride: [1, 1],
    replicated: true,
  };
}

function zeroPadding({ layer }: LayerContext, [x]: Value[]): Value {
  const p = layer.config.padding;
  const [[t, b], [l, r]] =
    typeof p === 'number'
      ? [
          [p, p],
          [p, p],
        ]
      : ((p as unknown[]).map((a) => (typeof a === 'number' ? [a, a] : (a as number[]))) as [
          number[],
          number[],
        ]);
  const prev = x.pad ?? [0, 0, 0, 0];
  return { ...x, pad: [prev[0] + t, prev[1] + l, prev[2] + b, prev[3] + r], conv: undefined };
}

const passThrough: Converter = (_ctx, [x]) => ({ ...x, conv: undefined });

/** Converters by Keras `class_name`. */
export const layerConverters: Record<string, Converter> = {
  InputLayer: input,
  ZeroPadding2D: zeroPadding,
  Conv2D: (ctx, [x]) => conv(ctx, x, false),
  DepthwiseConv2D: (ctx, [x]) => conv(ctx, x, true),
  BatchNormalization: batchNorm,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  Activation: (ctx, [x]) =>
    activation(
      ctx.g,
      materialise(ctx.g, x, ctx.layer.name),
      ctx.layer.config.activation as string,
      ctx.layer.name,
      true,
    ),
  Add: merge('Sum'),
  Multiply: merge('Mul'),
  Concatenate: merge('Concat'),
  MaxPooling2D: pool('MaxPool'),
  AveragePooling2D: pool('AveragePool'),
  GlobalAveragePooling2D: globalPool('GlobalAveragePool'),
  GlobalMaxPooling2D: globalPool('GlobalMaxPool'),
  Flatten: flatten,
  Dense: dense,
  Dropout: passThrough,
};
