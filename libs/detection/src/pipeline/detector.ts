/**
 * The detector: log-mel windows -> frozen backbone -> patch embeddings -> anomaly method -> anomaly map,
 * calibrated so 1.0 is the decision threshold. A clip and a live stream go through the same code: a clip is
 * cut into fixed windows (`windowStarts`), each scored by `scoreWindows`, and its map is the overlap-average
 * of the window maps; a stream calls `scoreWindow` with its latest `windowFrames` columns.
 */
import { logMelSpectrogram, type LogMelSpectrogram } from '@hark/dsp';
import { runMinima, type Calibration } from '../calibration/index.js';
import type { AnomalyMethod, PatchGrid } from '../method.js';
import { copyWindow, OverlapAverager, windowStarts } from '../windows.js';
import { windowAnomalyMap, type MapShape } from './anomaly-map.js';
import { normaliseRows } from './row-calibration.js';
import { anomalyBoxes, type AnomalyBox } from './boxes.js';
import { hopFrames, windowFrames, type DetectorConfig } from './config.js';
import type { FeatureExtractor } from './feature-extractor.js';
import type { InputScaling } from './input-scaling.js';
import { appendFrequencyPosition } from './frequency-position.js';
import { fuseWindow, shareTime, type FusionScales, type WindowParts } from './fusion.js';
import { binLevelRise, toneEvidence, type ToneEvidence } from './tone-map.js';
import type { Spectrogram } from './types.js';
import { FeedbackError, planFeedback, type FeedbackItem, type FeedbackSummary } from './feedback.js';
import type { ContextMemory } from '../logmel/context-memory.js';
import type { TonalEnvelope } from '../logmel/tonal-envelope.js';
import type { ModulationSpectrum } from '../logmel/modulation-spectrum.js';
import type { ImpulseTrain } from '../logmel/impulse-train.js';

/** What was learned at fit time besides the method's own state. */
export interface FittedParams {
  /** How windows are scaled to the backbone's input (learned from the training clips). */
  input: InputScaling;
  /** Scale of the appended frequency coordinate (0: none). */
  frequencyScale: number;
  /** Patch grid of a window; `dim` is the method's input dimension (frequency coordinate included). */
  grid: PatchGrid;
  calibration: Calibration;
  /** Per-mel-bin levels of normal maps that the map is divided by (row-calibration.ts), or null: threshold. */
  rowLevels: number[] | null;
  /** Scales of the fused parts (fusion.ts), or null/absent when the method scores alone. */
  fusion?: FusionScales | null;
  training: TrainingSummary;
}

/** The parts fused with the method (absent parts are null). */
export interface DetectorParts {
  context: ContextMemory | null;
  tonal: TonalEnvelope | null;
  /** Absent or null when the model has none (`modulationBands` 0, or fitted before it existed). */
  modulation?: ModulationSpectrum | null;
  /** Absent or null when the model has none (`impulseBands` 0, or fitted before it existed). */
  impulse?: ImpulseTrain | null;
}

/** What every part said of one window, with the method's patch scores and the embeddings they came from. */
export interface WindowPartsResult extends WindowParts {
  /**
   * Each mel bin's median level over the window minus its normal (training) mean, dB (`binLevelRise`), or null when
   * the model keeps no per-bin statistics (`standardiseBins` off). Says whether a bin that stands out rose.
   */
  levelRise: Float32Array | null;
  patchScores: Float32Array;
  embeddings: Float32Array;
}

export interface TrainingSummary {
  clips: number;
  seconds: number;
  windows: number;
  /** Held-out clips whose scores fitted the threshold. */
  calibrationClips: number;
  fittedAt: string;
  fitSeconds: number;
}

