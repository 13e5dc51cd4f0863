/**
 * Reader for the tfjs-layers model format (`model.json` + binary weight shards) as bundled by `nsfwjs@4.4.0`:
 * each file is a UMD JS module; `model.min.js` exports the `model.json` object (Keras topology and
 * `weightsManifest`), every `group1-shardKofN.min.js` exports a base64 string of weight bytes. The package's
 * `exports` field blocks subpath imports, so the files are read by path and evaluated in an empty VM context.
 *
 * Dequantisation follows tfjs-core `io.decodeWeights`: uint8/uint16 value = q * scale + min; float16 is widened.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runInNewContext } from 'node:vm';

/** One Keras layer of a functional model config. */
export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** `[[[inboundLayer, nodeIndex, tensorIndex, kwargs], ...]]`; one entry per call of the layer. */
  inbound_nodes: [string, number, number, unknown][][];
}

/** One entry of a `weightsManifest` group. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

/** The `model.json` object of a tfjs-layers model. */
export interface TfjsModelJson {
  modelTopology: {
    keras_version?: string;
    model_config: { class_name: string; config: { layers: KerasLayer[] } };
  };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

/** A decoded weight tensor, row-major in its Keras shape. */
export interface Weight {
  shape: number[];
  data: Float32Array;
}

/** A tfjs-layers model read from disk with its weights dequantised to float32. */
export interface TfjsLayersModel {
  json: TfjsModelJson;
  layers: KerasLayer[];
  weights: Map<string, Weight>;
  /** Every file read, topology first: the inputs of the build cache key. */
  files: string[];
}

/** Directory of a model bundled in nsfwjs (`mobilenet_v2`, `inception_v3`, ...). */
export function nsfwjsModelDir(name: string): string {
  const entry = createRequire(import.meta.url).resolve('nsfwjs'); // <pkg>/dist/cjs/index.js
  return join(dirname(dirname(entry)), 'models', name);
}

/** Evaluates a UMD/browserify bundle and returns its `module.exports`; the context has no `require`. */
export function readUmdExport(file: string): unknown {
  const module = { exports: {} as unknown };
  runInNewContext(readFileSync(file, 'utf8'), { module, exports: module.exports }, { filename: file });
  return module.exports;
}

/** Files of a bundled model: `model.min.js` then its shards in manifest order. */
export function tfjsModelFiles(dir: string, json: TfjsModelJson): string[] {
  return [
    join(dir, 'model.min.js'),
    ...json.weightsManifest.flatMap((g) => g.paths.map((p) => join(dir, `${p}.min.js`))),
  ];
}

/** Reads only the topology (cheap: no weights), e.g. to validate tap names. */
export function readTfjsModelJson(dir: string): TfjsModelJson {
  // a JSON round trip moves the object out of the VM realm (cross-realm arrays fail `instanceof Array`)
  const json = JSON.parse(JSON.stringify(readUmdExport(join(dir, 'model.min.js')) ?? null)) as TfjsModelJson;
  if (!json?.modelTopology?.model_config || !Array.isArray(json.weightsManifest)) {
    throw new Error(
      `${dir}/model.min.js is not a tfjs-layers model.json (no modelTopology / weightsManifest)`,
    );
  }
  return json;
}

/** Reads topology and every weight shard of a bundled tfjs-layers model. */
export function loadTfjsLayersModel(dir: string): TfjsLayersModel {
  const json = readTfjsModelJson(dir);
  const weights = new Map<string, Weight>();
  for (const group of json.weightsManifest) {
    const shards = group.paths.map((p) => {
      const text = readUmdExport(join(dir, `${p}.min.js`));
      if (typeof text !== 'string') throw new Error(`${dir}/${p}.min.js does not export a base64 string`);
      return Buffer.from(text, 'base64');
    });
    decodeWeights(group.weights, Buffer.concat(shards), weights);
  }
  return {
    json,
    layers: json.modelTopology.model_config.config.layers,
    weights,
    files: tfjsModelFiles(dir, json),
  };
}

const bytesPer = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 } as const;

/** Decodes one manifest group's concatenated shard bytes into `out`, keyed by weight name. */
export function decodeWeights(
  specs: WeightSpec[],
  bytes: Uint8Array,
  out = new Map<string, Weight>(),
): Map<string, Weight> {
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    const stored = q ? q.dtype : spec.dtype;
    if (!(stored in bytesPer)) throw new Error(`weight '${spec.name}' has unsupported dtype '${stored}'`);
    const nBytes = size * bytesPer[stored];
    if (offset + nBytes > bytes.length) {
      throw new Error(
        `weight '${spec.name}' needs bytes ${offset}..${offset + nBytes} but the shards hold ${bytes.length}`,
      );
    }
    const raw = new Uint8Array(bytes.subarray(offset, offset + nBytes)).buffer; // a copy: aligned and owned
    offset += nBytes;
    const data = new Float32Array(size);
    if (!q) {
      data.set(spec.dtype === 'int32' ? new Int32Array(raw) : new Float32Array(raw));
    } else if (q.dtype === 'float16') {
      const h = new Uint16Array(raw);
      for (let i = 0; i < size; i++) data[i] = halfToFloat(h[i]);
    } else {
      const v = q.dtype === 'uint8' ? new Uint8Array(raw) : new Uint16Array(raw);
      const scale = q.scale ?? 1;
      const min = q.min ?? 0;
      for (let i = 0; i < size; i++) data[i] = v[i] * scale + min;
    }
    out.set(spec.name, { shape: spec.shape, data });
  }
  if (offset !== bytes.length)
    throw new Error(`weight manifest covers ${offset} bytes but the shards hold ${bytes.length}`);
  return out;
}

/** IEEE 754 binary16 to number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
