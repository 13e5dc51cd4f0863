/**
 * The model directory: everything needed to score, in one folder.
 *
 * ```
 * MODEL_DIR/model.json          {format, version, config, backbone {id, taps, hash}, fitted {input,
 *                               frequencyScale, grid, calibration, training}, method {name, json, arrays}}
 * MODEL_DIR/method.<name>.<f32|f64|i32>   the method's arrays, little-endian, listed in model.json with
 *                               their length and sha256
 * MODEL_DIR/context.columns.f32 the log-mel context memory (when the config has one), as fitted since issue 16's
 *                               session 30: its windows' columns (`parts.context`, `layout` 'columns'), and
 * MODEL_DIR/context.starts.i32  the first column of each of its contexts (`parts.context.starts`)
 * MODEL_DIR/context.index.faiss  the context memory of models saved before the columns: its flat index, one
 *                               byte per value (FAISS's SQ8 layout, `storage` 'uint8'), listed in model.json
 *                               `parts.context`; the tonal envelope's peaks are in `parts.tonal`. Models saved
 *                               before it hold context.bank.f32 (the vectors as floats), held at one byte per
 *                               value from load on, like a new fit's
 * MODEL_DIR/context.axes.f32    the axes of its bounded search (`parts.context.axes`; absent in older models
 *                               and for small memories: computed at load when the memory qualifies)
 * MODEL_DIR/modulation.features.f32  the modulation spectrum's normal features (`parts.modulation`)
 * MODEL_DIR/impulse.features.f32     the impulse train's normal features (`parts.impulse`)
 * ```
 * Loading checks the format and version, the backbone hash (a backbone built from other weights or taps
 * would give other embeddings), the arrays' sizes and checksums, and optionally the dsp parameters the caller
 * expects; every mismatch is an error that says what differs and what to do. A loaded model scores
 * bit-identically to the one that was saved.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MelParams } from '@hark/dsp';
import { KnnIndex } from '@hark/native';
import { Calibration } from '../calibration/index.js';
import type { MethodState } from '../method.js';
import { impulseGrid, modulationGrid, resolveDetectorConfig, type DetectorConfig } from './config.js';
import { Detector, type DetectorParts, type FittedParams } from './detector.js';
import { ContextMemory } from '../logmel/context-memory.js';
import { TonalEnvelope } from '../logmel/tonal-envelope.js';
import { ModulationSpectrum } from '../logmel/modulation-spectrum.js';
import { ImpulseTrain } from '../logmel/impulse-train.js';
import { FeatureExtractor } from './feature-extractor.js';
import { methodFromState } from './methods.js';

export const MODEL_FORMAT = 'hark-model';
export const MODEL_VERSION = 1;

type ArrayKind = 'f32' | 'f64' | 'i32' | 'u8';
interface ArrayEntry {
  file: string;
  dtype: ArrayKind;
  length: number;
  sha256: string;
}

export interface ModelJson {
  format: typeof MODEL_FORMAT;
  version: number;
  config: DetectorConfig;
  backbone: { id: string; taps: string[]; hash: string };
  fitted: Omit<FittedParams, 'calibration'> & { calibration: unknown };
  method: { name: string; json: Record<string, unknown>; arrays: Record<string, ArrayEntry> };
  /** The parts fused with the method (absent in models saved before them). */
  parts?: {
    context:
      | (ArrayEntry & {
          frames: number;
          /** 'columns' (this file: the columns, `starts` their contexts); absent: a flat index or its floats. */
          layout?: 'columns';
          starts?: ArrayEntry;
          axes?: ArrayEntry;
          storage?: 'uint8' | 'float32';
        })
      | null;
    tonal: { peaks: number[]; marginDb: number } | null;
    /** Absent in models saved before the modulation spectrum. */
    modulation?: (ArrayEntry & { bands: number }) | null;
    /** Absent in models saved before the impulse train. */
    impulse?: (ArrayEntry & { bands: number }) | null;
  };
}

