/**
 * Fitting a detector on normal clips only, stage by stage (`fitDetector`):
 *
 * 1. With a false-alarm rate (`falseAlarmsPerDay` > 0) or `calibrationFolds` 'leave-one-out' every clip is
 *    held out once (leave one clip out) to calibrate; otherwise the older single hold-out: an evenly spread
 *    share of the clips (`calibrationHoldout`, at least 5, `heldOutClips`), and the model is fitted on the
 *    others only.
 * 2. Log-mel of every clip; `cutWindows` cuts every clip into levelled windows (at the fitting hop to fit, at
 *    the scoring hop to be scored; the same windows when the hops are equal), and `learnScaling` learns the
 *    backbone's input scaling from them (`learnInputScaling`).
 * 3. Every window is embedded once (`TrainingEmbeddings` selects rows and learns the frequency coordinate's
 *    scale from the rows a method is fitted on).
 * 4. The method (`fitMethod`) and the parts beside it (`fitParts`: context memory, tonal envelope,
 *    modulation spectrum, impulse train) are fitted
 *    on every clip (not held out): the model scores live sound with all the normal data.
 * 5. Cross-fitting (`scoreLeftOut`, with a rate): each clip is scored by a model without it, as a new normal clip would
 *    be: the parts fitted on the other clips; the method fitted on them too, or, for a memory of selected
 *    training patches (PatchCore's coreset), the fitted memory without the clip's patches
 *    (`AnomalyMethod.without`: no second k-center selection; the clip's neighbours that its own patches
 *    covered stay out, so its scores err high, towards fewer false alarms). 16 clips give 16 clips of
 *    held-out scores from models of 15, where a single hold-out gave 5 clips from models of 11.
 * 6. Calibration (`calibrate`): the held-out clips give each part its scale (fusion.ts; each clip fused on
 *    the scales of the others, leave one out) and the threshold (normalised 1.0) is set on the fused window
 *    scores for `falseAlarmsPerDay` false alerts per sensor-day (calibration/rate.ts: extreme-value tail of
 *    the run minima the alert rule sees, upper confidence bound). With `falseAlarmsPerDay` 0, the older
 *    threshold: the `calibrationQuantile` of a gamma fitted to the clips' largest scores. With
 *    `rowCalibration` the held-out window maps also give each mel bin its own map level. With fusion 'union'
 *    each clip's statistics (the sum and each part) are first divided by their levels, fitted on the other
 *    clips too, and the threshold is set on the largest. With fusion 'levels' (and no rate) the parts' own
 *    levels are the threshold (1). No anomalous data is needed.
 * 7. The detector is assembled with its `trainingSummary`.
 */
import { logMelSpectrogram } from '@hark/dsp';
import { Calibration, MIN_NORMAL_SCORES } from '../calibration/index.js';
import type { AnomalyMethod, PatchGrid } from '../method.js';
import { copyWindow, windowStarts } from '../windows.js';
import {
  hopFrames,
  impulseGrid,
  modulationGrid,
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
import {
  fitFusionLevels,
  fitFusionScales,
  fitPartLevels,
  fuseWindow,
  shareTime,
  type FusionScales,
  type WindowParts,
} from './fusion.js';
import { ContextMemory } from '../logmel/context-memory.js';
import { TonalEnvelope } from '../logmel/tonal-envelope.js';
import { ModulationSpectrum } from '../logmel/modulation-spectrum.js';
import { ImpulseTrain } from '../logmel/impulse-train.js';

export type FitStage = 'spectrogram' | 'embed' | 'fit' | 'calibrate' | 'refit';
export type FitProgress = (stage: FitStage, done: number, total: number) => void;

/** Clips needed: `MIN_NORMAL_SCORES` scored by the folds and at least one more, so every fold fits on some. */
export const MIN_TRAINING_CLIPS = MIN_NORMAL_SCORES + 1;

/** Indices of the `count` held-out clips among `n`, evenly spread: floor((k + 0.5) * n / count). */
export function holdoutIndices(n: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => Math.floor(((k + 0.5) * n) / count));
}

