import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { convertKerasModel } from '../src/backbones/convert/convert-keras.js';
import {
  loadTfjsLayersModel,
  nsfwjsModelDir,
  type TfjsLayersModel,
} from '../src/backbones/convert/tfjs-layers.js';
import { maxAbsDiff, testImage, tfjsReference } from './backbones-reference.js';

const TOL = 1e-3;

async function runOnnx(bytes: Uint8Array, taps: string[], x: Float32Array, dims: number[]) {
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const out = await session.run({ x: new ort.Tensor('float32', x, dims) });
  await session.release();
  return taps.map((t) => ({ data: out[t].data as Float32Array, dims: out[t].dims.map(Number) }));
}

/** Converts `taps`, runs both implementations on the same batch and returns the max abs difference per tap. */
async function compare(model: TfjsLayersModel, dir: string, taps: string[], n: number, h: number, w: number) {
  const converted = convertKerasModel(model, taps);
  const x = testImage(n, h, w);
  const ours = await runOnnx(converted.bytes, taps, x, [n, 1, h, w]);
  const ref = await tfjsReference(dir, taps, x, n, h, w);
  const diffs: Record<string, number> = {};
  taps.forEach((t, i) => {
    expect(ours[i].dims, t).toEqual(ref[i].dims);
    diffs[t] = maxAbsDiff(ours[i].data, ref[i].data);
  });
  console.log(`${dir.split('/').at(-1)} ${n}x1x${h}x${w} max abs diff`, diffs);
  return { diffs, ours, converted };
}

describe('Keras -> ONNX converter against tfjs-layers on the same weights', () => {
  const mobileDir = nsfwjsModelDir('mobilenet_v2');
  const mobile = loadTfjsLayersModel(mobileDir);

  test('mobilenet_v2: both candidate tap pairs, batch 2, 128 x 160', async () => {
    const taps = ['block_5_add', 'block_9_add', 'block_6_expand_relu', 'block_10_expand_relu'];
    const { diffs, ours, converted } = await compare(mobile, mobileDir, taps, 2, 128, 160);
    for (const t of taps) expect(diffs[t], t).toBeLessThanOrEqual(TOL);
    expect(ours.map((o) => o.dims)).toEqual([
      [2, 32, 16, 20],
      [2, 64, 8, 10],
      [2, 192, 16, 20],
      [2, 384, 8, 10],
    ]);
    expect(converted.taps).toEqual([
      { name: 'block_5_add', channels: 32, stride: [8, 8] },
      { name: 'block_9_add', channels: 64, stride: [16, 16] },
      { name: 'block_6_expand_relu', channels: 192, stride: [8, 8] },
      { name: 'block_10_expand_relu', channels: 384, stride: [16, 16] },
    ]);
  });

  test('mobilenet_v2 whole network to the softmax (pooling, flatten, dense, dropout), 224 x 224', async () => {
    const { diffs, ours } = await compare(mobile, mobileDir, ['out_relu', 'dense_3'], 1, 224, 224);
    expect(diffs.out_relu).toBeLessThanOrEqual(TOL);
    expect(diffs.dense_3).toBeLessThanOrEqual(1e-5);
    const probs = ours[1].data;
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  test('inception_v3: mixed2 + mixed5, batch 2, 128 x 160, and an odd size', async () => {
    const dir = nsfwjsModelDir('inception_v3');
    const model = loadTfjsLayersModel(dir);
    const a = await compare(model, dir, ['mixed2', 'mixed5'], 2, 128, 160);
    expect(a.diffs.mixed2).toBeLessThanOrEqual(TOL);
    expect(a.diffs.mixed5).toBeLessThanOrEqual(TOL);
    expect(a.ours.map((o) => o.dims)).toEqual([
      [2, 288, 13, 17],
      [2, 768, 6, 8],
    ]);
    const b = await compare(model, dir, ['mixed2', 'max_pooling2d_1'], 1, 83, 99);
    expect(b.diffs.mixed2).toBeLessThanOrEqual(TOL);
    expect(b.diffs.max_pooling2d_1).toBeLessThanOrEqual(TOL);
  });

  test('the graph is cut after the deepest tap and taps come out in the order asked', () => {
    const shallow = convertKerasModel(mobile, ['block_5_add']);
    const deep = convertKerasModel(mobile, ['block_9_add', 'block_5_add']);
    expect(shallow.bytes.length).toBeLessThan(deep.bytes.length / 2);
    expect(deep.taps.map((t) => t.name)).toEqual(['block_9_add', 'block_5_add']);
  });

  test('unknown layers and empty tap lists are clear errors', () => {
    expect(() => convertKerasModel(mobile, ['block_99_add'])).toThrow(
      /tap 'block_99_add' is not a layer of the model/,
    );
    expect(() => convertKerasModel(mobile, [])).toThrow(/taps is empty/);
  });
});
