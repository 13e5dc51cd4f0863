import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  BACKBONES,
  loadBackbone,
  MOBILENETV2_TAPS,
  openBackboneSessions,
  toBackboneInput,
  type BackboneId,
} from '../src/backbones/index.js';
import { maxAbsDiff, testImage } from './backbones-reference.js';

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'hark-backbones-'));
});
afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

describe('loadBackbone', () => {
  test('unknown ids and taps are errors that list the valid values', async () => {
    await expect(loadBackbone('resnet50' as BackboneId, { cacheDir })).rejects.toThrow(
      "unknown backbone 'resnet50'; valid: mobilenetv2, inceptionv3, speech",
    );
    await expect(loadBackbone('mobilenetv2', { cacheDir, taps: ['block_12_add'] })).rejects.toThrow(
      /unknown tap 'block_12_add' for backbone mobilenetv2; valid taps: .*block_5_add.*block_10_expand_relu/,
    );
    await expect(loadBackbone('speech', { cacheDir, taps: ['mixed5'] })).rejects.toThrow(
      "unknown tap 'mixed5' for backbone speech; valid taps: max_pooling2d, max_pooling2d_1, max_pooling2d_2, max_pooling2d_3, max_pooling2d_4, conv2d_19",
    );
    await expect(loadBackbone('mobilenetv2', { cacheDir, intraOpNumThreads: 0 })).rejects.toThrow(
      /intraOpNumThreads \(0\) must be an integer >= 1/,
    );
  });

  test('only layers that keep their ImageNet weights are offered as taps', () => {
    const mobile = BACKBONES.mobilenetv2.tapNames();
    expect(mobile).toContain('block_10_expand_relu');
    expect(mobile).toContain('block_9_add');
    expect(mobile.some((t) => t.startsWith('block_11') || t.startsWith('block_12'))).toBe(false);
    const inception = BACKBONES.inceptionv3.tapNames();
    expect(inception).toContain('mixed5');
    expect(inception).not.toContain('mixed6');
  });

  test('both MobileNetV2 pairs; dynamic batch and size; a batch equals its items run alone', async () => {
    for (const taps of Object.values(MOBILENETV2_TAPS)) {
      const b = await loadBackbone('mobilenetv2', { cacheDir, taps: [...taps] });
      expect(b.taps.map((t) => [t.name, t.stride])).toEqual([
        [taps[0], [8, 8]],
        [taps[1], [16, 16]],
      ]);
      const c = b.taps.map((t) => t.channels);
      const one = await b.run(testImage(1, 128, 96), 1, 128, 96);
      expect(one.map((o) => o.dims)).toEqual([
        [1, c[0], 16, 12],
        [1, c[1], 8, 6],
      ]);
      const x = testImage(3, 64, 160, 7);
      const three = await b.run(x, 3, 64, 160);
      expect(three.map((o) => o.dims)).toEqual([
        [3, c[0], 8, 20],
        [3, c[1], 4, 10],
      ]);
      const second = await b.run(x.subarray(64 * 160, 2 * 64 * 160), 1, 64, 160);
      for (let k = 0; k < 2; k++) {
        const size = second[k].data.length;
        expect(maxAbsDiff(three[k].data.subarray(size, 2 * size), second[k].data)).toBeLessThan(1e-4);
      }
      await b.release();
      await expect(b.run(x, 3, 64, 160)).rejects.toThrow(/released/);
    }
  });

  test('run validates its input', async () => {
    const b = await loadBackbone('mobilenetv2', { cacheDir });
    await expect(b.run(new Float32Array(10), 1, 4, 4)).rejects.toThrow(
      'x has 10 values but [1, 1, 4, 4] needs 16',
    );
    await expect(b.run(new Float32Array(64 * 63), 1, 64, 63)).rejects.toThrow(
      /needs even h and w >= 32 \(got 64 x 63\)/,
    );
    await expect(b.run(new Float32Array(64), 0, 8, 8)).rejects.toThrow('n (0) must be an integer >= 1');
    await b.release();
  });

  test('InceptionV3 mixed2 + mixed5 at 128 x 96', async () => {
    const b = await loadBackbone('inceptionv3', { cacheDir });
    expect(b.taps).toEqual([
      { name: 'mixed2', channels: 288, stride: [8, 8] },
      { name: 'mixed5', channels: 768, stride: [16, 16] },
    ]);
    const out = await b.run(testImage(2, 128, 96), 2, 128, 96);
    expect(out.map((o) => o.dims)).toEqual([
      [2, 288, 13, 9],
      [2, 768, 6, 4],
    ]);
    await expect(b.run(new Float32Array(64 * 96), 1, 64, 96)).rejects.toThrow(
      /inceptionv3 needs h and w >= 75/,
    );
    await b.release();
  });
});