export interface WindowResult {
  /** The window score (the method's, or the fused parts' when there are several) and the same divided by the threshold. */
  windowScore: number;
  normalised: number;
  /** `[grid.height * grid.width]`, raw method scores. */
  patchScores: Float32Array;
  /** Normalised anomaly map `[nMels, windowFrames]` (1.0 = threshold). */
  map: Float32Array;
  /**
   * The fused map before `timeShare` mixing, `[nMels, windowFrames]`, on the scale of `map` (its rows divided
   * by the same levels; not a score: the mixed `map` is the one calibrated): where in frequency the
   * window is anomalous. Boxes take their frequency extent from it, since the mixed `map` spreads every cell
   * over all mel bins by its frame's mean.
   */
  localMap: Float32Array;
  /**
   * With `mapWindowGate`, what `map` and `localMap` were multiplied by: `windowGate(normalised)`. Who moves
   * the threshold afterwards (the server's burn-in) gates the maps again at the new one. Absent without.
   */
  mapGate?: number;
  /**
   * What the tonal envelope says of the window (tone-map.ts): its map at the spectrogram's own mel resolution
   * where a bin rose, and its score and the other parts' over their held-out maxima. A box over a tone that
   * carries it takes its frequency extent from the map instead of `localMap`. Null when the model cannot say.
   */
  tone: ToneEvidence | null;
  /** The patch embeddings the method scored, `[grid.height * grid.width, grid.dim]` (operator feedback). */
  embeddings: Float32Array;
}

export interface ClipResult {
  /** Clip score: the largest window score. */
  score: number;
  normalised: number;
  overThreshold: boolean;
  /** Normalised anomaly map `[nMels, nFrames]`, overlap-average of the window maps. */
  map: Float32Array;
  nMels: number;
  nFrames: number;
  /** Strongest first; each scores as the strongest window it spans (`AnomalyBox.peak`, the scale of `normalised`). */
  boxes: AnomalyBox[];
  /** Window scores (normalised) in window order and their start frames. */
  windowScores: number[];
  windowStarts: number[];
  /**
   * What the server's alert rule sees of the clip streamed on its own: the largest, over every run of
   * `alertWindows` consecutive windows, of the run's lowest normalised score (`runMinima`; a clip of fewer
   * windows: its lowest). >= 1 when an alert would open. `normalised` (the largest single window) can be over 1
   * while this is not: one window over the threshold opens no alert.
   */
  alertLevel: number;
}

/**
 * What a window's map is multiplied by (`DetectorConfig.mapWindowGate`): its normalised score when that is
 * under the threshold (1), else 1; 0 for a score of 0 or less.
 *
 * Why: the map's cells are each part's local evidence on that part's own scale (fusion.ts), and whether the
 * window is anomalous is what the fused, calibrated window score decides. A cell of a window that the detector
 * judges normal is, by that judgement, less likely part of an anomaly than the same value in a window over
 * the threshold, so the cell keeps the window's share of it: the product of the two pieces of evidence. The
 * gate stops at the threshold, so the map of a window over it is its parts' own, and a loud fault does not
 * spread its score over every cell of its window (that measured worse: BENCHMARKS.md, issue 13, session 26).
 * Normal windows' heatmaps dim with their score; an alert's region reads as before. On the development
 * corpus the gate raised pixelAuc from 0.912 to 0.933 and aupro from 0.683 to 0.739.
 */
export function windowGate(normalised: number): number {
  return normalised >= 1 ? 1 : normalised > 0 ? normalised : 0;
}

/**
 * Puts a scored window on a threshold `factor` times the model's (the server's burn-in), in place: the score
 * and both maps are divided by `factor`, and maps the model gated (`mapGate`) are gated again at the new
 * threshold, as the model would have gated them there. Returns the new `normalised` and `mapGate`.
 */
export function rethreshold(
  r: Pick<WindowResult, 'normalised' | 'map' | 'localMap' | 'mapGate'>,
  factor: number,
): { normalised: number; mapGate?: number } {
  if (!(Number.isFinite(factor) && factor > 0))
    throw new RangeError(`factor (${factor}) must be a finite number > 0`);
  const normalised = r.normalised / factor;
  const gate = r.mapGate === undefined ? undefined : windowGate(normalised);
  // A map gated by 0 is all zeros, and stays so.
  const k = gate === undefined ? 1 / factor : r.mapGate! > 0 ? gate / (r.mapGate! * factor) : 0;
  for (const m of [r.map, r.localMap]) for (let i = 0; i < m.length; i++) m[i] *= k;
  return { normalised, ...(gate !== undefined && { mapGate: gate }) };
}

/** The window map's shape and blur for `config`. */
export function mapShape(config: DetectorConfig): MapShape {
  const { mel, blurSigmaMel, blurSigmaTime } = config;
  return { nMels: mel.nMels, windowFrames: windowFrames(config), blurSigmaMel, blurSigmaTime };
}

export class Detector {
  readonly windowFrames: number;
  readonly hopFrames: number;

