/**
 * Evaluation on a dataset in the DATASET.md layout: per group, fit a detector on `train/` (normal clips only,
 * calibration included), score every `test/` clip, and compute clip metrics (auc, pauc) and pixel metrics
 * (pixelAuc, aupro against the ground-truth boxes on the spectrogram grid), with timings. At the threshold:
 * the share of normal test clips over it per group, and per fault kind the mean rank-AUC and the recall
 * (metrics/by-kind.ts); the same two shares for the live alert rule (`alertLevel`: consecutive windows). Per
 * fault kind too, where the map puts it: the mean of its clips' pixel AUCs against the normal clips' cells.
 */
import { concatSamples, readWav, toAnalysisRate } from '@hark/dsp';
import {
  frameCentreTimes,
  groundTruthMask,
  listGroups,
  melBinCentres,
  readGroup,
  type DatasetGroup,
} from '../dataset/index.js';
import {
  ClipMetricAccumulator,
  clipPixelAuc,
  kindTable,
  kindClips,
  PixelMetricAccumulator,
  shareOverThreshold,
  type KindClip,
  type KindResult,
} from '../metrics/index.js';
import { resolveDetectorConfig, type DetectorConfig, type DetectorConfigInput } from './config.js';
import { fitDetector, type FitProgress } from './fit-detector.js';
import type { AnomalyBox } from './boxes.js';

/** One row of the evaluation table (the `--json` shape of `hark evaluate`). */
export interface GroupResult {
  name: string;
  auc: number;
  pauc: number;
  pixelAuc: number;
  aupro: number;
  /** Wall time of the fit (spectrograms, backbone, method, calibration), seconds. */
  fitSeconds: number;
  /** Mean wall time to score one test clip from its samples, milliseconds. */
  msPerClip: number;
  /** Share of the normal test clips whose normalised score is >= 1 (false alarms at the threshold). */
  normalOverThreshold: number;
  /**
   * Share of the normal test clips on which the live alert rule would open an alert (`alertWindows`
   * consecutive windows >= 1: `ClipResult.alertLevel` >= 1), each streamed alone.
   */
  normalAlerting: number;
}

/** A group's row with its anomalous clips by kind (`KindClip`: kind, rank-AUC, normalised score). */
export interface GroupEvaluation extends GroupResult {
  byKind: KindResult[];
  clips: KindClip[];
}

export interface EvaluationReport {
  groups: (GroupResult & { byKind?: KindResult[] })[];
  mean: Omit<GroupResult, 'name'>;
  /** Per fault kind over every group: mean rank-AUC against the group's normal clips, recall at 1. */
  byKind?: KindResult[];
}

export type EvaluateProgress = (group: string, stage: string, done: number, total: number) => void;

/** Mono samples of a WAV file at `sampleRate`. */
export async function readClip(path: string, sampleRate: number): Promise<Float32Array> {
  const wav = await readWav(path);
  return toAnalysisRate(wav.samples, wav.sampleRate, sampleRate);
}

