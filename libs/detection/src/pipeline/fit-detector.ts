/**
 * Fitting a detector on normal clips only, stage by stage (`fitDetector`):
 *
 * 1. `heldOutClips`: a deterministic, evenly spread share of the clips (`calibrationHoldout`, at least 5) is
 *    held out for calibration.
 * 2. Log-mel of every clip; `cutWindows` cuts every clip into levelled windows, and `learnScaling` learns the
 *    backbone's input scaling from them (`learnInputScaling`).
 * 3. Every window is embedded once (`TrainingEmbeddings`, which also learns the frequency coordinate's scale).
 * 4. `fitMethod` fits the method on the windows of the clips not held out; `fitParts` fits the parts beside
 *    it (context memory, tonal envelope) on the same clips.
 * 5. Calibration (DCASE baselines' recipe): `scoreHeldOut` scores the held-out clips (clip score = max window
 *    score) and `calibrate` fits a gamma to those normal scores; its `calibrationQuantile` becomes the
 *    threshold (normalised 1.0). No anomalous data is needed.
 *    With `rowCalibration` the held-out window maps also give each mel bin its own map level.
 *    With parts beside the method, the held-out clips also give each part its scale (fusion.ts), and the
 *    threshold is fitted on the fused scores, each held-out clip fused on the scales of the others (leave one
 *    out).
 * 6. With `refitAfterCalibration` the method (not the parts) is fitted again on every clip (more normal
 *    data, slightly lower normal scores, so the held-out threshold errs towards fewer false alarms). Off by
 *    default: on the development corpus it gained ~0.005 auc for twice the fit time.
 * 7. The detector is assembled with its `trainingSummary`.
 */
import { logMelSpectrogram } from '@hark/dsp';
import { Calibration, MIN_NORMAL_SCORES } from '../calibration/index.js';
import type { AnomalyMethod, PatchGrid } from '../method.js';
import { copyWindow, windowStarts } from '../windows.js';
import {
  hopFrames,
  resolveDetectorConfig,
  windowFrames,
  type DetectorConfig,
  type DetectorConfigInput,
} from './config.js';
import {
  Detector,
  mapShape,
  type DetectorParts,
  type FittedParams,
  type TrainingSummary,
} from './detector.js';
import { FeatureExtractor, type WindowEmbeddings } from './feature-extractor.js';
import type { Spectrogram } from './types.js';
import { appendFrequencyPosition, meanRowNorm } from './frequency-position.js';
import { learnInputScaling, levelWindow, standardiseBins, type InputScaling } from './input-scaling.js';
import { windowAnomalyMap } from './anomaly-map.js';
import { createMethod } from './methods.js';
import { RowLevels } from './row-calibration.js';
import { fitFusionScales, fuseWindow, shareTime, type WindowParts } from './fusion.js';
import { ContextMemory } from '../logmel/context-memory.js';
import { TonalEnvelope } from '../logmel/tonal-envelope.js';

export type FitStage = 'spectrogram' | 'embed' | 'fit' | 'calibrate' | 'refit';
export type FitProgress = (stage: FitStage, done: number, total: number) => void;

/** Clips needed: `MIN_NORMAL_SCORES` held out for the threshold and at least one to fit. */
export const MIN_TRAINING_CLIPS = MIN_NORMAL_SCORES + 1;

/** Indices of the `count` held-out clips among `n`, evenly spread: floor((k + 0.5) * n / count). */
export function holdoutIndices(n: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => Math.floor(((k + 0.5) * n) / count));
}

