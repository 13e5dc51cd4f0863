/**
 * Reference runs of the nsfwjs Keras models with `@tensorflow/tfjs` (CPU backend), the same weights decoded
 * by tfjs itself (`io.decodeWeights` dequantises), for comparing converted ONNX backbones.
 *
 * The split packages are imported instead of the `@tensorflow/tfjs` bundle: the bundle does `require('long')`,
 * which under vitest's `--conditions import` returns long 5's ES namespace and breaks tfjs-core's hashing.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { join } from 'node:path';
import { readTfjsModelJson, readUmdExport, type KerasLayer } from '../src/backbones/convert/tfjs-layers.js';

export interface NchwTensor {
  data: Float32Array;
  dims: number[];
}

const models = new Map<string, Promise<tfl.LayersModel>>();

/**
 * The Keras model cut to the ancestors of `taps`, input `[n, h, w, 3]` (the shipped model pins 224x224 or
 * 299x299), with the tapped layers as outputs. Unused weights are skipped (`strict: false`).
 */
async function loadModel(dir: string, taps: string[], h: number, w: number): Promise<tfl.LayersModel> {
  await tf.setBackend('cpu');
  const json = readTfjsModelJson(dir);
  const config = json.modelTopology.model_config.config as unknown as Record<string, unknown> & {
    layers: KerasLayer[];
  };
  const byName = new Map(config.layers.map((l) => [l.name, l]));
  const keep = new Set<string>();
  const stack = [...taps];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (keep.has(name)) continue;
    keep.add(name);
    for (const node of byName.get(name)!.inbound_nodes) for (const [inbound] of node) stack.push(inbound);
  }
  config.layers = config.layers.filter((l) => keep.has(l.name));
  for (const l of config.layers)
    if (l.class_name === 'InputLayer') l.config.batch_input_shape = [null, h, w, 3];
  config.output_layers = taps.map((t) => [t, 0, 0]);
  const shards = json.weightsManifest.flatMap((g) =>
    g.paths.map((p) => Buffer.from(readUmdExport(join(dir, `${p}.min.js`)) as string, 'base64')),
  );
  const bytes = new Uint8Array(Buffer.concat(shards));
  const handler = tf.io.fromMemory({
    modelTopology: json.modelTopology as unknown as tf.io.ModelJSON['modelTopology'],
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
    weightData: bytes.buffer,
  });
  return tfl.loadLayersModel(handler, { strict: false });
}

/** Outputs of `taps` for a one-channel NCHW batch `x` `[n, 1, h, w]`, replicated to the model's 3 channels. */
export async function tfjsReference(
  dir: string,
  taps: string[],
  x: Float32Array,
  n: number,
  h: number,
  w: number,
): Promise<NchwTensor[]> {
  const key = `${dir}|${taps.join(',')}|${h}x${w}`;
  if (!models.has(key)) models.set(key, loadModel(dir, taps, h, w));
  const model = await models.get(key)!;
  const nhwc = new Float32Array(n * h * w * 3);
  for (let i = 0; i < n * h * w; i++) nhwc.fill(x[i], 3 * i, 3 * i + 3);
  const out = tf.tidy(() => {
    const y = model.predict(tf.tensor4d(nhwc, [n, h, w, 3]));
    return (Array.isArray(y) ? y : [y]).map((t) => (t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t));
  });
  const result = await Promise.all(
    out.map(async (t) => ({ data: (await t.data()) as Float32Array, dims: t.shape })),
  );
  tf.dispose(out);
  return result;
}

/** Deterministic smooth-plus-noise test image in [-1, 1], `[n, 1, h, w]`. */
export function testImage(n: number, h: number, w: number, seed = 1): Float32Array {
  const x = new Float32Array(n * h * w);
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = (i % w) / w;
    const c = (Math.floor(i / w) % h) / h;
    x[i] = Math.max(
      -1,
      Math.min(1, 0.6 * Math.sin(7 * r + 3 * c + i / (h * w)) + 0.4 * ((s / 2 ** 32) * 2 - 1)),
    );
  }
  return x;
}

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