describe('build cache', () => {
  test('second load reads from disk; another tap list makes another key; a corrupt file is rebuilt', async () => {
    const dir = join(cacheDir, 'cache-test');
    const a = await loadBackbone('mobilenetv2', { cacheDir: dir, taps: ['block_5_add'] });
    expect(a.fromCache).toBe(false);
    const built = await stat(a.modelPath!);
    const x = testImage(1, 64, 64);
    const ya = await a.run(x, 1, 64, 64);

    const b = await loadBackbone('mobilenetv2', { cacheDir: dir, taps: ['block_5_add'] });
    expect(b.fromCache).toBe(true);
    expect(b.hash).toBe(a.hash);
    expect((await stat(b.modelPath!)).mtimeMs).toBe(built.mtimeMs);
    expect((await b.run(x, 1, 64, 64))[0].data).toEqual(ya[0].data);

    const c = await loadBackbone('mobilenetv2', { cacheDir: dir, taps: ['block_5_add', 'block_9_add'] });
    expect(c.fromCache).toBe(false);
    expect(c.hash).not.toBe(a.hash);
    expect((await readdir(dir)).filter((f) => f.endsWith('.onnx'))).toHaveLength(2);

    await writeFile(a.modelPath!, 'not an onnx model');
    const d = await loadBackbone('mobilenetv2', { cacheDir: dir, taps: ['block_5_add'] });
    expect(d.fromCache).toBe(false);
    expect((await d.run(x, 1, 64, 64))[0].data).toEqual(ya[0].data);
    await writeFile(a.modelPath!.replace(/\.onnx$/, '.json'), '{ truncated');
    const e = await loadBackbone('mobilenetv2', { cacheDir: dir, taps: ['block_5_add'] });
    expect(e.fromCache).toBe(false);
    const f = await loadBackbone('mobilenetv2', { cacheDir: dir, taps: ['block_5_add'] });
    expect(f.fromCache).toBe(true);
    await Promise.all([a, b, c, d, e, f].map((m) => m.release()));
  });
});

describe('shared sessions', () => {
  test('loads of one model share a session, run concurrently as alone, and free it with the last', async () => {
    const open = openBackboneSessions();
    const a = await loadBackbone('mobilenetv2', { cacheDir, taps: ['block_5_add'] });
    const b = await loadBackbone('mobilenetv2', { cacheDir, taps: ['block_5_add'] });
    const c = await loadBackbone('mobilenetv2', { cacheDir, taps: ['block_5_add'], intraOpNumThreads: 2 });
    expect(openBackboneSessions()).toBe(open + 2); // a and b share; c has its own thread count
    const [x, y] = [testImage(1, 64, 64), testImage(2, 64, 64).subarray(64 * 64)];
    const alone = [(await a.run(x, 1, 64, 64))[0].data, (await a.run(y, 1, 64, 64))[0].data];
    const both = await Promise.all([a.run(x, 1, 64, 64), b.run(y, 1, 64, 64), a.run(y, 1, 64, 64)]);
    expect(both.map((o) => o[0].data)).toEqual([alone[0], alone[1], alone[1]]);
    await a.release();
    await a.release(); // a second release of the same backbone gives back nothing more
    await expect(a.run(x, 1, 64, 64)).rejects.toThrow(/was released; load it again/);
    expect((await b.run(x, 1, 64, 64))[0].data).toEqual(alone[0]);
    expect(openBackboneSessions()).toBe(open + 2);
    await b.release();
    await c.release();
    expect(openBackboneSessions()).toBe(open);
  });
});

describe('toBackboneInput', () => {
  test('maps the dB window onto [-1, 1] and clips outside it', () => {
    const out = toBackboneInput(Float32Array.of(-100, -80, -50, -20, 0), { min: -80, max: -20 });
    expect(Array.from(out)).toEqual([-1, -1, 0, 1, 1]);
    expect(() => toBackboneInput(new Float32Array(1), { min: 0, max: 0 })).toThrow(
      'range.max (0) must be > range.min (0)',
    );
  });
});