/** Fits a detector on normal clips: mono samples at `config.mel.sampleRate`, or their log-mel spectrograms. */
/** Fits a detector on normal clips: mono samples at `config.mel.sampleRate`, or their log-mel spectrograms. */
export async function fitDetector(
  clips: readonly (Float32Array | Spectrogram)[],
  input: DetectorConfigInput | DetectorConfig = {},
  onProgress?: FitProgress,
): Promise<Detector> {
  const t0 = performance.now();
  const config = resolveDetectorConfig(input);
  const held = heldOutClips(clips.length, config);
  const specs = clips.map((c, i) => {
    onProgress?.('spectrogram', i + 1, clips.length);
    return c instanceof Float32Array ? logMelSpectrogram(c, config.mel) : c;
  });
  const cut = cutWindows(specs, held, config);
  const scaling = learnScaling(specs, cut, config);
  // Standardised once, for the backbone and the context memory (a copy: without invariance a held-out
  // window is also the tonal envelope's raw window).
  const std = cut.levelled.map((w) => standardiseBins(w.slice(), config.mel.nMels, scaling));
  const extractor = await FeatureExtractor.create(config);
  let parts: DetectorParts | null = null;
  try {
    const e = await extractor.embed(std, scaling, (d, t) => onProgress?.('embed', d, t), {
      standardised: true,
    });
    const training = new TrainingEmbeddings(e, cut.clipOf, held, config.frequencyWeight);
    let method = fitMethod(config, training, training.fitRows, 'fit', onProgress);
    parts = fitParts(config, specs, held, std, cut.clipOf);
    const heldStd = std.filter((_, w) => held.has(cut.clipOf[w]));
    const heldParts = await scoreHeldOut(config, training, method, parts, heldStd, cut.heldRaw, onProgress);
    const { calibration, rowLevels, fusion } = calibrate(config, parts, heldParts);
    if (config.refitAfterCalibration) {
      method.dispose();
      method = fitMethod(config, training, { data: e.data, n: cut.levelled.length }, 'refit', onProgress);
    }
    const summary = trainingSummary(config, specs, cut.levelled.length, held.size, t0);
    const { frequencyScale, grid } = training;
    return new Detector(
      config,
      extractor,
      method,
      { input: scaling, frequencyScale, grid, calibration, rowLevels, fusion, training: summary },
      parts,
    );
  } catch (err) {
    parts?.context?.dispose();
    await extractor.release();
    throw err;
  }
}

/** The held-out clips (`config.calibrationHoldout`, at least `MIN_NORMAL_SCORES`); throws when too few clips. */
function heldOutClips(nClips: number, config: DetectorConfig): Set<number> {
  const nHeld = Math.max(MIN_NORMAL_SCORES, Math.round(config.calibrationHoldout * nClips));
  if (nClips < nHeld + 1) {
    throw new Error(
      `need at least ${nHeld + 1} normal training clips (${nHeld} held out to calibrate the threshold), got ${nClips}; add clips or cut long recordings into ~5 s clips`,
    );
  }
  return new Set(holdoutIndices(nClips, nHeld));
}

/** Every training window, levelled, with the clip it came from. */
interface CutWindows {
  /** Levelled windows `[nMels, windowFrames]`, clip after clip. */
  levelled: Float32Array[];
  /** The clip of each window. */
  clipOf: number[];
  /** The held-out clips' windows as cut (not levelled), in window order: what the tonal envelope scores. */
  heldRaw: Float32Array[];
}

function cutWindows(
  specs: readonly Spectrogram[],
  held: ReadonlySet<number>,
  config: DetectorConfig,
): CutWindows {
  const wf = windowFrames(config);
  const out: CutWindows = { levelled: [], clipOf: [], heldRaw: [] };
  specs.forEach((s, c) => {
    if (s.nMels !== config.mel.nMels)
      throw new Error(`clip ${c} has ${s.nMels} mel bins, the config ${config.mel.nMels}`);
    // Held-out clips are cut as clips are scored; the others with the fitting hop.
    const hop = hopFrames(held.has(c) ? config : { ...config, hopSeconds: config.fitHopSeconds });
    for (const st of windowStarts(s.nFrames, wf, hop)) {
      const w = copyWindow(s.data, s.nMels, s.nFrames, st, wf);
      out.levelled.push(levelWindow(w, s.nMels, config));
      out.clipOf.push(c);
      if (held.has(c)) out.heldRaw.push(w);
    }
  });
  return out;
}