  constructor(
    readonly config: DetectorConfig,
    readonly extractor: FeatureExtractor,
    readonly method: AnomalyMethod,
    readonly fitted: FittedParams,
    readonly parts: DetectorParts = { context: null, tonal: null },
  ) {
    this.windowFrames = windowFrames(config);
    this.hopFrames = hopFrames(config);
  }

  /** Log-mel of mono samples at `config.mel.sampleRate` (resample first). */
  spectrogram(samples: Float32Array): LogMelSpectrogram {
    return logMelSpectrogram(samples, this.config.mel);
  }

  /** Scores one window of `windowFrames` columns (`[nMels, windowFrames]` dB). */
  async scoreWindow(window: Float32Array): Promise<WindowResult> {
    return (await this.scoreWindows([window]))[0];
  }

  /**
   * Pays a loaded model's one-time costs before its first live window: scores one window at the model's mean
   * training level per mel bin (the middle of its dB range when it keeps no bin statistics) and discards the
   * result. The first window of a model costs several times a steady one (the first searches of its memories
   * page them in; the context memory's bounded search builds its projected copy of the memory): measured on a
   * development-corpus model just loaded, 73-179 ms of CPU against 13 ms, and 21-31 ms for the first live
   * window after this (BENCHMARKS.md, issue 16, session 21). Scores depend on the window only, so nothing a
   * later window scores changes; the context memory's search chooser counts this batch among its
   * measurements like any other.
   */
  async warmUp(): Promise<void> {
    const { nMels } = this.config.mel;
    const wf = this.windowFrames;
    const { binMean, range } = this.fitted.input;
    const w = new Float32Array(nMels * wf);
    for (let m = 0; m < nMels; m++)
      w.fill(binMean ? binMean[m] : (range.min + range.max) / 2, m * wf, (m + 1) * wf);
    await this.scoreWindow(w);
  }

  /** Scores windows in backbone batches; each is `[nMels, windowFrames]` dB. */
  async scoreWindows(windows: readonly Float32Array[]): Promise<WindowResult[]> {
    const parts = await this.scoreParts(windows);
    const { calibration, fusion, rowLevels } = this.fitted;
    const { nMels } = this.config.mel;
    return parts.map((p) => {
      const fused = fusion ? fuseWindow(p, fusion, this.config.fusion) : p.method;
      const normalised = calibration.normalise(fused.windowScore);
      const localMap = Float32Array.from(fused.map);
      const map = shareTime(fused.map, nMels, this.config.timeShare);
      const gate = this.config.mapWindowGate ? windowGate(normalised) : undefined;
      const g = gate ?? 1;
      for (const m of [map, localMap]) {
        if (rowLevels) {
          normaliseRows(m, rowLevels);
          if (g < 1) for (let k = 0; k < m.length; k++) m[k] *= g;
        } else for (let k = 0; k < m.length; k++) m[k] = calibration.normalise(m[k]) * g;
      }
      return {
        windowScore: fused.windowScore,
        normalised,
        patchScores: p.patchScores,
        map,
        localMap,
        ...(gate !== undefined && { mapGate: gate }),
        tone: toneEvidence(p, fusion, p.levelRise, this.parts.tonal?.marginDb ?? 0),
        embeddings: p.embeddings,
      };
    });
  }

