/**
 * The detector's configuration: everything that decides how audio becomes an anomaly map. It is saved in the
 * model directory, so a model scores exactly as it was fitted. `resolveDetectorConfig` fills the defaults
 * (the best configuration found on the development corpus, see BENCHMARKS.md) and validates every field,
 * quoting the bad value.
 */
import { resolveMelParams, showValue, type MelParams } from '@hark/dsp';
import type { ModulationGrid } from '../logmel/modulation-spectrum.js';
import type { ImpulseGrid } from '../logmel/impulse-train.js';
import { PADIM_DEFAULTS } from '../padim/model.js';
import { PATCHCORE_DEFAULTS } from '../patchcore/model.js';
import { SPADE_DEFAULTS } from '../spade/model.js';
import { checkMethodOptions } from './methods.js';
import { BACKBONE_IDS, backboneSpec, MOBILENETV2_TAPS, type BackboneId } from '../backbones/index.js';

export type MethodId = 'patchcore' | 'padim' | 'spade';
export type FusionRule = 'sum' | 'max' | 'union' | 'levels';
export type CalibrationFolds = 'holdout' | 'leave-one-out';
export const CALIBRATION_FOLDS: readonly CalibrationFolds[] = ['holdout', 'leave-one-out'];
export const FUSION_RULES: readonly FusionRule[] = ['sum', 'max', 'union', 'levels'];
export const METHOD_IDS: readonly MethodId[] = ['patchcore', 'padim', 'spade'];

