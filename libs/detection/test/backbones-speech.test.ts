import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  loadBackbone,
  SPEECH_TAP_TENSORS,
  SpeechFrontEnd,
  speechFrameCount,
  speechTapSize,
  type Backbone,
} from '../src/backbones/index.js';
import { decodeModel, encodeModel } from '../src/backbones/convert/onnx-builder.js';
import { openWakeWordModelFile } from '../src/backbones/speech.js';
import { maxAbsDiff } from './backbones-reference.js';

const ALL = Object.keys(SPEECH_TAP_TENSORS);

/** The shipped model, unchanged except that its inner tensors are also graph outputs. */
async function shippedWithInnerOutputs(): Promise<ort.InferenceSession> {
  const model = decodeModel(readFileSync(openWakeWordModelFile('embedding_model.onnx')));
  const g = model.graph!;
  for (const tensor of Object.values(SPEECH_TAP_TENSORS))
    g.output!.push({ name: tensor, type: { tensorType: { elemType: 1 } } });
  return ort.InferenceSession.create(encodeModel(model), { intraOpNumThreads: 1 });
}

/** `[n, 1, 32, frames]` mel-major -> the shipped model's `[n, frames, 32, 1]`. */
function toShippedLayout(x: Float32Array, n: number, frames: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let m = 0; m < 32; m++)
      for (let t = 0; t < frames; t++) y[(b * frames + t) * 32 + m] = x[(b * 32 + m) * frames + t];
  return y;
}

/** `[n, c, a, b]` -> `[n, c, b, a]`. */
function swapLastTwo(x: Float32Array, [n, c, a, b]: number[]): Float32Array {
  const y = new Float32Array(x.length);
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < a; i++)
      for (let j = 0; j < b; j++) y[p * a * b + j * a + i] = x[p * a * b + i * b + j];
  return y;
}

let frontEnd: SpeechFrontEnd;
let backbone: Backbone;
let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'hark-speech-'));
  frontEnd = await SpeechFrontEnd.create();
  backbone = await loadBackbone('speech', { cacheDir, taps: ALL });
});
afterAll(async () => {
  await frontEnd.release();
  await backbone.release();
  await rm(cacheDir, { recursive: true, force: true });
});

/** Log-mel of a 2 s chirp plus a tone at 16 kHz, through openWakeWord's front end. */
async function chirpMel(seconds: number) {
  const n = Math.round(seconds * 16_000);
  const s = Float32Array.from({ length: n }, (_, i) => {
    const t = i / 16_000;
    return 0.3 * Math.sin(2 * Math.PI * (200 * t + 900 * t * t)) + 0.1 * Math.sin(2 * Math.PI * 1000 * t);
  });
  return frontEnd.run(s);
}

describe('speech backbone', () => {
  test('taps equal the shipped model inner tensors on the same 76 frames (batch 2)', async () => {
    const mel = await chirpMel(2);
    const frames = 76;
    const x = new Float32Array(2 * 32 * frames);
    for (let b = 0; b < 2; b++)
      for (let m = 0; m < 32; m++)
        for (let t = 0; t < frames; t++)
          x[(b * 32 + m) * frames + t] = mel.data[m * mel.nFrames + t + 20 * b];
    const ours = await backbone.run(x, 2, 32, frames);
    const shipped = await shippedWithInnerOutputs();
    const ref = await shipped.run({
      input_1: new ort.Tensor('float32', toShippedLayout(x, 2, frames), [2, frames, 32, 1]),
    });
    ALL.forEach((tap, i) => {
      const r = ref[SPEECH_TAP_TENSORS[tap]];
      expect(
        maxAbsDiff(ours[i].data, swapLastTwo(r.data as Float32Array, r.dims.map(Number))),
        tap,
      ).toBeLessThan(1e-5);
    });
    expect(maxAbsDiff(ours[ALL.indexOf('conv2d_19')].data, ref.conv2d_19.data as Float32Array)).toBeLessThan(
      1e-5,
    );
    await shipped.release();
  });

  test('documented shapes at 76 frames, and free length (sliding embedding every 8 frames)', async () => {
    expect(backbone.taps.map((t) => [t.name, t.channels, t.stride])).toEqual(
      [
        ['max_pooling2d', 24, [2, 2]],
        ['max_pooling2d_1', 48, [4, 2]],
        ['max_pooling2d_2', 72, [8, 4]],
        ['max_pooling2d_3', 96, [16, 4]],
        ['max_pooling2d_4', 96, [32, 8]],
        ['conv2d_19', 96, [32, 8]],
      ].map(([n, c, s]) => [n, c, s]),
    );
    const sizes76 = [
      [16, 36],
      [8, 32],
      [4, 14],
      [2, 10],
      [1, 3],
      [1, 1],
    ];
    expect(ALL.map((t) => speechTapSize(t, 32, 76))).toEqual(sizes76);
    const mel = await chirpMel(2);
    const out76 = await backbone.run(
      mel.data.slice(0, 32 * 76).map((_, i) => mel.data[Math.floor(i / 76) * mel.nFrames + (i % 76)]),
      1,
      32,
      76,
    );
    expect(out76.map((o) => o.dims)).toEqual(
      sizes76.map(([m, t], i) => [1, backbone.taps[i].channels, m, t]),
    );
    const long = await backbone.run(mel.data, 1, 32, mel.nFrames);
    expect(long.map((o) => o.dims.slice(2))).toEqual(ALL.map((t) => speechTapSize(t, 32, mel.nFrames)));
    expect(long[5].dims).toEqual([1, 96, 1, Math.floor((mel.nFrames - 76) / 8) + 1]);
  });

  test('input checks name the fix', async () => {
    await expect(backbone.run(new Float32Array(64 * 76), 1, 64, 76)).rejects.toThrow(
      'speech needs h = 32 mel bins (got 64): use SpeechFrontEnd',
    );
    await expect(backbone.run(new Float32Array(32 * 60), 1, 32, 60)).rejects.toThrow(
      "speech tap 'conv2d_19' needs at least 76 frames (got 60)",
    );
  });
});

describe('SpeechFrontEnd', () => {
  test('[32, frames] at a 10 ms hop, openWakeWord scaling of melspectrogram.onnx', async () => {
    const mel = await chirpMel(1);
    expect([mel.nMels, mel.nFrames]).toEqual([32, speechFrameCount(16_000)]);
    expect(mel.nFrames).toBe(97);
    const raw = await ort.InferenceSession.create(openWakeWordModelFile('melspectrogram.onnx'));
    const s = Float32Array.from({ length: 16_000 }, (_, i) => {
      const t = i / 16_000;
      return (
        32767 *
        (0.3 * Math.sin(2 * Math.PI * (200 * t + 900 * t * t)) + 0.1 * Math.sin(2 * Math.PI * 1000 * t))
      );
    });
    const y = (await raw.run({ input: new ort.Tensor('float32', s, [1, s.length]) })).output
      .data as Float32Array;
    expect(mel.data[5 * 97 + 40]).toBeCloseTo(y[40 * 32 + 5] / 10 + 2, 4);
    await raw.release();
    await expect(frontEnd.run(new Float32Array(100))).rejects.toThrow(/needs >= 512/);
  });
});