  /**
   * What each part says of each window, before fusion and threshold: the method's window score and map (raw
   * units), and the context memory's, tonal envelope's and modulation spectrum's when the model has them.
   */
  async scoreParts(windows: readonly Float32Array[]): Promise<WindowPartsResult[]> {
    const { nMels } = this.config.mel;
    for (const [i, w] of windows.entries()) {
      if (w.length !== nMels * this.windowFrames) {
        throw new RangeError(
          `window ${i} has ${w.length} values; this model needs nMels x windowFrames = ${nMels} x ${this.windowFrames}`,
        );
      }
    }
    if (windows.length === 0) return [];
    // Levelled and standardised once: the backbone's image and the context memory both start from it.
    const std = windows.map((w) => this.standardised(w));
    const { context, tonal, modulation, impulse } = this.parts;
    // The context memory searches the standardised window, not the backbone's output: its searches start now,
    // beside the backbone's run (in its worker thread on a live server) and the method's search, and are awaited
    // in order below. Each answer depends on its window only, so this changes when, not what. A failure before
    // they are awaited must not leave them rejected and unheard.
    const contextScores = context ? std.map((s) => context.score(s)) : null;
    for (const p of contextScores ?? []) p.catch(() => {});
    const e = await this.extractor.embed(std, this.fitted.input, undefined, { standardised: true });
    const x = appendFrequencyPosition(e.data, e.nWindows, e.grid, this.fitted.frequencyScale);
    const { grid } = this.fitted;
    const per = grid.height * grid.width * grid.dim;
    if (x.length !== per * windows.length) throw new Error(gridMismatch(e.grid, x.length / e.nWindows, grid));
    const shape = mapShape(this.config);
    const { binStd } = this.fitted.input;
    const out: WindowPartsResult[] = [];
    for (let i = 0; i < windows.length; i++) {
      const embeddings = x.subarray(i * per, (i + 1) * per);
      const { patchScores, windowScore } = await this.method.score(embeddings);
      out.push({
        method: { windowScore, map: windowAnomalyMap(patchScores, grid, shape) },
        context: contextScores ? await contextScores[i] : null,
        tonal: tonal ? tonal.score(windows[i]) : null,
        modulation: modulation ? modulation.score(windows[i]) : null,
        impulse: impulse ? impulse.score(windows[i]) : null,
        levelRise: binStd ? binLevelRise(std[i], nMels, binStd) : null,
        patchScores,
        embeddings,
      });
    }
    return out;
  }

  /**
   * The method's patch embeddings of log-mel windows (`[nMels, windowFrames]` dB each, back to back), back to
   * back: for each window the rows `scoreWindow` gives as `WindowResult.embeddings`, computed the same way
   * (one window per backbone run, as a stream scores them), so they are those rows bit for bit. Operator
   * feedback keeps only the log-mel windows of an alert and teaches the method these.
   */
  async embedWindows(windows: Float32Array): Promise<Float32Array> {
    const size = this.config.mel.nMels * this.windowFrames;
    if (windows.length % size !== 0)
      throw new RangeError(
        `${windows.length} values are not whole windows of ${this.config.mel.nMels} x ${this.windowFrames}`,
      );
    const { grid } = this.fitted;
    const per = grid.height * grid.width * grid.dim;
    const n = windows.length / size;
    const out = new Float32Array(n * per);
    for (let i = 0; i < n; i++) {
      const std = this.standardised(windows.subarray(i * size, (i + 1) * size));
      const e = await this.extractor.embed([std], this.fitted.input, undefined, { standardised: true });
      const x = appendFrequencyPosition(e.data, e.nWindows, e.grid, this.fitted.frequencyScale);
      if (x.length !== per) throw new Error(gridMismatch(e.grid, x.length, grid));
      out.set(x, i * per);
    }
    return out;
  }

  /** A window as the backbone and the context memory see it: levelled, standardised per mel bin (a copy). */
  standardised(window: Float32Array): Float32Array {
    return this.extractor.standardise(window, this.fitted.input);
  }

  /**
   * Rows of the method's memory bank of normal patches, taught patches included (PatchCore's coreset), or
   * null when the method keeps no bank (PaDiM, SPADE). Method-agnostic, for status reports.
   */
  get bankSize(): number | null {
    return this.method.bankSize ?? null;
  }

  /** Whether operator feedback can be taught: the method keeps a memory of normal patches (PatchCore). */
  get teachable(): boolean {
    return typeof this.method.teach === 'function';
  }

  /**
   * Operator feedback: the detector returns to its fitted state and is taught every item of `items` as
   * normal (patches to the method, log-mel windows to the parts beside it). The result
   * depends on `items` only: applying them again changes nothing, and a revert is an apply of the items
   * that remain. Items that do not fit this model are left out and reported, not thrown. Throws a
   * `FeedbackError` (`ERR_HARK_NOT_TEACHABLE`) when `items` is not empty and the method cannot be taught.
   */
  applyFeedback(items: readonly FeedbackItem[]): FeedbackSummary {
    const { grid } = this.fitted;
    const plan = planFeedback(items, {
      dim: grid.dim,
      patchesPerWindow: grid.height * grid.width,
      nMels: this.config.mel.nMels,
      windowFrames: this.windowFrames,
    });
    if (!this.method.teach && items.length > 0)
      throw new FeedbackError(
        `feedback extends a memory of normal patches (patchcore); this model uses ${this.config.method}`,
      );
    this.method.teach?.(plan.patches);
    this.teachWindows(plan.logMel);
    return plan.summary;
  }