export interface DetectorConfig {
  /** Log-mel front end (libs/dsp names); `center` is always false so streaming equals batch. */
  mel: MelParams;
  /** Window length in seconds; every window of a model has the same number of frames. */
  windowSeconds: number;
  /** Seconds between window starts for clips (overlap = windowSeconds - hopSeconds). */
  hopSeconds: number;
  /**
   * Seconds between the windows of the clips the method is fitted on. Windows shifted by a whole number of
   * patches give near-duplicate patches, so a hop of one window costs little and halves the memory bank.
   */
  fitHopSeconds: number;
  backbone: BackboneId;
  /** Backbone layers, shallow first (default: the backbone's default pair). */
  taps: string[];
  /** Size of the image a window is resized to before the backbone, `[height (mel), width (time)]`. */
  imageHeight: number;
  imageWidth: number;
  /** Percentiles of the training log-mel values mapped to the image range [-1, 1] (stored as dB once fitted). */
  dbPercentiles: [number, number];
  /** Standardise each mel bin with its training mean and deviation before the backbone (see input-scaling.ts). */
  standardiseBins: boolean;
  /**
   * Gain invariance: subtract each window's median level (dB over all its cells) before scaling
   * (input-scaling.ts `removeWindowLevel`). A microphone's gain or distance moves every cell by the same dB.
   */
  gainInvariance: boolean;
  /**
   * Tilt invariance: also remove the straight line through the window's per-mel-bin median levels
   * (input-scaling.ts `removeWindowTilt`): a microphone's tilt or placement changes the spectral balance smoothly.
   */
  tiltInvariance: boolean;
  method: MethodId;
  /** Constructor options of the method (e.g. `{coresetRatio: 0.1}`). */
  methodOptions: Record<string, unknown>;
  /** Adaptive average pooling of the embedding channels down to this many (0: keep all). */
  embeddingDim: number;
  /**
   * Frequency-aware matching: weight of the patch's frequency position (row / grid height, in [0, 1]) appended
   * to each embedding, in units of the mean embedding norm of the training patches (0: off).
   */
  frequencyWeight: number;
  /**
   * Log-mel context memory fused with the backbone's scores (logmel/context-memory.ts, pipeline/fusion.ts):
   * frames per context vector, odd (0: off).
   */
  contextFrames: number;
  /**
   * Share of the context memory's vectors kept, in (0, 1]: a greedy k-center coreset (logmel/context-memory.ts
   * `coresetOf`), as PatchCore reduces its bank; the search's cost scales with it. 1 keeps every vector.
   */
  contextCoreset: number;
  /** Tonal envelope fused with the backbone's scores (logmel/tonal-envelope.ts): its margin in dB (0: off). */
  tonalMarginDb: number;
  /**
   * Modulation spectrum fused with the backbone's scores (logmel/modulation-spectrum.ts): bands of adjacent
   * mel bins whose envelope's rhythm (2-25 Hz) is compared with normal sound's (0: off). Default 16, with
   * `fusion` 'levels': it lifts the weak fault kinds' ranking on the development corpus; with 'union' or 'sum'
   * the m16_factory stream's two quietest clicks stayed under the threshold (BENCHMARKS.md, issue 13).
   */
  modulationBands: number;
  /**
   * Impulse train fused with the backbone's scores (logmel/impulse-train.ts): bands of adjacent mel bins in
   * which a short bump recurring at 7-25 Hz (a bearing-like fault striking a resonance) is looked for, each
   * against its own normal windows (0: off). Default 16, the modulation spectrum's bands: on the
   * development corpus it lifts impacts to 0.98-1.00 auc; with 16 bands and the leave-one-out `levels` rule the
   * other kinds keep their figures but modulation (0.950 -> 0.942), more bands cost more (BENCHMARKS.md, issue
   * 13, "Impacts: an impulse-train part").
   * It takes part in every fusion rule, 'max' included.
   */
  impulseBands: number;
  /**
   * How the parts' window scores, each divided by its held-out normal scale, are fused (pipeline/fusion.ts):
   * 'sum' adds them (evidence from several parts adds up; the modulation spectrum takes part only in it),
   * 'max' keeps the largest (every model fitted before 'sum' existed), 'union' keeps the largest of the sum
   * and each part alone, each over its level for the same false-alarm rate (a transient that lifts one part
   * only is not diluted in the sum), 'levels' keeps the largest part, each over its own level (a quantile of
   * its own held-out clip maxima, `calibrationQuantile` shared out over the parts), with the threshold at 1 (best with
   * `calibrationFolds` 'leave-one-out': a level from 5 held-out clips is noise).
   */
  fusion: FusionRule;
  /**
   * Share of each cell's map value taken from its frame's mean over mel bins, in [0, 1): a speed change or a
   * modulation is anomalous across the band even where one bin shows little (pipeline/fusion.ts).
   */
  timeShare: number;
  /**
   * Each window's map (and the map before the time share) is multiplied by the window's normalised score
   * when that is under the threshold (`windowGate`, detector.ts): the map says where, the window's score says
   * whether. A window over the threshold keeps its map. Models saved before the option load with it off.
   */
  mapWindowGate: boolean;
  /** Gaussian blur of the window map in spectrogram cells: along mel bins and along frames (0: none). */
  blurSigmaMel: number;
  blurSigmaTime: number;
  /**
   * How the threshold's held-out normal scores are made (fit-detector.ts): 'leave-one-out' scores every
   * training clip by a model without it (16 clips of scores from 16, and the model fitted on every clip);
   * 'holdout' holds `calibrationHoldout` of the clips out (at least 5) and fits the model on the others.
   * A false-alarm rate (`falseAlarmsPerDay` > 0) always uses 'leave-one-out'.
   */
  calibrationFolds: CalibrationFolds;
  /** With `calibrationFolds` 'holdout', the share of the clips held out (at least 5 clips). */
  calibrationHoldout: number;
  /**
   * The false-alarm rate the threshold is set for: expected false alerts per sensor-day on normal sound, with
   * the alert rule of `alertWindows` (calibration/rate.ts). 0: the older threshold instead, the
   * `calibrationQuantile` of a gamma fitted to the held-out clips' largest scores. Default 0 for now: at 1 a
   * day the development corpus's normal streams raise no alert, but the m16_factory stream's quietest event
   * (a key click, 1.17x the older threshold) falls under the threshold (BENCHMARKS.md, issue 13).
   */
  falseAlarmsPerDay: number;
  /** One-sided confidence of the upper bound on the threshold for `falseAlarmsPerDay`, in [0.5, 1). */
  falseAlarmConfidence: number;
  /**
   * Consecutive windows over the threshold that open an alert, as in the server's alert rule (its
   * `openWindows`); the threshold is set for the minimum over such runs.
   */
  alertWindows: number;
  /**
   * With `falseAlarmsPerDay` 0, the quantile of the gamma fitted to held-out normal clip scores that becomes the
   * threshold (normalised 1.0); also the quantile of the per-bin levels of `rowCalibration`.
   */
  calibrationQuantile: number;
  /** Normalise the map per mel bin by the held-out normal maps' quantile (row-calibration.ts). */
  rowCalibration: boolean;
  /**
   * Kept so older configurations load: the model is now always fitted on every clip after the held-out folds
   * were scored.
   */
  refitAfterCalibration: boolean;
  /** Windows per backbone batch. */
  batchSize: number;
}

