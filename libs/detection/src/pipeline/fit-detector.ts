/**
 * Fitting a detector on normal clips only.
 *
 * 1. Log-mel of every clip; the backbone's input scaling is learned from them (`learnInputScaling`).
 * 2. Every clip is cut into windows and embedded once.
 * 3. Calibration (DCASE baselines' recipe): a deterministic, evenly spread share of the clips
 *    (`calibrationHoldout`, at least 5) is held out; the method is fitted on the others, the held-out clips
 *    are scored (clip score = max window score), a gamma is fitted to those normal scores and its
 *    `calibrationQuantile` becomes the threshold (normalised 1.0). No anomalous data is needed.
 *    With `rowCalibration` the held-out window maps also give each mel bin its own map level.
 *    With parts beside the method (context memory, tonal envelope: `fitParts`), the held-out clips also give
 *    each part its scale (fusion.ts), and the threshold is fitted on the fused scores, each held-out clip
 *    fused on the scales of the others (leave one out).
 * 4. With `refitAfterCalibration` the method (not the parts) is fitted again on every clip (more normal
 *    data, slightly lower normal scores, so the held-out threshold errs towards fewer false alarms). Off by
 *    default: on the development corpus it gained ~0.005 auc for twice the fit time.
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
import { Detector, mapShape, type DetectorParts, type Spectrogram } from './detector.js';
import { FeatureExtractor } from './feature-extractor.js';
import { appendFrequencyPosition, meanRowNorm } from './frequency-position.js';
import { learnInputScaling, levelWindow, standardiseBins } from './input-scaling.js';
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
export async function fitDetector(
  clips: readonly (Float32Array | Spectrogram)[],
  input: DetectorConfigInput | DetectorConfig = {},
  onProgress?: FitProgress,
): Promise<Detector> {
  const t0 = performance.now();
  const config = resolveDetectorConfig(input);
  const nHeld = Math.max(MIN_NORMAL_SCORES, Math.round(config.calibrationHoldout * clips.length));
  const held = new Set(holdoutIndices(clips.length, nHeld));
  if (clips.length < nHeld + 1) {
    throw new Error(
      `need at least ${nHeld + 1} normal training clips (${nHeld} held out to calibrate the threshold), got ${clips.length}; add clips or cut long recordings into ~5 s clips`,
    );
  }
  const specs = clips.map((c, i) => {
    onProgress?.('spectrogram', i + 1, clips.length);
    return c instanceof Float32Array ? logMelSpectrogram(c, config.mel) : c;
  });
  const wf = windowFrames(config);
  const windows: Float32Array[] = [];
  const clipOf: number[] = [];
  const heldRaw: Float32Array[] = [];
  specs.forEach((s, c) => {
    if (s.nMels !== config.mel.nMels)
      throw new Error(`clip ${c} has ${s.nMels} mel bins, the config ${config.mel.nMels}`);
    // Held-out clips are cut as clips are scored; the others with the fitting hop.
    const hop = hopFrames(held.has(c) ? config : { ...config, hopSeconds: config.fitHopSeconds });
    for (const st of windowStarts(s.nFrames, wf, hop)) {
      const w = copyWindow(s.data, s.nMels, s.nFrames, st, wf);
      windows.push(levelWindow(w, s.nMels, config));
      clipOf.push(c);
      if (held.has(c)) heldRaw.push(w);
    }
  });
  // With gain or tilt invariance the scaling is learned from the levelled windows, as the backbone sees them.
  const scaling = learnInputScaling(
    config.gainInvariance || config.tiltInvariance
      ? windows.map((data) => ({ data, nMels: config.mel.nMels, nFrames: wf }))
      : specs,
    config,
  );
  // Standardised once, for the backbone and the context memory (a copy: without invariance a held-out
  // window is also the tonal envelope's raw window).
  const std = windows.map((w) => standardiseBins(w.slice(), config.mel.nMels, scaling));
  const extractor = await FeatureExtractor.create(config);
  let parts: DetectorParts | null = null;
  try {
    const e = await extractor.embed(std, scaling, (d, t) => onProgress?.('embed', d, t), {
      standardised: true,
    });
    const perWindow = e.grid.height * e.grid.width;
    const select = (keep: (w: number) => boolean) => {
      const idx = clipOf.map((c, w) => (keep(w) ? w : -1)).filter((w) => w >= 0);
      const out = new Float32Array(idx.length * perWindow * e.grid.dim);
      idx.forEach((w, i) =>
        out.set(
          e.data.subarray(w * perWindow * e.grid.dim, (w + 1) * perWindow * e.grid.dim),
          i * perWindow * e.grid.dim,
        ),
      );
      return { data: out, n: idx.length };
    };
    const fitPart = select((w) => !held.has(clipOf[w]));
    const frequencyScale =
      config.frequencyWeight * meanRowNorm(fitPart.data, fitPart.n * perWindow, e.grid.dim);
    const grid: PatchGrid = { ...e.grid, dim: e.grid.dim + (frequencyScale > 0 ? 1 : 0) };
    const fitOn = (part: { data: Float32Array; n: number }, stage: FitStage): AnomalyMethod => {
      const m = createMethod(config.method, config.methodOptions);
      m.fit(appendFrequencyPosition(part.data, part.n, e.grid, frequencyScale), part.n, grid, (d, t) =>
        onProgress?.(stage, d, t),
      );
      return m;
    };
    let method = fitOn(fitPart, 'fit');
    parts = fitParts(config, specs, held, std, clipOf);
    const scores = new Map<number, number>();
    const heldPart = select((w) => held.has(clipOf[w]));
    const heldX = appendFrequencyPosition(heldPart.data, heldPart.n, e.grid, frequencyScale);
    const heldClips = clipOf.filter((c) => held.has(c));
    const per = perWindow * grid.dim;
    const rows = config.rowCalibration ? new RowLevels(config.mel.nMels) : null;
    const heldStd = std.filter((_, w) => held.has(clipOf[w]));
    const heldParts = new Map<number, WindowParts[]>();
    for (let i = 0; i < heldPart.n; i++) {
      const { windowScore, patchScores } = await method.score(heldX.subarray(i * per, (i + 1) * per));
      // The maps are only needed for per-bin levels; an empty map keeps the fused one empty too.
      const p: WindowParts = {
        method: { windowScore, map: rows ? windowAnomalyMap(patchScores, grid, mapShape(config)) : EMPTY },
        context: parts.context ? await parts.context.score(heldStd[i]) : null,
        tonal: parts.tonal ? parts.tonal.score(heldRaw[i]) : null,
      };
      heldParts.set(heldClips[i], [...(heldParts.get(heldClips[i]) ?? []), p]);
      onProgress?.('calibrate', i + 1, heldPart.n);
    }
    const fusion = parts.context || parts.tonal ? fitFusionScales([...heldParts.values()]) : null;
    for (const [clip, ps] of heldParts) {
      // Each held-out clip is fused on the scales of the other held-out clips, as a new normal clip would
      // be: scales fitted on it too would put every held-out score at or under 1 and the threshold with them.
      const others = [...heldParts].filter(([c]) => c !== clip).map(([, v]) => v);
      const own = fusion ? fitFusionScales(others) : null;
      for (const p of ps) {
        const fused = own ? fuseWindow(p, own) : p.method;
        if (rows) rows.add(shareTime(fused.map, config.mel.nMels, config.timeShare));
        scores.set(clip, Math.max(scores.get(clip) ?? -Infinity, fused.windowScore));
      }
    }
    const calibration = Calibration.fit([...scores.values()], {
      method: 'gamma',
      q: config.calibrationQuantile,
    });
    const rowLevels = rows ? rows.levels(config.calibrationQuantile, calibration.threshold * 1e-6) : null;
    if (config.refitAfterCalibration) {
      method.dispose();
      method = fitOn({ data: e.data, n: windows.length }, 'refit');
    }
    const seconds = specs.reduce((s, x) => s + (x.nFrames * config.mel.hopLength) / config.mel.sampleRate, 0);
    const training = {
      clips: clips.length,
      seconds: Math.round(seconds * 1000) / 1000,
      windows: windows.length,
      calibrationClips: nHeld,
      fittedAt: new Date().toISOString(),
      fitSeconds: (performance.now() - t0) / 1000,
    };
    return new Detector(
      config,
      extractor,
      method,
      { input: scaling, frequencyScale, grid, calibration, rowLevels, fusion, training },
      parts,
    );
  } catch (err) {
    parts?.context?.dispose();
    await extractor.release();
    throw err;
  }
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