const KIND = (a: MethodState['arrays'][string] | Uint8Array): ArrayKind =>
  a instanceof Float32Array
    ? 'f32'
    : a instanceof Float64Array
      ? 'f64'
      : a instanceof Uint8Array
        ? 'u8'
        : 'i32';
const CTOR = { f32: Float32Array, f64: Float64Array, i32: Int32Array } as const;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** The context memory of models saved before it was held at one byte per value (read only). */
const CONTEXT_FILE = 'context.bank.f32';
const CONTEXT_INDEX_FILE = 'context.index.faiss';
const COLUMNS_FILE = 'context.columns.f32';
const STARTS_FILE = 'context.starts.i32';
const AXES_FILE = 'context.axes.f32';
const MODULATION_FILE = 'modulation.features.f32';
const IMPULSE_FILE = 'impulse.features.f32';

/** Bytes of a typed array, little-endian (the platform order on every machine hark runs on; checked). */
function bytesOf(a: Float32Array | Float64Array | Int32Array | Uint8Array): Uint8Array {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
    throw new Error('big-endian machines are not supported');
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Writes `detector` to `dir` (created if needed); model.json is written last, so a half-written model never loads. */
export async function saveModel(detector: Detector, dir: string): Promise<ModelJson> {
  await mkdir(dir, { recursive: true });
  const state = detector.method.state();
  const arrays: Record<string, ArrayEntry> = {};
  for (const [name, a] of Object.entries(state.arrays)) {
    if (!/^[A-Za-z0-9_-]+$/.test(name))
      throw new Error(`method array name '${name}' must be letters, digits, _ or -`);
    arrays[name] = await writeArray(dir, `method.${name}.${KIND(a)}`, a);
  }
  const { extractor, config, fitted } = detector;
  const c = detector.parts.context;
  const columns = c?.fittedColumns;
  const context: NonNullable<ModelJson['parts']>['context'] =
    c &&
    (columns
      ? {
          ...(await writeArray(dir, COLUMNS_FILE, columns.columns)),
          frames: c.frames,
          layout: 'columns',
          starts: await writeArray(dir, STARTS_FILE, columns.starts),
        }
      : {
          ...(await writeArray(dir, CONTEXT_INDEX_FILE, c.fittedIndex.toBuffer())),
          frames: c.frames,
          storage: c.storage,
          ...(c.axes && { axes: await writeArray(dir, AXES_FILE, c.axes) }),
        });
  const tonal = detector.parts.tonal
    ? { peaks: Array.from(detector.parts.tonal.basePeaks), marginDb: detector.parts.tonal.marginDb }
    : null;
  const modulation = await saveBandPart(dir, MODULATION_FILE, detector.parts.modulation ?? null);
  const impulse = await saveBandPart(dir, IMPULSE_FILE, detector.parts.impulse ?? null);
  const json: ModelJson = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    config,
    backbone: { id: extractor.backbone.id, taps: config.taps, hash: extractor.backbone.hash },
    fitted: { ...fitted, calibration: fitted.calibration.toJSON() },
    method: { name: detector.method.name, json: state.json, arrays },
    parts: { context, tonal, modulation, ...(impulse && { impulse }) },
  };
  await writeFile(join(dir, 'model.json.tmp'), `${JSON.stringify(json, null, 1)}\n`);
  await rename(join(dir, 'model.json.tmp'), join(dir, 'model.json'));
  return json;
}