/**
 * Defaults: the best configuration found on the development corpus (mean over groups, BENCHMARKS.md, issue 13,
 * "The default switch"). Each departure from the older defaults has its own reason, not a group's figure:
 * - `calibrationFolds` 'leave-one-out': every training clip gives held-out scores (16 clips from models of 15,
 *   where the single hold-out gave 5 from models of 11), so each part's level is a quantile of 16 maxima, not 5;
 * - `fusion` 'levels': each part is judged on its own level, so a fault that lifts one part only (a tone, a
 *   modulation, a strike train) is not diluted by the others, and no part's scale sets another's threshold;
 * - `modulationBands` and `impulseBands` 16: the two band-wise parts that see amplitude modulation and
 *   recurring strikes, which the backbone's 1 s patches and the 5-frame contexts cannot (the weak kinds);
 * - `imageHeight` 128 (was 256): a window has 128 mel bins, so a taller image only interpolates between them
 *   and doubles the backbone's pixels and the patches the method searches. The width stays doubled (63
 *   frames to 128): at the window's own 64 the backbone's stride-16 tap sees 16 frames per patch, too coarse
 *   for strikes and 3-8 Hz modulation (impacts 0.87 -> 0.74 on the development corpus). At 128 x 128 the
 *   ranking and the stream replays are unchanged and a live window costs about a fifth less CPU (BENCHMARKS.md,
 *   issue 16, "The backbone at the window's height"). A saved model keeps the size it was fitted with.
 */
export const DETECTOR_DEFAULTS: Omit<DetectorConfig, 'mel' | 'taps'> = {
  windowSeconds: 1,
  hopSeconds: 0.5,
  fitHopSeconds: 0.5,
  backbone: 'mobilenetv2',
  imageHeight: 128,
  imageWidth: 128,
  dbPercentiles: [0.5, 99.5],
  standardiseBins: true,
  gainInvariance: true,
  tiltInvariance: true,
  method: 'patchcore',
  methodOptions: {},
  embeddingDim: 0,
  frequencyWeight: 1,
  contextFrames: 5,
  contextCoreset: 1,
  tonalMarginDb: 3,
  modulationBands: 16,
  impulseBands: 16,
  fusion: 'levels',
  timeShare: 0.6,
  mapWindowGate: true,
  blurSigmaMel: 8,
  blurSigmaTime: 4,
  calibrationFolds: 'leave-one-out',
  calibrationHoldout: 0.25,
  falseAlarmsPerDay: 0,
  falseAlarmConfidence: 0.9,
  alertWindows: 2,
  calibrationQuantile: 0.99,
  rowCalibration: false,
  refitAfterCalibration: false,
  batchSize: 16,
};