/** With gain or tilt invariance the scaling is learned from the levelled windows, as the backbone sees them. */
function learnScaling(specs: readonly Spectrogram[], cut: CutWindows, config: DetectorConfig): InputScaling {
  const wf = windowFrames(config);
  return learnInputScaling(
    config.gainInvariance || config.tiltInvariance
      ? cut.levelled.map((data) => ({ data, nMels: config.mel.nMels, nFrames: wf }))
      : specs,
    config,
  );
}

/** Some windows' backbone embeddings, `[n, height * width, dim]` (no frequency coordinate yet). */
interface EmbeddingRows {
  data: Float32Array;
  n: number;
}

/**
 * The training windows' embeddings, split into fitting and held-out windows, and the method's input grid:
 * the frequency coordinate's scale is learned from the fitting windows.
 */
class TrainingEmbeddings {
  readonly perWindow: number;
  /** The fitting windows' embeddings. */
  readonly fitRows: EmbeddingRows;
  readonly frequencyScale: number;
  /** The method's grid: the backbone's, plus one dimension for the frequency coordinate when it is used. */
  readonly grid: PatchGrid;

  constructor(
    readonly e: WindowEmbeddings,
    readonly clipOf: readonly number[],
    readonly held: ReadonlySet<number>,
    frequencyWeight: number,
  ) {
    this.perWindow = e.grid.height * e.grid.width;
    const fit = (this.fitRows = this.select(false));
    this.frequencyScale = frequencyWeight * meanRowNorm(fit.data, fit.n * this.perWindow, e.grid.dim);
    this.grid = { ...e.grid, dim: e.grid.dim + (this.frequencyScale > 0 ? 1 : 0) };
  }

  /** The held-out windows' embeddings (`heldOut`) or the fitting windows', in window order. */
  select(heldOut: boolean): EmbeddingRows {
    const { e, perWindow } = this;
    const size = perWindow * e.grid.dim;
    const idx = this.clipOf.map((c, w) => (this.held.has(c) === heldOut ? w : -1)).filter((w) => w >= 0);
    const out = new Float32Array(idx.length * size);
    idx.forEach((w, i) => out.set(e.data.subarray(w * size, (w + 1) * size), i * size));
    return { data: out, n: idx.length };
  }

  /** `rows` as the method sees them: with the frequency coordinate appended. */
  methodInput(rows: EmbeddingRows): Float32Array {
    return appendFrequencyPosition(rows.data, rows.n, this.e.grid, this.frequencyScale);
  }
}

/** A new method of `config.method` fitted on `rows`, reporting progress as `stage`. */
function fitMethod(
  config: DetectorConfig,
  training: TrainingEmbeddings,
  rows: EmbeddingRows,
  stage: FitStage,
  onProgress?: FitProgress,
): AnomalyMethod {
  const m = createMethod(config.method, config.methodOptions);
  m.fit(training.methodInput(rows), rows.n, training.grid, (d, t) => onProgress?.(stage, d, t));
  return m;
}

/**
 * What the method and the parts say of each held-out window, by clip. `heldStd` and `heldRaw` are the
 * held-out windows standardised and as cut, in window order.
 */
async function scoreHeldOut(
  config: DetectorConfig,
  training: TrainingEmbeddings,
  method: AnomalyMethod,
  parts: DetectorParts,
  heldStd: readonly Float32Array[],
  heldRaw: readonly Float32Array[],
  onProgress?: FitProgress,
): Promise<Map<number, WindowParts[]>> {
  const { grid } = training;
  const rows = training.select(true);
  const x = training.methodInput(rows);
  const clips = training.clipOf.filter((c) => training.held.has(c));
  const per = training.perWindow * grid.dim;
  const out = new Map<number, WindowParts[]>();
  for (let i = 0; i < rows.n; i++) {
    const { windowScore, patchScores } = await method.score(x.subarray(i * per, (i + 1) * per));
    // The maps are only needed for per-bin levels; an empty map keeps the fused one empty too.
    const map = config.rowCalibration ? windowAnomalyMap(patchScores, grid, mapShape(config)) : EMPTY;
    const p: WindowParts = {
      method: { windowScore, map },
      context: parts.context ? await parts.context.score(heldStd[i]) : null,
      tonal: parts.tonal ? parts.tonal.score(heldRaw[i]) : null,
    };
    out.set(clips[i], [...(out.get(clips[i]) ?? []), p]);
    onProgress?.('calibrate', i + 1, rows.n);
  }
  return out;
}