/** Reads and checks `dir/model.json` (format, version), without loading the backbone or arrays. */
export async function readModelJson(dir: string): Promise<ModelJson> {
  const path = join(dir, 'model.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`${path} not found: ${dir} is not a hark model directory (create one with 'hark fit')`);
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (err) {
    throw new Error(`${path} is corrupt (${(err as Error).message}); fit the model again`);
  }
  if (json?.format !== MODEL_FORMAT)
    throw new Error(`${path}: format (${JSON.stringify(json?.format)}) is not '${MODEL_FORMAT}'`);
  if (json.version !== MODEL_VERSION) {
    throw new Error(
      `${path}: format version ${json.version} is not supported by this hark (version ${MODEL_VERSION}); fit the model again with this version`,
    );
  }
  for (const key of ['config', 'backbone', 'fitted', 'method'] as const) {
    if (typeof json[key] !== 'object' || json[key] === null)
      throw new Error(`${path}: field '${key}' is missing; fit the model again`);
  }
  return json;
}

/** Differences between the model's dsp parameters and `expected` (e.g. what a sensor or server uses). */
function melMismatch(model: MelParams, expected: Partial<MelParams>): string[] {
  return (Object.keys(expected) as (keyof MelParams)[])
    .filter((k) => expected[k] !== undefined && expected[k] !== model[k])
    .map((k) => `${k} ${String(model[k])} (model) vs ${String(expected[k])} (expected)`);
}

export interface LoadModelOptions {
  /** dsp parameters the caller will feed; any difference is an error. */
  expectMel?: Partial<MelParams>;
}

/** Loads a model directory written by `saveModel`. */
export async function loadModel(dir: string, opts: LoadModelOptions = {}): Promise<Detector> {
  const json = await readModelJson(dir);
  const where = join(dir, 'model.json');
  let config: DetectorConfig;
  try {
    // Models saved before gain and tilt invariance, or the fused parts, existed were fitted without them;
    // those saved before the false-alarm rate keep their quantile threshold (their calibration says so too).
    const before = {
      gainInvariance: false,
      tiltInvariance: false,
      contextFrames: 0,
      contextCoreset: 1,
      tonalMarginDb: 0,
      timeShare: 0,
      mapWindowGate: false,
      falseAlarmsPerDay: 0,
      modulationBands: 0,
      impulseBands: 0,
      fusion: 'max' as const,
      calibrationFolds: 'holdout' as const,
    };
    config = resolveDetectorConfig(Object.assign(before, json.config));
  } catch (err) {
    throw new Error(`${where}: invalid config: ${(err as Error).message}`);
  }
  const diff = melMismatch(config.mel, opts.expectMel ?? {});
  if (diff.length)
    throw new Error(
      `${dir} was fitted with other dsp parameters: ${diff.join(', ')}; fit a model with these parameters`,
    );
  if (json.method.name !== config.method)
    throw new Error(`${where}: method '${json.method.name}' differs from config.method '${config.method}'`);
  const arrays: MethodState['arrays'] = {};
  for (const [name, e] of Object.entries(json.method.arrays ?? {})) {
    if (!(e.dtype in CTOR) || e.file !== `method.${name}.${e.dtype}`)
      throw new Error(`${where}: array '${name}' has a bad entry ${JSON.stringify(e)}`);
    arrays[name] = await readArray(dir, e);
  }
  checkTraining(json.fitted.training, where);
  const parts = await loadParts(dir, json, config);
  const calibration = Calibration.fromJSON(json.fitted.calibration);
  const method = methodFromState(config.method, { json: json.method.json, arrays });
  const extractor = await FeatureExtractor.create(config);
  if (extractor.backbone.hash !== json.backbone.hash) {
    const have = extractor.backbone.hash.slice(0, 12);
    await extractor.release();
    method.dispose();
    parts.context?.dispose();
    throw new Error(
      `${dir} was fitted with backbone ${json.backbone.id} hash ${String(json.backbone.hash).slice(0, 12)}..., but this installation builds ${have}... ` +
        '(other weights, taps or converter version); fit the model again',
    );
  }
  const detector = new Detector(config, extractor, method, { ...json.fitted, calibration }, parts);
  // One window scored at load: a model.json whose fitted fields disagree with each other or with the backbone
  // (a grid, a scale, a range) is refused here, naming the file, rather than failing every live window.
  try {
    await detector.warmUp();
  } catch (err) {
    await detector.release();
    const why = (err as Error).message.replace(/; fit the model again$/, '');
    throw new Error(`${where}: the model cannot score a window (${why}); fit the model again`);
  }
  return detector;
}

/**
 * `fitted.training` as `saveModel` writes it: the server shows it (when fitted, on how much sound), so one that
 * is not what a fit wrote is refused at load rather than failing later where it is read. `clips`, `seconds`
 * and `fittedAt` are in every model; the counts added since are checked when present.
 */
function checkTraining(t: unknown, where: string): void {
  const o = (typeof t === 'object' && t !== null && !Array.isArray(t) ? t : null) as Record<
    string,
    unknown
  > | null;
  const amount = (k: string) => typeof o?.[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) >= 0;
  const ok =
    o !== null &&
    amount('clips') &&
    amount('seconds') &&
    typeof o.fittedAt === 'string' &&
    ['windows', 'calibrationClips', 'fitSeconds'].every((k) => o[k] === undefined || amount(k));
  if (!ok)
    throw new Error(
      `${where}: fitted.training (${JSON.stringify(t)?.slice(0, 200)}) is not a fit's summary ` +
        '{clips, seconds, windows, calibrationClips, fittedAt, fitSeconds}; fit the model again',
    );
}

/** Reads one array file and checks its size and checksum. */
async function readArray(dir: string, e: ArrayEntry): Promise<Float32Array | Float64Array | Int32Array> {
  const Ctor = CTOR[e.dtype as keyof typeof CTOR];
  const bytes = await readBytes(dir, e, Ctor.BYTES_PER_ELEMENT);
  // The file's own buffer when it is aligned for the type (readFile gives large files a buffer of their own,
  // at offset 0): a second copy of a model's arrays at every load is only garbage for the allocator.
  if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0)
    return new Ctor(bytes.buffer, bytes.byteOffset, e.length);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Ctor(copy.buffer);
}