/**
 * Method options the detector uses unless given: PatchCore keeps 5 % of the training patches (the paper uses
 * 1-10 %): 2 % lost about 0.05 auc on the development corpus, 10 % doubles the fit time.
 */
export const METHOD_DEFAULTS: Record<MethodId, Record<string, unknown>> = {
  patchcore: { coresetRatio: 0.05 },
  padim: {},
  spade: {},
};

/** Input to `resolveDetectorConfig`: any field may be left out. */
export type DetectorConfigInput = Partial<Omit<DetectorConfig, 'mel'>> & { mel?: Partial<MelParams> };

const MIN_SIZE: Record<BackboneId, number> = { mobilenetv2: 32, inceptionv3: 75, speech: 1 };

/** Fills defaults and validates; errors quote the value and say what is allowed. */
export function resolveDetectorConfig(input: DetectorConfigInput = {}): DetectorConfig {
  const backbone = input.backbone ?? DETECTOR_DEFAULTS.backbone;
  if (!BACKBONE_IDS.includes(backbone)) {
    throw new Error(`backbone (${showValue(backbone)}) must be one of ${BACKBONE_IDS.join(', ')}`);
  }
  const method = input.method ?? DETECTOR_DEFAULTS.method;
  if (!METHOD_IDS.includes(method))
    throw new Error(`method (${showValue(method)}) must be one of ${METHOD_IDS.join(', ')}`);
  checkShapes(input, method);
  const melInput = backbone === 'speech' ? { ...SPEECH_MEL, ...input.mel } : input.mel;
  const mel = resolveMelParams({ ...melInput, center: false });
  if (mel.center) throw new Error('mel.center (true) must be false: streaming needs whole frames');
  const c: DetectorConfig = {
    ...DETECTOR_DEFAULTS,
    ...input,
    backbone,
    method,
    mel,
    taps: [...(input.taps ?? defaultTaps(backbone))],
    methodOptions: { ...METHOD_DEFAULTS[method], ...(input.methodOptions ?? {}) },
    dbPercentiles: [...(input.dbPercentiles ?? DETECTOR_DEFAULTS.dbPercentiles)] as [number, number],
  };
  if (backbone === 'speech') {
    if (mel.nMels !== 32) throw new Error(`mel.nMels (${mel.nMels}) must be 32 for the speech backbone`);
    c.imageHeight = 32;
    c.imageWidth = windowFrames(c);
  }
  checkWindows(c);
  checkImage(c);
  checkFeatures(c);
  checkScoring(c);
  checkMethodOptions(method, c.methodOptions);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1)
    throw new Error(`batchSize (${showValue(c.batchSize)}) must be a whole number >= 1`);
  return c;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The option names of each method: the keys of its constructor's defaults. */
const METHOD_OPTION_NAMES: Record<MethodId, readonly string[]> = {
  patchcore: Object.keys(PATCHCORE_DEFAULTS),
  padim: Object.keys(PADIM_DEFAULTS),
  spade: Object.keys(SPADE_DEFAULTS),
};

/**
 * The fields whose type the range checks cannot catch: objects and arrays are spread or read by key (a string
 * would spread into characters), booleans are tested for truth (any string is true), and a method option that
 * the method does not have would be ignored without a word.
 */