/** The fusion scales, the threshold on the held-out clips' (fused) scores and, with `rowCalibration`, per-bin levels. */
function calibrate(
  config: DetectorConfig,
  parts: DetectorParts,
  heldParts: ReadonlyMap<number, WindowParts[]>,
): Pick<FittedParams, 'calibration' | 'rowLevels' | 'fusion'> {
  const fusion = parts.context || parts.tonal ? fitFusionScales([...heldParts.values()]) : null;
  const rows = config.rowCalibration ? new RowLevels(config.mel.nMels) : null;
  const scores = new Map<number, number>();
  for (const [clip, ps] of heldParts) {
    // Each held-out clip is fused on the scales of the other held-out clips, as a new normal clip would
    // be: scales fitted on it too would put every held-out score at or under 1 and the threshold with them.
    const others = [...heldParts].filter(([c]) => c !== clip).map(([, v]) => v);
    const own = fusion ? fitFusionScales(others) : null;
    for (const p of ps) {
      const f = own ? fuseWindow(p, own) : p.method;
      if (rows) rows.add(shareTime(f.map, config.mel.nMels, config.timeShare));
      scores.set(clip, Math.max(scores.get(clip) ?? -Infinity, f.windowScore));
    }
  }
  const calibration = Calibration.fit([...scores.values()], {
    method: 'gamma',
    q: config.calibrationQuantile,
  });
  const rowLevels = rows ? rows.levels(config.calibrationQuantile, calibration.threshold * 1e-6) : null;
  return { calibration, rowLevels, fusion };
}

/** What the detector was fitted on, as saved with it. */
function trainingSummary(
  config: DetectorConfig,
  specs: readonly Spectrogram[],
  windows: number,
  calibrationClips: number,
  t0: number,
): TrainingSummary {
  const seconds = specs.reduce((s, x) => s + (x.nFrames * config.mel.hopLength) / config.mel.sampleRate, 0);
  return {
    clips: specs.length,
    seconds: Math.round(seconds * 1000) / 1000,
    windows,
    calibrationClips,
    fittedAt: new Date().toISOString(),
    fitSeconds: (performance.now() - t0) / 1000,
  };
}

const EMPTY = new Float32Array(0);

/**
 * The parts fused with the method, fitted on the clips that are not held out: the context memory on their
 * levelled, standardised fitting windows (as the backbone sees them), the tonal envelope on their raw
 * windows an eighth of a window apart (its envelope is a maximum: denser windows see more of normal sound's
 * peaks).
 */
function fitParts(
  config: DetectorConfig,
  specs: readonly Spectrogram[],
  held: ReadonlySet<number>,
  std: readonly Float32Array[],
  clipOf: readonly number[],
): DetectorParts {
  const { nMels } = config.mel;
  const wf = windowFrames(config);
  // The fitting windows overlap (fitHopSeconds): each frame's context is kept as levelled in both windows,
  // which scored better on the development corpus than windows side by side (9-frame contexts: 0.939
  // against 0.930 auc).
  const context =
    config.contextFrames > 0
      ? ContextMemory.fit(
          std.filter((_, w) => !held.has(clipOf[w])),
          nMels,
          config.contextFrames,
        )
      : null;
  let tonal: TonalEnvelope | null = null;
  if (config.tonalMarginDb > 0) {
    const hop = Math.max(1, Math.round(wf / 8));
    const raw = specs.flatMap((s, c) =>
      held.has(c)
        ? []
        : windowStarts(s.nFrames, wf, hop).map((st) => copyWindow(s.data, nMels, s.nFrames, st, wf)),
    );
    tonal = TonalEnvelope.fit(raw, nMels, config.tonalMarginDb);
  }
  return { context, tonal };
}