/** Fits on a group's training clips and scores its test clips. */
export async function evaluateGroup(
  group: DatasetGroup,
  config: DetectorConfig,
  onProgress?: EvaluateProgress,
): Promise<GroupEvaluation> {
  if (group.train.length === 0) throw new Error(`group '${group.name}' has no clips in ${group.dir}/train`);
  if (!group.test.some((c) => c.label === 'normal') || !group.test.some((c) => c.label === 'anomaly')) {
    throw new Error(`group '${group.name}' needs normal_ and anomaly_ clips in ${group.dir}/test`);
  }
  const sr = config.mel.sampleRate;
  const train = await Promise.all(group.train.map((p) => readClip(p, sr)));
  const progress: FitProgress = (stage, d, t) => onProgress?.(group.name, stage, d, t);
  const t0 = performance.now();
  const detector = await fitDetector(train, config, progress);
  const fitSeconds = (performance.now() - t0) / 1000;
  try {
    const clips = new ClipMetricAccumulator();
    const pixels = new PixelMetricAccumulator();
    const { mel } = config;
    const freqs = melBinCentres(mel.nMels, mel.fMin, mel.fMax, mel.melScale === 'htk');
    let scoringMs = 0;
    const normal: { score: number; normalised: number; alertLevel: number }[] = [];
    const anomalies: {
      gt: (typeof group.test)[number]['groundTruth'];
      score: number;
      normalised: number;
      alertLevel: number;
      box: AnomalyBox | null;
      /** Its map and ground truth, kept until every normal clip's cells are known (`clipPixelAuc`). */
      truth: { map: Float32Array; mask: Uint8Array } | null;
    }[] = [];
    // Every normal test clip's cells, for each anomalous clip's own pixel AUC.
    const normalCells: Float32Array[] = [];
    for (const [i, clip] of group.test.entries()) {
      const samples = await readClip(clip.path, sr);
      const t = performance.now();
      const r = await detector.scoreClip(samples);
      scoringMs += performance.now() - t;
      clips.update(r.score, clip.label === 'anomaly');
      const mask =
        clip.label === 'anomaly' && clip.groundTruth
          ? groundTruthMask(clip.groundTruth.events, {
              frameTimes: frameCentreTimes(r.nFrames, mel),
              melFrequencies: freqs,
            })
          : null;
      if (clip.label === 'normal') {
        normal.push(r);
        normalCells.push(r.map);
        pixels.update(r.map, null, r.nMels, r.nFrames);
      } else {
        anomalies.push({
          gt: clip.groundTruth,
          score: r.score,
          normalised: r.normalised,
          alertLevel: r.alertLevel,
          box: r.boxes[0] ?? null,
          truth: mask ? { map: r.map, mask } : null,
        });
        if (mask) pixels.update(r.map, mask, r.nMels, r.nFrames);
      }
      onProgress?.(group.name, 'score', i + 1, group.test.length);
    }
    const c = clips.compute();
    const hasPixels = pixels.counts.anomalousCells > 0 && pixels.counts.normalCells > 0;
    const p = hasPixels ? pixels.compute() : { pixelAuc: Number.NaN, aupro: Number.NaN };
    const sortedNormal = concatSamples(normalCells).sort();
    const clipPixels = (truth: (typeof anomalies)[number]['truth']) => {
      const auc = truth ? clipPixelAuc(sortedNormal, truth.map, truth.mask) : Number.NaN;
      return Number.isNaN(auc) ? null : auc;
    };
    const ranked = kindClips(
      normal.map((n) => n.score),
      anomalies.map(({ truth, ...a }) => ({ ...a, pixelAuc: clipPixels(truth) })),
    );
    return {
      name: group.name,
      auc: c.auc,
      pauc: c.pauc,
      ...p,
      fitSeconds,
      msPerClip: scoringMs / group.test.length,
      normalOverThreshold: shareOverThreshold(normal.map((n) => n.normalised)),
      normalAlerting: shareOverThreshold(normal.map((n) => n.alertLevel)),
      byKind: kindTable(ranked),
      clips: ranked,
    };
  } finally {
    await detector.release();
  }
}

/** Mean of each metric over groups (groups without pixel ground truth are left out of the pixel means). */
export function meanRow(groups: readonly GroupResult[]): EvaluationReport['mean'] {
  const mean = (k: keyof Omit<GroupResult, 'name'>) => {
    const v = groups.map((g) => g[k]).filter((x) => Number.isFinite(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
  };
  return {
    auc: mean('auc'),
    pauc: mean('pauc'),
    pixelAuc: mean('pixelAuc'),
    aupro: mean('aupro'),
    fitSeconds: mean('fitSeconds'),
    msPerClip: mean('msPerClip'),
    normalOverThreshold: mean('normalOverThreshold'),
    normalAlerting: mean('normalAlerting'),
  };
}

/** Evaluates every group of the dataset at `root` (or only those named in `only`). */
export async function evaluateDataset(
  root: string,
  input: DetectorConfigInput = {},
  opts: {
    only?: readonly string[];
    onProgress?: EvaluateProgress;
    onGroup?: (r: GroupResult & { byKind: KindResult[] }) => void;
  } = {},
): Promise<EvaluationReport> {
  const config = resolveDetectorConfig(input);
  let infos = await listGroups(root);
  if (opts.only?.length) {
    const missing = opts.only.filter((n) => !infos.some((g) => g.name === n));
    if (missing.length)
      throw new Error(
        `no group ${missing.map((n) => `'${n}'`).join(', ')} in ${root}; groups: ${infos.map((g) => g.name).join(', ')}`,
      );
    infos = infos.filter((g) => opts.only!.includes(g.name));
  }
  if (infos.length === 0) throw new Error(`${root} has no groups (folders with train/ and test/)`);
  const groups: (GroupResult & { byKind: KindResult[] })[] = [];
  const kinds: KindClip[] = [];
  for (const info of infos) {
    const { clips, ...r } = await evaluateGroup(await readGroup(info), config, opts.onProgress);
    groups.push(r);
    kinds.push(...clips);
    opts.onGroup?.(r);
  }
  return { groups, mean: meanRow(groups), byKind: kindTable(kinds) };
}