function checkShapes(input: DetectorConfigInput, method: MethodId): void {
  const given = input as Record<string, unknown>;
  for (const name of ['mel', 'methodOptions'] as const)
    if (given[name] !== undefined && !isRecord(given[name]))
      throw new Error(`${name} (${showValue(given[name])}) must be an object, e.g. ${EXAMPLES[name]}`);
  const taps = given.taps;
  if (taps !== undefined && !(Array.isArray(taps) && taps.every((t) => typeof t === 'string')))
    throw new Error(`taps (${showValue(taps)}) must be an array of layer names, e.g. ${EXAMPLES.taps}`);
  const pct = given.dbPercentiles;
  if (
    pct !== undefined &&
    !(Array.isArray(pct) && pct.length === 2 && pct.every((v) => typeof v === 'number'))
  )
    throw new Error(`dbPercentiles (${showValue(pct)}) must be two numbers [low, high], e.g. [0.5, 99.5]`);
  for (const name of BOOLEAN_FIELDS)
    if (given[name] !== undefined && typeof given[name] !== 'boolean')
      throw new Error(`${name} (${showValue(given[name])}) must be true or false`);
  const valid = METHOD_OPTION_NAMES[method];
  const unknown = Object.keys(input.methodOptions ?? {}).filter((k) => !valid.includes(k));
  if (unknown.length)
    throw new Error(
      `methodOptions has ${unknown.map((k) => showValue(k)).join(', ')}, not an option of ${method}; its options: ${valid.join(', ')}`,
    );
}

const BOOLEAN_FIELDS = [
  'standardiseBins',
  'gainInvariance',
  'tiltInvariance',
  'rowCalibration',
  'refitAfterCalibration',
  'mapWindowGate',
] as const satisfies readonly (keyof DetectorConfig)[];

const EXAMPLES = {
  mel: '{"nMels": 128}',
  methodOptions: '{"coresetRatio": 0.05}',
  taps: '["block_5_add", "block_9_add"]',
};

function positive(name: keyof DetectorConfig, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`${name} (${showValue(v)}) must be a number > 0`);
}

function nonNegative(name: keyof DetectorConfig, v: number): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new Error(`${name} (${showValue(v)}) must be a number >= 0`);
}

/**
 * Longest window, s: a window is one moment of sound that the backbone sees as one image, and the server's
 * audio ring holds 90 s. A larger value (a damaged model file's 1e308) would ask for a window no memory holds.
 */
export const MAX_WINDOW_SECONDS = 60;

/** Window length and hops. */
function checkWindows(c: DetectorConfig): void {
  positive('windowSeconds', c.windowSeconds);
  if (c.windowSeconds > MAX_WINDOW_SECONDS)
    throw new Error(
      `windowSeconds (${showValue(c.windowSeconds)}) must be <= ${MAX_WINDOW_SECONDS}: a window is one moment of sound, e.g. 1`,
    );
  positive('hopSeconds', c.hopSeconds);
  positive('fitHopSeconds', c.fitHopSeconds);
  if (c.hopSeconds > c.windowSeconds) {
    throw new Error(
      `hopSeconds (${showValue(c.hopSeconds)}) must be <= windowSeconds (${showValue(c.windowSeconds)}) so windows cover every frame`,
    );
  }
  if (windowFrames(c) < 4)
    throw new Error(
      `windowSeconds (${showValue(c.windowSeconds)}) gives ${windowFrames(c)} frames; use a longer window`,
    );
  if (windowFrames(c) > MAX_WINDOW_FRAMES)
    throw new Error(
      `windowSeconds (${showValue(c.windowSeconds)}) gives ${windowFrames(c)} frames at mel.hopLength ${c.mel.hopLength}; ` +
        `a window holds at most ${MAX_WINDOW_FRAMES} (a shorter window or a longer hop)`,
    );
}

/**
 * Most frames in a window: 128 mel bins x 16384 frames is 8 MB of float32, and a server holds several windows
 * per sensor; the backbone sees at most 2048 columns of it anyway (`MAX_IMAGE_SIZE`). 60 s at 16 kHz with the
 * default hop is 3750 frames.
 */
export const MAX_WINDOW_FRAMES = 16_384;

/**
 * Largest image side: a window is 128 mel bins by about 63 frames, so 2048 is already 16x either; a larger
 * side only costs memory (a model.json saying 2^31 would ask the backbone for gigabytes and end the process).
 */
const MAX_IMAGE_SIZE = 2048;