/** The single hold-out (without a false-alarm rate): `calibrationHoldout` of the clips, at least 5. */
function heldOutClips(nClips: number, config: DetectorConfig): Set<number> {
  const nHeld = Math.max(MIN_NORMAL_SCORES, Math.round(config.calibrationHoldout * nClips));
  if (nClips < nHeld + 1) {
    throw new Error(
      `need at least ${nHeld + 1} normal training clips (${nHeld} held out to calibrate the threshold), got ${nClips}; add clips or cut long recordings into ~5 s clips`,
    );
  }
  return new Set(holdoutIndices(nClips, nHeld));
}

/** Whether every clip is held out once (`calibrationFolds`; a false-alarm rate always is). */
export function leaveOneOut(config: DetectorConfig): boolean {
  return config.falseAlarmsPerDay > 0 || config.calibrationFolds === 'leave-one-out';
}

/** Seconds in a day: a sensor scores 86 400 / hopSeconds windows a day. */
const SECONDS_PER_DAY = 86_400;

/** Fits a detector on normal clips: mono samples at `config.mel.sampleRate`, or their log-mel spectrograms. */
export async function fitDetector(
  clips: readonly (Float32Array | Spectrogram)[],
  input: DetectorConfigInput | DetectorConfig = {},
  onProgress?: FitProgress,
  /** Receives what every part said of each held-out clip's windows (clip index -> windows), for analysis. */
  onHeldOut?: (held: ReadonlyMap<number, WindowParts[]>) => void,
): Promise<Detector> {
  const t0 = performance.now();
  const config = resolveDetectorConfig(input);
  if (clips.length < MIN_TRAINING_CLIPS) {
    throw new Error(
      `need at least ${MIN_TRAINING_CLIPS} normal training clips (each is held out once to calibrate the threshold), got ${clips.length}; add clips or cut long recordings into ~5 s clips`,
    );
  }
  const specs = clips.map((c, i) => {
    onProgress?.('spectrogram', i + 1, clips.length);
    return c instanceof Float32Array ? logMelSpectrogram(c, config.mel) : c;
  });
  const cut = cutWindows(specs, config);
  const scaling = learnScaling(specs, cut, config);
  // Standardised once, for the backbone and the context memory.
  const std = cut.levelled.map((w) => standardiseBins(w.slice(), config.mel.nMels, scaling));
  const extractor = await FeatureExtractor.create(config);
  let parts: DetectorParts | null = null;
  try {
    const e = await extractor.embed(std, scaling, (d, t) => onProgress?.('embed', d, t), {
      standardised: true,
    });
    // With a false-alarm rate every clip is held out once and the model is fitted on all; without, the older
    // single hold-out: the model is fitted on the clips not held out.
    const held = leaveOneOut(config) ? null : heldOutClips(specs.length, config);
    const all = cut.clipOf.flatMap((c, w) => (cut.fit[w] && !held?.has(c) ? [w] : []));
    const training = new TrainingEmbeddings(e, all, config.frequencyWeight);
    const method = fitMethod(config, training, all, 'fit', onProgress);
    parts = fitParts(config, specs, held ?? new Set(), std, cut, true);
    const heldParts = new Map<number, WindowParts[]>();
    const scored = held ? [...held] : specs.map((_, c) => c);
    for (const [i, c] of scored.entries()) {
      const ps = held
        ? await scoreClip(config, training, method, parts, cut, std, c)
        : await scoreLeftOut(config, training, method, all, specs, cut, std, c);
      heldParts.set(c, ps);
      onProgress?.('calibrate', i + 1, scored.length);
    }
    onHeldOut?.(heldParts);
    const { calibration, rowLevels, fusion } = calibrate(config, parts, heldParts);
    const summary = trainingSummary(config, specs, all.length, heldParts.size, t0);
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

/** Every training window, levelled, with the clip it came from and what it is used for. */
interface CutWindows {
  /** Levelled windows `[nMels, windowFrames]`, clip after clip, in time order within a clip. */
  levelled: Float32Array[];
  /** The windows as cut (not levelled): what the tonal envelope and the modulation spectrum score. */
  raw: Float32Array[];
  /** The clip of each window. */
  clipOf: number[];
  /** Whether each window is a fitting window (`fitHopSeconds`) and a scored one (`hopSeconds`). */
  fit: boolean[];
  score: boolean[];
}

function cutWindows(specs: readonly Spectrogram[], config: DetectorConfig): CutWindows {
  const wf = windowFrames(config);
  const out: CutWindows = { levelled: [], raw: [], clipOf: [], fit: [], score: [] };
  specs.forEach((s, c) => {
    if (s.nMels !== config.mel.nMels)
      throw new Error(`clip ${c} has ${s.nMels} mel bins, the config ${config.mel.nMels}`);
    // Scored windows are cut as clips are scored; fitting windows with the fitting hop.
    const scored = new Set(windowStarts(s.nFrames, wf, hopFrames(config)));
    const fitting = new Set(
      windowStarts(s.nFrames, wf, hopFrames({ ...config, hopSeconds: config.fitHopSeconds })),
    );
    for (const st of [...new Set([...scored, ...fitting])].sort((a, b) => a - b)) {
      const w = copyWindow(s.data, s.nMels, s.nFrames, st, wf);
      out.raw.push(w);
      out.levelled.push(levelWindow(w.slice(), s.nMels, config));
      out.clipOf.push(c);
      out.fit.push(fitting.has(st));
      out.score.push(scored.has(st));
    }
  });
  return out;
}

/** With gain or tilt invariance the scaling is learned from the levelled windows, as the backbone sees them. */
function learnScaling(specs: readonly Spectrogram[], cut: CutWindows, config: DetectorConfig): InputScaling {
  const wf = windowFrames(config);
  return learnInputScaling(
    config.gainInvariance || config.tiltInvariance
      ? cut.levelled
          .filter((_, w) => cut.fit[w])
          .map((data) => ({ data, nMels: config.mel.nMels, nFrames: wf }))
      : specs,
    config,
  );
}

/**
 * The training windows' embeddings and the method's input grid for a model fitted on the windows `fitRows`:
 * the frequency coordinate's scale is learned from them.
 */
class TrainingEmbeddings {
  readonly perWindow: number;
  readonly frequencyScale: number;
  /** The method's grid: the backbone's, plus one dimension for the frequency coordinate when it is used. */
  readonly grid: PatchGrid;

  constructor(
    readonly e: WindowEmbeddings,
    fitRows: readonly number[],
    frequencyWeight: number,
  ) {
    this.perWindow = e.grid.height * e.grid.width;
    const fit = this.rows(fitRows);
    this.frequencyScale = frequencyWeight * meanRowNorm(fit, fitRows.length * this.perWindow, e.grid.dim);
    this.grid = { ...e.grid, dim: e.grid.dim + (this.frequencyScale > 0 ? 1 : 0) };
  }

  /** The embeddings of windows `idx`, `[idx.length, height * width, dim]` (no frequency coordinate). */
  rows(idx: readonly number[]): Float32Array {
    const size = this.perWindow * this.e.grid.dim;
    const out = new Float32Array(idx.length * size);
    idx.forEach((w, i) => out.set(this.e.data.subarray(w * size, (w + 1) * size), i * size));
    return out;
  }

  /** Windows `idx` as the method sees them: with the frequency coordinate appended. */
  methodInput(idx: readonly number[]): Float32Array {
    return appendFrequencyPosition(this.rows(idx), idx.length, this.e.grid, this.frequencyScale);
  }
}

/** A new method of `config.method` fitted on windows `idx`, reporting progress as `stage`. */
function fitMethod(
  config: DetectorConfig,
  training: TrainingEmbeddings,
  idx: readonly number[],
  stage: FitStage,
  onProgress?: FitProgress,
): AnomalyMethod {
  const m = createMethod(config.method, config.methodOptions);
  m.fit(training.methodInput(idx), idx.length, training.grid, (d, t) => onProgress?.(stage, d, t));
  return m;
}

/**
 * Clip `c` scored by a model without it: the method without the clip's patches (`AnomalyMethod.without`) or
 * fitted again without its windows, and the parts fitted on the other clips.
 */
async function scoreLeftOut(
  config: DetectorConfig,
  training: TrainingEmbeddings,
  method: AnomalyMethod,
  fitted: readonly number[],
  specs: readonly Spectrogram[],
  cut: CutWindows,
  std: readonly Float32Array[],
  c: number,
): Promise<WindowParts[]> {
  const perWindow = training.perWindow;
  const others = fitted.filter((w) => cut.clipOf[w] !== c);
  const alone =
    method.without?.((row) => cut.clipOf[fitted[Math.floor(row / perWindow)]] === c) ??
    fitMethod(config, training, others, 'calibrate');
  const parts = fitParts(config, specs, new Set([c]), std, cut, false);
  try {
    return await scoreClip(config, training, alone, parts, cut, std, c);
  } finally {
    alone.dispose();
    parts.context?.dispose();
  }
}

/** What the method and the parts say of each scored window of clip `c`, in time order. */
async function scoreClip(
  config: DetectorConfig,
  training: TrainingEmbeddings,
  method: AnomalyMethod,
  parts: DetectorParts,
  cut: CutWindows,
  std: readonly Float32Array[],
  c: number,
): Promise<WindowParts[]> {
  const { grid } = training;
  const scored = cut.clipOf.flatMap((k, w) => (k === c && cut.score[w] ? [w] : []));
  const x = training.methodInput(scored);
  const per = training.perWindow * grid.dim;
  const out: WindowParts[] = [];
  for (const [i, w] of scored.entries()) {
    const { windowScore, patchScores } = await method.score(x.subarray(i * per, (i + 1) * per));
    // The maps are only needed for per-bin levels; an empty map keeps the fused one empty too.
    const map = config.rowCalibration ? windowAnomalyMap(patchScores, grid, mapShape(config)) : EMPTY;
    out.push({
      method: { windowScore, map },
      context: parts.context ? await parts.context.score(std[w]) : null,
      tonal: parts.tonal ? parts.tonal.score(cut.raw[w]) : null,
      modulation: parts.modulation ? parts.modulation.score(cut.raw[w]) : null,
      impulse: parts.impulse ? parts.impulse.score(cut.raw[w]) : null,
    });
  }
  return out;
}

/**
 * The fusion scales, the threshold on the held-out clips' (fused) window scores and, with `rowCalibration`,
 * per-bin levels.
 */
function calibrate(
  config: DetectorConfig,
  parts: DetectorParts,
  heldParts: ReadonlyMap<number, WindowParts[]>,
): Pick<FittedParams, 'calibration' | 'rowLevels' | 'fusion'> {
  // Rule 'union' also needs each statistic's level on the same scales (fusion.ts), at one false-alarm rate
  // and with the threshold's confidence: in a union of tests a part decides alone, so its level must be one
  // that its normal tail reaches by chance less often than the rate at that confidence, and a part whose tail
  // is poorly known (few clusters of excesses) gets a higher level. With the point estimate instead, the
  // context memory alone raised 21 alerts on e07_traffic's normal stream (BENCHMARKS.md, issue 13).
  const scalesOf = (clips: WindowParts[][]): FusionScales => {
    const scales = fitFusionScales(clips);
    const level = (s: number[][]) => rateThreshold(config, s).threshold;
    if (config.fusion === 'levels')
      return { ...scales, levels: fitPartLevels(clips, scales, config.calibrationQuantile) };
    return config.fusion === 'union' ? { ...scales, levels: fitFusionLevels(clips, scales, level) } : scales;
  };
  const fusion =
    parts.context || parts.tonal || parts.modulation || parts.impulse
      ? scalesOf([...heldParts.values()])
      : null;
  const rows = config.rowCalibration ? new RowLevels(config.mel.nMels) : null;
  const series: number[][] = [];
  for (const [clip, ps] of heldParts) {
    // Each held-out clip is fused on the scales (and levels) of the other held-out clips, as a new normal
    // clip would be: scales fitted on it too would put every held-out score at or under 1 and the threshold
    // with them.
    const others = [...heldParts].filter(([c]) => c !== clip).map(([, v]) => v);
    const own = fusion ? scalesOf(others) : null;
    series.push(
      ps.map((p) => {
        const f = own ? fuseWindow(p, own, config.fusion) : p.method;
        if (rows) rows.add(shareTime(f.map, config.mel.nMels, config.timeShare));
        return f.windowScore;
      }),
    );
  }
  // Rule 'levels' (without a rate): the parts' levels are the threshold, 1 (fusion.ts).
  const calibration =
    config.falseAlarmsPerDay > 0
      ? rateThreshold(config, series)
      : config.fusion === 'levels' && fusion
        ? Calibration.atLevels(
            series.map((s) => Math.max(...s)),
            config.calibrationQuantile,
          )
        : Calibration.fit(
            series.map((s) => Math.max(...s)),
            { method: 'gamma', q: config.calibrationQuantile },
          );
  const rowLevels = rows ? rows.levels(config.calibrationQuantile, calibration.threshold * 1e-6) : null;
  return { calibration, rowLevels, fusion };
}

/**
 * The threshold of held-out normal series (`series[c]` = clip c's window scores in time order) for
 * `falseAlarmsPerDay` false alerts per sensor-day (rate.ts). Without a configured rate (the quantile
 * threshold) the levels of rule 'union' still need one rate to put every statistic at: `REFERENCE_PER_DAY`.
 */
function rateThreshold(config: DetectorConfig, series: number[][]): Calibration {
  return Calibration.forRate(series, {
    perDay: config.falseAlarmsPerDay > 0 ? config.falseAlarmsPerDay : REFERENCE_PER_DAY,
    windowsPerDay: SECONDS_PER_DAY / config.hopSeconds,
    alertWindows: config.alertWindows,
    confidence: config.falseAlarmConfidence,
  });
}

/**
 * The rate at which rule 'union' levels its statistics when the threshold is a quantile: issue 13's target of
 * one false alert per sensor-day. Only the levels' ratios matter then (the quantile sets the threshold on
 * the fused scores), and those change little with the rate.
 */
const REFERENCE_PER_DAY = 1;

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
 * The parts fused with the method, fitted on the clips that are not in `held`: the context memory on their
 * levelled, standardised fitting windows (as the backbone sees them), the tonal envelope on their raw
 * windows an eighth of a window apart (its envelope is a maximum: denser windows see more of normal sound's
 * peaks), the modulation spectrum and the impulse train on their scored windows as cut. `model`: these are
 * the model's own parts (not a calibration fold's), whose context memory gets the bounded search.
 */
function fitParts(
  config: DetectorConfig,
  specs: readonly Spectrogram[],
  held: ReadonlySet<number>,
  std: readonly Float32Array[],
  cut: CutWindows,
  model: boolean,
): DetectorParts {
  const { nMels } = config.mel;
  const wf = windowFrames(config);
  // The fitting windows overlap (fitHopSeconds): each frame's context is kept as levelled in both windows,
  // which scored better on the development corpus than windows side by side (9-frame contexts: 0.939
  // against 0.930 auc).
  const context =
    config.contextFrames > 0
      ? ContextMemory.fit(
          std.filter((_, w) => cut.fit[w] && !held.has(cut.clipOf[w])),
          nMels,
          config.contextFrames,
          config.contextCoreset,
          // The model's own memory scores every window from now on; a calibration fold's scores one clip.
          { bound: model },
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
  // The modulation spectrum's median and spread per cell, from the scored windows as cut (its features
  // remove each band's level and slope themselves).
  const modulation =
    config.modulationBands > 0
      ? ModulationSpectrum.fit(
          cut.raw.filter((_, w) => cut.score[w] && !held.has(cut.clipOf[w])),
          modulationGrid(config),
        )
      : null;
  // The impulse train's median and spread per band, from the same windows (its feature removes each band's
  // level and slow swells itself).
  const impulse =
    config.impulseBands > 0
      ? ImpulseTrain.fit(
          cut.raw.filter((_, w) => cut.score[w] && !held.has(cut.clipOf[w])),
          impulseGrid(config),
        )
      : null;
  return { context, tonal, modulation, impulse };
}