  /** Returns to the fitted state, without any feedback (`applyFeedback([])`). */
  revertFeedback(): FeedbackSummary {
    return this.applyFeedback([]);
  }

  /**
   * The parts beside the method learn `windows` (`[nMels, windowFrames]` dB, taught as normal) on top of what
   * they were fitted on; `[]` restores the fitted state. `applyFeedback` teaches the method and the parts.
   */
  teachWindows(windows: readonly Float32Array[]): void {
    for (const [i, w] of windows.entries())
      if (w.length !== this.config.mel.nMels * this.windowFrames)
        throw new RangeError(
          `taught window ${i} has ${w.length} values; this model needs ${this.config.mel.nMels} x ${this.windowFrames}`,
        );
    this.parts.context?.teach(windows.map((w) => this.standardised(w)));
    this.parts.tonal?.teach(windows);
    this.parts.modulation?.teach(windows);
    this.parts.impulse?.teach(windows);
  }

  /** Scores a whole clip given as samples (at `config.mel.sampleRate`) or as its log-mel spectrogram. */
  async scoreClip(clip: Float32Array | Spectrogram): Promise<ClipResult> {
    const spec = clip instanceof Float32Array ? this.spectrogram(clip) : clip;
    const { nMels } = this.config.mel;
    if (spec.nMels !== nMels)
      throw new RangeError(`spectrogram has ${spec.nMels} mel bins; this model needs ${nMels}`);
    if (spec.nFrames < 1) throw new RangeError('the clip is shorter than one FFT frame; nothing to score');
    const starts = windowStarts(spec.nFrames, this.windowFrames, this.hopFrames);
    const windows = starts.map((s) => copyWindow(spec.data, nMels, spec.nFrames, s, this.windowFrames));
    const results = await this.scoreWindows(windows);
    const avg = new OverlapAverager(nMels, spec.nFrames);
    results.forEach((r, i) => avg.add(starts[i], r.map, this.windowFrames));
    const map = avg.result();
    const local = new OverlapAverager(nMels, spec.nFrames);
    results.forEach((r, i) => local.add(starts[i], r.localMap, this.windowFrames));
    const localMap = local.result();
    // Windows without a tone add zeros, so a box spanning a tone window and others still finds the tone.
    const tones = results.some((r) => r.tone?.map) ? new OverlapAverager(nMels, spec.nFrames) : null;
    const silent = new Float32Array(nMels * this.windowFrames);
    results.forEach((r, i) => tones?.add(starts[i], r.tone?.map ?? silent, this.windowFrames));
    const told = results.every((r) => r.tone);
    const score = Math.max(...results.map((r) => r.windowScore));
    const normalised = this.fitted.calibration.normalise(score);
    const windowScores = results.map((r) => r.normalised);
    const alertLevel = Math.max(...runMinima(windowScores, this.config.alertWindows));
    return {
      score,
      normalised,
      overThreshold: this.fitted.calibration.isAnomalous(score),
      map,
      nMels,
      nFrames: spec.nFrames,
      boxes: anomalyBoxes(map, spec.nFrames, this.config.mel, {
        localMap,
        toneMap: tones?.result(),
        windows: {
          starts,
          frames: this.windowFrames,
          scores: windowScores,
          ...(told && {
            tonal: results.map((r) => r.tone!.tonal),
            others: results.map((r) => r.tone!.others),
          }),
        },
      }),
      windowScores,
      windowStarts: starts,
      alertLevel,
    };
  }

  /** Frees the backbone session and the indexes. */
  async release(): Promise<void> {
    this.method.dispose();
    this.parts.context?.dispose();
    await this.extractor.release();
  }
}

/**
 * The backbone's patches (`got`, and `values` per window with the frequency position) against the fitted grid:
 * rows, columns and values per patch, so that a dimension that differs is named, not only the rows and columns.
 */
function gridMismatch(got: PatchGrid, values: number, fitted: PatchGrid): string {
  const dim = values / (got.height * got.width);
  return (
    `the backbone gives ${got.height} x ${got.width} patches of ${dim} values (frequency position included); ` +
    `the model was fitted on ${fitted.height} x ${fitted.width} of ${fitted.dim}`
  );
}