/** The backbone's image: sizes it accepts, and the dB range mapped to its input. */
function checkImage(c: DetectorConfig): void {
  const { backbone } = c;
  for (const [name, v] of [
    ['imageHeight', c.imageHeight],
    ['imageWidth', c.imageWidth],
  ] as const) {
    const min = MIN_SIZE[backbone];
    if (!Number.isInteger(v) || v < min || v > MAX_IMAGE_SIZE || (backbone === 'mobilenetv2' && v % 2)) {
      throw new Error(
        `${name} (${showValue(v)}) must be ${backbone === 'mobilenetv2' ? 'an even' : 'a'} whole number >= ${min} and <= ${MAX_IMAGE_SIZE} for ${backbone}`,
      );
    }
  }
  const [lo, hi] = c.dbPercentiles;
  if (!(lo >= 0 && hi <= 100 && lo < hi))
    throw new Error(`dbPercentiles (${showValue(c.dbPercentiles)}) must satisfy 0 <= low < high <= 100`);
}

/** The embeddings and the parts beside the method. */
function checkFeatures(c: DetectorConfig): void {
  if (!Number.isInteger(c.embeddingDim) || c.embeddingDim < 0) {
    throw new Error(
      `embeddingDim (${showValue(c.embeddingDim)}) must be a whole number >= 0 (0 keeps every channel)`,
    );
  }
  nonNegative('frequencyWeight', c.frequencyWeight);
  if (!(
    Number.isInteger(c.contextFrames) &&
    c.contextFrames >= 0 &&
    (c.contextFrames === 0 || c.contextFrames % 2 === 1)
  ))
    throw new Error(
      `contextFrames (${showValue(c.contextFrames)}) must be 0 (off) or an odd whole number, e.g. 5`,
    );
  if (!(c.contextCoreset > 0 && c.contextCoreset <= 1))
    throw new Error(
      `contextCoreset (${showValue(c.contextCoreset)}) must be in (0, 1], e.g. 0.25 (1 keeps every context)`,
    );
  if (c.contextFrames > windowFrames(c))
    throw new Error(
      `contextFrames (${showValue(c.contextFrames)}) must be <= the window's ${windowFrames(c)} frames`,
    );
  nonNegative('tonalMarginDb', c.tonalMarginDb);
  for (const key of ['modulationBands', 'impulseBands'] as const) {
    const v = c[key];
    if (!(Number.isInteger(v) && v >= 0 && v <= c.mel.nMels))
      throw new Error(
        `${key} (${showValue(v)}) must be 0 (off) or a whole number up to nMels (${showValue(c.mel.nMels)}), e.g. 16`,
      );
  }
  if (!FUSION_RULES.includes(c.fusion))
    throw new Error(`fusion (${showValue(c.fusion)}) must be one of ${FUSION_RULES.join(', ')}`);
}