/** The bytes of an entry's file, checked against its length (of `size`-byte elements) and sha256. */
async function readBytes(dir: string, e: ArrayEntry, size: number): Promise<Buffer<ArrayBuffer>> {
  const path = join(dir, e.file);
  const bytes = await readFile(path).catch(() => {
    throw new Error(`${path} is missing; the model directory is incomplete, fit it again`);
  });
  if (bytes.length !== e.length * size || sha256(bytes) !== e.sha256) {
    throw new Error(
      `${path} is corrupt (${bytes.length} bytes, expected ${e.length * size} with sha256 ${String(e.sha256).slice(0, 12)}...); fit the model again`,
    );
  }
  return bytes;
}

/** The context memory, tonal envelope, modulation spectrum and impulse train the config names, from `model.json`'s `parts`. */
async function loadParts(dir: string, json: ModelJson, config: DetectorConfig): Promise<DetectorParts> {
  const where = join(dir, 'model.json');
  const { context: c, tonal: t } = json.parts ?? { context: null, tonal: null };
  if (config.contextFrames > 0 && !c)
    throw new Error(
      `${where}: config.contextFrames is ${config.contextFrames} but parts.context is missing; fit the model again`,
    );
  if (config.tonalMarginDb > 0 && !t)
    throw new Error(
      `${where}: config.tonalMarginDb is ${config.tonalMarginDb} but parts.tonal is missing; fit the model again`,
    );
  let context: ContextMemory | null = null;
  if (config.contextFrames > 0 && c && c.layout !== undefined) {
    const st = c.starts;
    if (
      c.layout !== 'columns' ||
      c.file !== COLUMNS_FILE ||
      c.dtype !== 'f32' ||
      c.frames !== config.contextFrames ||
      !st ||
      typeof st !== 'object' ||
      st.file !== STARTS_FILE ||
      st.dtype !== 'i32'
    )
      throw new Error(`${where}: parts.context has a bad entry ${JSON.stringify(c)}`);
    const columns = (await readArray(dir, c)) as Float32Array;
    const starts = (await readArray(dir, st)) as Int32Array;
    try {
      context = new ContextMemory(config.mel.nMels, c.frames, { columns, starts });
    } catch (err) {
      throw new Error(
        `${where}: parts.context does not hold a context memory (${(err as Error).message}); fit the model again`,
      );
    }
  } else if (config.contextFrames > 0 && c) {
    const saved = c.file === CONTEXT_INDEX_FILE && c.dtype === 'u8';
    if (!(saved || (c.file === CONTEXT_FILE && c.dtype === 'f32')) || c.frames !== config.contextFrames)
      throw new Error(`${where}: parts.context has a bad entry ${JSON.stringify(c)}`);
    const dim = config.mel.nMels * c.frames;
    const a = c.axes;
    if (
      a !== undefined &&
      (a === null ||
        typeof a !== 'object' ||
        a.file !== AXES_FILE ||
        a.dtype !== 'f32' ||
        !Number.isInteger(a.length) ||
        a.length < dim ||
        a.length > dim * dim ||
        a.length % dim !== 0)
    )
      throw new Error(
        `${where}: parts.context.axes has a bad entry ${JSON.stringify(a)} (need ${AXES_FILE}, f32, 1 to ${dim} rows of ${dim})`,
      );
    // Saved axes, or (older models) computed now: the bounded search gives the same scores either way.
    const options = a ? { axes: (await readArray(dir, a)) as Float32Array } : { bound: true };
    // A saved index as it was fitted; an older model's floats are held at one byte per value from now on.
    const bank = saved
      ? await readIndex(join(dir, c.file), await readBytes(dir, c, 1))
      : await readArray(dir, c);
    context = new ContextMemory(config.mel.nMels, c.frames, bank as Float32Array | KnnIndex, options);
  }
  let tonal: TonalEnvelope | null = null;
  if (config.tonalMarginDb > 0 && t) {
    if (!Array.isArray(t.peaks) || t.peaks.length !== config.mel.nMels || t.marginDb !== config.tonalMarginDb)
      throw new Error(
        `${where}: parts.tonal does not match the config (${config.mel.nMels} mel bins, margin ${config.tonalMarginDb} dB)`,
      );
    tonal = new TonalEnvelope(Float32Array.from(t.peaks), t.marginDb);
  }
  const bandPart = async (
    part: 'modulation' | 'impulse',
    bands: number,
    file: string,
  ): Promise<Float32Array | null> => {
    const entry = json.parts?.[part] ?? null;
    if (bands > 0 && !entry)
      throw new Error(
        `${where}: config.${part}Bands is ${bands} but parts.${part} is missing; fit the model again`,
      );
    if (!(bands > 0 && entry)) return null;
    if (entry.file !== file || entry.dtype !== 'f32' || entry.bands !== bands)
      throw new Error(`${where}: parts.${part} has a bad entry ${JSON.stringify(entry)}`);
    return (await readArray(dir, entry)) as Float32Array;
  };
  const mod = await bandPart('modulation', config.modulationBands, MODULATION_FILE);
  const modulation = mod && new ModulationSpectrum(modulationGrid(config), mod);
  const imp = await bandPart('impulse', config.impulseBands, IMPULSE_FILE);
  const impulse = imp && new ImpulseTrain(impulseGrid(config), imp);
  return { context, tonal, modulation, ...(impulse && { impulse }) };
}

/** Writes a band part's normal features to `file`; its `parts` entry (null without the part). */
async function saveBandPart(
  dir: string,
  file: string,
  part: { baseFeatures: Float32Array; grid: { bands: number } } | null,
): Promise<(ArrayEntry & { bands: number }) | null> {
  return part && { ...(await writeArray(dir, file, part.baseFeatures)), bands: part.grid.bands };
}

/** Writes `a` to `dir/file` (little-endian) and returns its model.json entry. */
async function writeArray(
  dir: string,
  file: string,
  a: Float32Array | Float64Array | Int32Array | Uint8Array,
): Promise<ArrayEntry> {
  const bytes = bytesOf(a);
  await writeFile(join(dir, file), bytes);
  return { file, dtype: KIND(a), length: a.length, sha256: sha256(bytes) };
}

/** The index FAISS's bytes hold (a flat index's checks are the memory's: ContextMemory). */
function readIndex(path: string, bytes: Uint8Array): KnnIndex {
  try {
    return KnnIndex.fromBuffer(bytes);
  } catch (err) {
    throw new Error(`${path} is not a readable index (${(err as Error).message}); fit the model again`);
  }
}
