/**
 * Layer kinds and paths the nsfwjs models do not exercise (padding before a pool, replicated input into a
 * depthwise conv, stride-2 "same" conv and average pool, unfoldable batch norm, leaky ReLU, global pooling,
 * dense softmax), on a small Keras model built with tfjs-layers and random weights, against tfjs itself.
 */
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { expect, test } from 'vitest';
import { convertKerasModel } from '../src/backbones/convert/convert-keras.js';
import type {
  KerasLayer,
  TfjsLayersModel,
  TfjsModelJson,
  Weight,
} from '../src/backbones/convert/tfjs-layers.js';
import { maxAbsDiff, testImage } from './backbones-reference.js';

function buildModel(): tfl.LayersModel {
  const x = tfl.input({ shape: [null, null, 3], name: 'image' });
  const L = tfl.layers;
  const ap = (layer: tfl.layers.Layer, input: tfl.SymbolicTensor | tfl.SymbolicTensor[]) =>
    layer.apply(input) as tfl.SymbolicTensor;
  const padA = ap(
    L.zeroPadding2d({
      padding: [
        [1, 1],
        [1, 1],
      ],
      name: 'pad_a',
    }),
    x,
  );
  const poolA = ap(L.maxPooling2d({ poolSize: 3, strides: 1, padding: 'valid', name: 'pool_a' }), padA);
  const convA = ap(
    L.conv2d({
      filters: 6,
      kernelSize: [3, 2],
      strides: 2,
      padding: 'same',
      activation: 'relu',
      name: 'conv_a',
    }),
    poolA,
  );
  const dw = ap(
    L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: true, name: 'dw' }),
    x,
  );
  const padB = ap(L.zeroPadding2d({ padding: 1, name: 'pad_b' }), dw);
  const convB = ap(
    L.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'conv_b' }),
    padB,
  );
  const bnB = ap(L.batchNormalization({ name: 'bn_b' }), convB);
  const sum = ap(L.add({ name: 'sum' }), [convA, bnB]);
  const bnSum = ap(L.batchNormalization({ name: 'bn_sum', scale: false }), sum);
  const leaky = ap(L.leakyReLU({ alpha: 0.2, name: 'leaky' }), bnSum);
  const avg = ap(L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'avg' }), leaky);
  const conv1 = ap(L.conv2d({ filters: 5, kernelSize: 1, name: 'conv_1x1' }), avg);
  const cat = ap(L.concatenate({ axis: -1, name: 'cat' }), [avg, conv1]);
  const relu6 = ap(L.reLU({ maxValue: 6, name: 'relu6' }), cat);
  const gap = ap(L.globalAveragePooling2d({ name: 'gap' }), relu6);
  const drop = ap(L.dropout({ rate: 0.5, name: 'drop' }), gap);
  const dense = ap(L.dense({ units: 4, activation: 'softmax', name: 'dense' }), drop);
  const model = tfl.model({ inputs: x, outputs: dense });
  let seed = 3;
  for (const layer of model.layers) {
    layer.setWeights(
      layer.getWeights().map((w) => {
        seed += 1;
        const positive =
          layer.name.startsWith('bn') && (w as unknown as { name: string }).name.includes('variance');
        return positive
          ? tf.randomUniform(w.shape, 0.5, 2, 'float32', seed)
          : tf.randomUniform(w.shape, -0.8, 0.8, 'float32', seed);
      }),
    );
  }
  return model;
}

/** The tfjs model in the shape our converter reads from nsfwjs: Keras JSON topology + weights by name. */
function asTfjsLayersModel(model: tfl.LayersModel): TfjsLayersModel {
  const topology = model.toJSON(
    undefined,
    false,
  ) as unknown as TfjsModelJson['modelTopology']['model_config'];
  const weights = new Map<string, Weight>();
  for (const layer of model.layers) {
    for (const w of layer.weights)
      weights.set(`${layer.name}/${w.originalName.split('/').at(-1)}`, {
        shape: w.shape as number[],
        data: w.read().dataSync() as Float32Array,
      });
  }
  const json: TfjsModelJson = { modelTopology: { model_config: topology }, weightsManifest: [] };
  return { json, layers: topology.config.layers as KerasLayer[], weights, files: [] };
}

test('small Keras model with every supported layer kind matches tfjs (max abs diff <= 1e-5)', async () => {
  await tf.setBackend('cpu');
  const model = buildModel();
  const taps = ['pool_a', 'conv_a', 'bn_b', 'leaky', 'avg', 'cat', 'dense'];
  const converted = convertKerasModel(asTfjsLayersModel(model), taps);
  // 'all' as in production: onnxruntime's PadFusion once broke zero padding before a max-pool (pool_a)
  const session = await ort.InferenceSession.create(converted.bytes, { graphOptimizationLevel: 'all' });
  for (const [n, h, w] of [
    [2, 17, 22],
    [1, 24, 9],
  ]) {
    const x = testImage(n, h, w, 11);
    const out = await session.run({ x: new ort.Tensor('float32', x, [n, 1, h, w]) });
    const nhwc = new Float32Array(n * h * w * 3);
    for (let i = 0; i < n * h * w; i++) nhwc.fill(x[i], 3 * i, 3 * i + 3);
    const sub = tfl.model({
      inputs: model.inputs,
      outputs: taps.map((t) => model.getLayer(t).output as tfl.SymbolicTensor),
    });
    const ref = sub.predict(tf.tensor4d(nhwc, [n, h, w, 3])) as tf.Tensor[];
    for (const [i, t] of taps.entries()) {
      const r = ref[i].rank === 4 ? tf.transpose(ref[i], [0, 3, 1, 2]) : ref[i];
      expect(out[t].dims.map(Number), t).toEqual(r.shape);
      const diff = maxAbsDiff(out[t].data as Float32Array, r.dataSync() as Float32Array);
      expect(diff, `${t} ${h}x${w}`).toBeLessThanOrEqual(1e-5);
    }
  }
  expect(converted.taps.map((t) => [t.name, t.channels, t.stride])).toEqual([
    ['pool_a', 3, [1, 1]],
    ['conv_a', 6, [2, 2]],
    ['bn_b', 6, [2, 2]],
    ['leaky', 6, [2, 2]],
    ['avg', 6, [4, 4]],
    ['cat', 11, [4, 4]],
    ['dense', 4, [4, 4]],
  ]);
  await session.release();
});

test('unsupported layer kinds are named with the supported list', () => {
  const x = tfl.input({ shape: [8, 8, 3], name: 'image' });
  const up = tfl.layers.upSampling2d({ size: [2, 2], name: 'up' }).apply(x) as tfl.SymbolicTensor;
  const m = asTfjsLayersModel(tfl.model({ inputs: x, outputs: up }));
  expect(() => convertKerasModel(m, ['up'])).toThrow(
    /layer 'up' has unsupported kind UpSampling2D; supported: InputLayer, ZeroPadding2D/,
  );
});