/** The map and the threshold. */
function checkScoring(c: DetectorConfig): void {
  if (!(typeof c.timeShare === 'number' && c.timeShare >= 0 && c.timeShare < 1))
    throw new Error(`timeShare (${showValue(c.timeShare)}) must be in [0, 1), e.g. 0.6`);
  nonNegative('blurSigmaMel', c.blurSigmaMel);
  nonNegative('blurSigmaTime', c.blurSigmaTime);
  // The blur is over one window's map: a sigma as long as its axis already spreads a cell over all of it, and
  // a larger one only costs time (a damaged model file's 1e6 took seconds per window, 1e9 failed every one).
  if (c.blurSigmaMel > c.mel.nMels)
    throw new Error(
      `blurSigmaMel (${showValue(c.blurSigmaMel)}) must be <= nMels (${c.mel.nMels}), the map's height, e.g. 8`,
    );
  if (c.blurSigmaTime > windowFrames(c))
    throw new Error(
      `blurSigmaTime (${showValue(c.blurSigmaTime)}) must be <= the window's ${windowFrames(c)} frames, e.g. 4`,
    );
  if (!CALIBRATION_FOLDS.includes(c.calibrationFolds))
    throw new Error(
      `calibrationFolds (${showValue(c.calibrationFolds)}) must be one of ${CALIBRATION_FOLDS.join(', ')}`,
    );
  if (!(typeof c.calibrationHoldout === 'number' && c.calibrationHoldout > 0 && c.calibrationHoldout < 1)) {
    throw new Error(`calibrationHoldout (${showValue(c.calibrationHoldout)}) must be in (0, 1), e.g. 0.25`);
  }
  if (!(
    typeof c.calibrationQuantile === 'number' &&
    c.calibrationQuantile > 0 &&
    c.calibrationQuantile < 1
  )) {
    throw new Error(`calibrationQuantile (${showValue(c.calibrationQuantile)}) must be in (0, 1), e.g. 0.99`);
  }
  nonNegative('falseAlarmsPerDay', c.falseAlarmsPerDay);
  if (!(
    typeof c.falseAlarmConfidence === 'number' &&
    c.falseAlarmConfidence >= 0.5 &&
    c.falseAlarmConfidence < 1
  ))
    throw new Error(
      `falseAlarmConfidence (${showValue(c.falseAlarmConfidence)}) must be in [0.5, 1), e.g. 0.9`,
    );
  if (!(Number.isInteger(c.alertWindows) && c.alertWindows >= 1))
    throw new Error(
      `alertWindows (${showValue(c.alertWindows)}) must be a whole number >= 1, e.g. 2 (the server's openWindows)`,
    );
}

/**
 * Taps used unless given: MobileNetV2's narrow pair (block outputs, 32 + 64 channels) matched the wide pair
 * (expansion activations, 192 + 384) on the development corpus at half the cost; others use their default.
 */
export function defaultTaps(backbone: BackboneId): string[] {
  return backbone === 'mobilenetv2' ? [...MOBILENETV2_TAPS.narrow] : [...backboneSpec(backbone).defaultTaps];
}

/**
 * Log-mel geometry for the speech backbone: openWakeWord's (32 mel bins, 10 ms hop, 512-sample window,
 * 16 kHz), computed by libs/dsp so a stream feeds the detector the same columns whatever the backbone; the
 * values are mapped onto the span of openWakeWord's scaled log-mel (see feature-extractor.ts), not computed by
 * its `melspectrogram.onnx`.
 */
export const SPEECH_MEL: Partial<MelParams> = { sampleRate: 16000, nFft: 512, hopLength: 160, nMels: 32 };

/** Frames per window: round(windowSeconds * sampleRate / hopLength). */
export function windowFrames(c: Pick<DetectorConfig, 'mel' | 'windowSeconds'>): number {
  return Math.round((c.windowSeconds * c.mel.sampleRate) / c.mel.hopLength);
}

/** Frames between window starts: max(1, round(hopSeconds * sampleRate / hopLength)). */
export function hopFrames(c: Pick<DetectorConfig, 'mel' | 'hopSeconds'>): number {
  return Math.max(1, Math.round((c.hopSeconds * c.mel.sampleRate) / c.mel.hopLength));
}

/** The modulation spectrum's layout for `config`. */
export function modulationGrid(config: DetectorConfig): ModulationGrid {
  return bandGrid(config, config.modulationBands);
}

/** The impulse train's layout for `config`. */
export function impulseGrid(config: DetectorConfig): ImpulseGrid {
  return bandGrid(config, config.impulseBands);
}

/** A band part's layout: `bands` groups of adjacent mel bins over a window of `config`, at its frame rate. */
function bandGrid(config: DetectorConfig, bands: number): ModulationGrid & ImpulseGrid {
  const { nMels, sampleRate, hopLength } = config.mel;
  return { nMels, windowFrames: windowFrames(config), bands, frameRate: sampleRate / hopLength };
}
