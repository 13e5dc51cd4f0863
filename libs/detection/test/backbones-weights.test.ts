import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, test } from 'vitest';
import {
  depthwiseToOihw,
  kernelToOihw,
  poolOrConvPads,
  poolPads,
} from '../src/backbones/convert/keras-kernels.js';
import { decodeWeights, halfToFloat, type WeightSpec } from '../src/backbones/convert/tfjs-layers.js';

describe('weight manifest decoding', () => {
  test('float16 by hand', () => {
    expect([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0000, 0x8000].map(halfToFloat)).toEqual([
      1,
      -2,
      65504,
      2 ** -24,
      0,
      -0,
    ]);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  test('uint8, uint16, float16 and plain float32 / int32 entries agree with tfjs io.decodeWeights', async () => {
    const specs: WeightSpec[] = [
      {
        name: 'a/kernel',
        shape: [2, 3],
        dtype: 'float32',
        quantization: { dtype: 'uint8', scale: 0.01, min: -1.2 },
      },
      {
        name: 'b/bias',
        shape: [3],
        dtype: 'float32',
        quantization: { dtype: 'uint16', scale: 1e-4, min: 0.5 },
      },
      { name: 'c/gamma', shape: [4], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'd/beta', shape: [2], dtype: 'float32' },
      { name: 'e/count', shape: [1], dtype: 'int32' },
    ];
    const bytes = new Uint8Array(6 + 6 + 8 + 8 + 4);
    bytes.set([0, 1, 2, 127, 200, 255], 0);
    new DataView(bytes.buffer).setUint16(6, 0, true);
    new DataView(bytes.buffer).setUint16(8, 1234, true);
    new DataView(bytes.buffer).setUint16(10, 65535, true);
    [0x3c00, 0xc000, 0x3555, 0x0400].forEach((h, i) =>
      new DataView(bytes.buffer).setUint16(12 + 2 * i, h, true),
    );
    new DataView(bytes.buffer).setFloat32(20, 3.25, true);
    new DataView(bytes.buffer).setFloat32(24, -0.125, true);
    new DataView(bytes.buffer).setInt32(28, -7, true);
    const ours = decodeWeights(specs, bytes);
    const ref = tf.io.decodeWeights(bytes.buffer, specs as tf.io.WeightsManifestEntry[]);
    for (const s of specs) {
      expect(ours.get(s.name)!.shape).toEqual(s.shape);
      expect(Array.from(ours.get(s.name)!.data)).toEqual(Array.from(await ref[s.name].data()));
    }
    expect(ours.get('a/kernel')!.data[3]).toBeCloseTo(127 * 0.01 - 1.2, 6);
  });

  test('a manifest that does not match the shard bytes is an error naming the weight', () => {
    const spec: WeightSpec[] = [{ name: 'a/kernel', shape: [10], dtype: 'float32' }];
    expect(() => decodeWeights(spec, new Uint8Array(12))).toThrow(
      /weight 'a\/kernel' needs bytes 0..40 but the shards hold 12/,
    );
    expect(() => decodeWeights(spec, new Uint8Array(44))).toThrow(/covers 40 bytes but the shards hold 44/);
  });
});

describe('kernel layouts and TF padding', () => {
  test('Conv2D HWIO -> OIHW, and the summed kernel equals a 3-channel kernel on replicated input', () => {
    const [kh, kw, cin, cout] = [2, 3, 3, 2];
    const k = Float32Array.from({ length: kh * kw * cin * cout }, (_, i) => i + 1);
    const w = kernelToOihw(k, kh, kw, cin, cout, false);
    expect(w[((1 * cin + 2) * kh + 1) * kw + 0]).toBe(k[((1 * kw + 0) * cin + 2) * cout + 1]); // o=1 c=2 i=1 j=0
    const summed = kernelToOihw(k, kh, kw, cin, cout, true);
    for (let o = 0; o < cout; o++) {
      for (let p = 0; p < kh * kw; p++) {
        let s = 0;
        for (let c = 0; c < cin; c++) s += w[(o * cin + c) * kh * kw + p];
        expect(summed[o * kh * kw + p]).toBe(s);
      }
    }
  });

  test('DepthwiseConv2D [kh, kw, cin, mult] -> [cin * mult, 1, kh, kw] with output channel c * mult + m', () => {
    const k = Float32Array.from({ length: 1 * 2 * 3 * 2 }, (_, i) => i);
    const w = depthwiseToOihw(k, 1, 2, 3, 2);
    expect(w[(2 * 2 + 1) * 2 + 1]).toBe(k[(0 * 2 + 1) * 6 + 2 * 2 + 1]); // c=2 m=1 j=1
  });

  test('same padding: explicit for stride 1 (odd pixel at the end), SAME_UPPER otherwise', () => {
    expect(poolOrConvPads('valid', [3, 3], [2, 2], [1, 1])).toEqual({ pads: [0, 0, 0, 0] });
    expect(poolOrConvPads('same', [3, 3], [1, 1], [1, 1])).toEqual({ pads: [1, 1, 1, 1] });
    expect(poolOrConvPads('same', [1, 7], [1, 1], [1, 1])).toEqual({ pads: [0, 3, 0, 3] });
    expect(poolOrConvPads('same', [2, 4], [1, 1], [1, 2])).toEqual({ pads: [0, 3, 1, 3] });
    expect(poolOrConvPads('same', [3, 3], [2, 2], [1, 1])).toEqual({ auto_pad: 'SAME_UPPER' });
    expect(() => poolOrConvPads('causal', [3, 3], [1, 1], [1, 1])).toThrow(/padding 'causal' is unsupported/);
    expect([poolPads('valid'), poolPads('same')]).toEqual([
      { auto_pad: 'VALID' },
      { auto_pad: 'SAME_UPPER' },
    ]);
  });
});
