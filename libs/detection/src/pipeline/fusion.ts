/**
 * Fusion of the detector's parts into one window score and one map.
 *
 * The backbone's method (PatchCore, PaDiM or SPADE), the log-mel context memory, the tonal envelope and the
 * modulation spectrum each see some anomalies best (BENCHMARKS.md, "fusion"): the method a change of texture,
 * the context memory a short event or a one-bin change, the envelope a new tone, the modulation spectrum a
 * rhythm (impacts, amplitude modulation). Each is put on the scale of normal sound first: its window score is
 * divided by the largest window score of the held-out normal clips (`FusionScales`, fitted with the
 * threshold), so about 1 is "as high as normal sound went".
 *
 * With rule 'sum' (opt-in, `DetectorConfig.fusion`) the window score is the sum of the scaled parts. Each part is a separate piece of
 * evidence: a fault that lifts two or three parts a little (a whine raises the envelope and the patches, a
 * rhythm the modulation spectrum and the contexts) adds up, while a normal window that is high in one part by
 * chance is rarely high in the others, and one part far over its scale still decides alone. With rule 'max'
 * (the default) the window score is the largest of the method's and the memory's scaled scores and the
 * envelope's own (1 at its margin): an anomaly need only convince one part. On the development corpus the
 * sum ranked better (auc 0.956 against 0.940, tones 0.98 against 0.78), but the quantile threshold on summed
 * scores left two quiet clicks of the m16_factory stream under it (BENCHMARKS.md, issue 13).
 *
 * With rule 'union' the window score is the largest of several statistics, each over its own level: the sum
 * above, and each part alone on its scale. The sum keeps what adding evidence gains (a whine that lifts the
 * envelope and the patches a little, a normal window high in one part by chance and ordinary in the others),
 * and a part alone keeps a transient that only it sees (a 100 ms click lifts the context memory far over its
 * scale but is a small share of a sum of four parts). The levels (`FusionLevels`) put every statistic at the
 * same false-alarm rate: each is the threshold `falseAlarmsPerDay` gives that statistic alone on the held-out
 * normal clips (calibration/rate.ts, the same upper confidence bound), and never under its held-out maximum
 * (fit-detector.ts),
 * so a part whose normal tail is long (it reaches far over its maximum now and then) needs more before it
 * decides, and one whose tail is short less. A window is then anomalous when any statistic passes its level,
 * a union of tests: the union alarms more often than each test, so the detector's threshold is fitted again
 * on the fused (largest) scores of the held-out clips, which measures that inflation instead of assuming it.
 *
 * With rule 'levels' every part is a test of its own: its score over its scale is divided by its *level*, the
 * `calibrationQuantile` of a gamma fitted to its own held-out clip maxima (each clip scored by a model
 * without it, fit-detector.ts), never under the largest of them, and the window score is the largest; the
 * threshold is 1 (a part at its own level). Why: with one threshold on the largest scaled part, the threshold
 * follows whichever part has the heaviest normal tail, so a part with a steady normal tail must clear another
 * part's outliers (m16_factory: one training clip lifts the method's held-out maximum to 1.37 of the others,
 * the gamma threshold on the largest part rises to 1.13, and two quiet clicks that lift only the context
 * memory sit at 1.00 of it); on its own level each part is judged by its own normal variability, and the
 * tonal envelope and the modulation spectrum stand on the same footing as the others (a tone 1-3 dB over the
 * envelope is far over the tonal part's own held-out level) instead of a fixed margin. It is a union of tests, so each level is the
 * quantile 1 - (1 - q) / (number of parts) (Bonferroni): the fused score passes 1 on at most 1 - q of normal
 * clips, as one threshold would (with the plain q, 8 % of the development corpus's normal test clips passed
 * instead of 4 %).
 *
 * The modulation spectrum is one test with two statistics: its largest cell and its comodulation (the bands'
 * z-scores summed over groups, modulation-spectrum.ts), each on its own held-out scale, the larger of the two
 * (`modulationStatistic`). One test, not two: the two read the same cells, and a sixth Bonferroni share would
 * raise every part's level (measured as a part of its own: the tones' alert recall fell from 8 to 6 of 12 on the
 * development corpus). Models fitted before the comodulation have no scale for it and score the cell alone.
 * The map keeps the bands' own cells: a group's sum says that the bands swell together, not which of them.
 *
 * The impulse train (opt-in, `impulseBands`) is a part like the modulation spectrum, on its held-out maximum,
 * in every rule; in 'max' too (the modulation spectrum is not), since a recurring strike is what its bands
 * alone see and a largest part is what 'max' decides on. Models without it score as before.
 *
 * The map says where: the cell-wise largest of the parts' maps on their scales (a sum would add the envelope's
 * and the modulation spectrum's maps, flat in time, to every frame); then `timeShare` of each cell comes from
 * its frame's mean over mel bins (`shareTime`). The threshold is fitted on the fused scores of the held-out
 * clips, and a box takes its score from its windows (boxes.ts), so the map's scale is not the score's.
 */
import type { ContextScores } from '../logmel/context-memory.js';
import type { ModulationScores } from '../logmel/modulation-spectrum.js';
import type { ImpulseScores } from '../logmel/impulse-train.js';
import type { TonalScores } from '../logmel/tonal-envelope.js';
import { Calibration } from '../calibration/calibration.js';
import { concatSamples, showValue } from '@hark/dsp';
import type { FusionRule } from './config.js';

/** Scales of normal sound, from the held-out clips (a part's score divided by its scale is ~1 at most). */
export interface FusionScales {
  /** Largest clip score (largest window score) of the method over the held-out normal clips. */
  method: number;
  /** The same for the context memory (0 when it is off). */
  context: number;
  /** The 99.9th percentile of the context memory's held-out map cells (0 when it is off). */
  contextMap: number;
  /** Largest held-out window score of the tonal envelope (rule 'sum'; absent in older models, 0 when off). */
  tonal?: number;
  /** The same for the modulation spectrum (absent in older models, 0 when off). */
  modulation?: number;
  /** The same for the impulse train (absent in older models and models without it, 0 when off). */
  impulse?: number;
  /**
   * The same for the modulation spectrum's comodulation (absent in models fitted before it and models
   * without the modulation spectrum: no part).
   */
  comodulation?: number;
  /** Rule 'union': each statistic's level (absent for the other rules and older models). */
  levels?: FusionLevels;
}

/** The statistics of rule 'union', each on the scale of `FusionScales` (a part's held-out maximum is 1). */
export interface FusionStatistics {
  /** The sum of the scaled parts (rule 'sum'). */
  sum: number;
  method: number;
  /** 0 for a part the model does not have. */
  context: number;
  tonal: number;
  modulation: number;
  impulse: number;
}

/**
 * Rule 'union': the level each statistic is divided by, the detector's threshold rule applied to that
 * statistic alone on the held-out clips (`fitFusionLevels`); 0 for a part the model does not have.
 */
export type FusionLevels = Omit<FusionStatistics, 'impulse'> & {
  /** Absent in the levels of models fitted before the impulse train: no level, no test. */
  impulse?: number;
};

export const FUSION_STATISTICS = ['sum', 'method', 'context', 'tonal', 'modulation', 'impulse'] as const;

/** What each part said of one window. */
export interface WindowParts {
  method: { windowScore: number; map: Float32Array };
  context: ContextScores | null;
  tonal: TonalScores | null;
  /** Absent in parts scored before the modulation spectrum existed. */
  modulation?: ModulationScores | null;
  /** Absent in parts scored before the impulse train existed. */
  impulse?: ImpulseScores | null;
}

/** Least scale of the modulation spectrum and of the impulse train (z-scores): one robust deviation. */
export const MIN_MODULATION_SCALE = 1;

/** Quantile of the held-out context map cells that its map is divided by. */
export const CONTEXT_MAP_QUANTILE = 0.999;

/** The fused window score and map (before the threshold), by `rule` (see the header). */
export function fuseWindow(
  parts: WindowParts,
  scales: FusionScales,
  rule: FusionRule = 'max',
): { windowScore: number; map: Float32Array } {
  const { method, context, tonal, modulation, impulse } = parts;
  const scaled = [method.windowScore / scales.method];
  const map = method.map.slice();
  const inv = 1 / scales.method;
  for (let i = 0; i < map.length; i++) map[i] *= inv;
  const cellMax = (part: Float32Array, k: number) => {
    for (let i = 0; i < map.length; i++) map[i] = Math.max(map[i], part[i] * k);
  };
  if (context) {
    scaled.push(context.windowScore / scales.context);
    cellMax(context.map, 1 / scales.contextMap);
  }
  if (rule === 'union' || rule === 'levels') {
    const stats = fusionStatistics(parts, scales);
    const levels = scales.levels;
    if (!levels) throw new Error(`the fusion has no levels for rule '${rule}'; fit the model again`);
    let score = 0;
    // Levels fitted before the impulse train have no `impulse` (undefined): not a test.
    for (const k of FUSION_STATISTICS) {
      const level = levels[k] ?? 0;
      if (level > 0) score = Math.max(score, stats[k] / level);
    }
    if (tonal) cellMax(tonal.map, 1);
    if (modulation) cellMax(modulation.map, 1 / scaleOf(scales, 'modulation'));
    if (impulse) cellMax(impulse.map, 1 / scaleOf(scales, 'impulse'));
    return { windowScore: score, map };
  }
  if (impulse) {
    const k = 1 / scaleOf(scales, 'impulse');
    scaled.push(impulse.windowScore * k);
    cellMax(impulse.map, k);
  }
  if (rule === 'max') {
    if (tonal) {
      scaled.push(tonal.windowScore);
      cellMax(tonal.map, 1);
    }
    return { windowScore: Math.max(...scaled), map };
  }
  if (tonal) {
    scaled.push(tonal.windowScore / scaleOf(scales, 'tonal'));
    cellMax(tonal.map, 1);
  }
  if (modulation) {
    const k = 1 / scaleOf(scales, 'modulation');
    scaled.push(modulation.windowScore * k);
    cellMax(modulation.map, k);
  }
  return { windowScore: scaled.reduce((a, b) => a + b, 0), map };
}

/** The statistics of rule 'union' for one window: each part on its scale, and their sum. */
export function fusionStatistics(parts: WindowParts, scales: FusionScales): FusionStatistics {
  const { context, tonal, modulation, impulse } = parts;
  const s: FusionStatistics = {
    sum: 0,
    method: parts.method.windowScore / scales.method,
    context: context ? context.windowScore / scales.context : 0,
    tonal: tonal ? tonal.windowScore / scaleOf(scales, 'tonal') : 0,
    modulation: modulation ? modulationStatistic(modulation, scales) : 0,
    impulse: impulse ? impulse.windowScore / scaleOf(scales, 'impulse') : 0,
  };
  s.sum = s.method + s.context + s.tonal + s.modulation + s.impulse;
  return s;
}

/** Which statistics the held-out clips' parts have (`sum`: whether the sum is one of the rule's). */
function statisticsPresent(
  clips: readonly (readonly WindowParts[])[],
  sum: boolean,
): Record<keyof FusionStatistics, boolean> {
  const any = (f: (p: WindowParts) => unknown) => clips.some((ws) => ws.some(f));
  return {
    sum,
    method: true,
    context: any((p) => p.context),
    tonal: any((p) => p.tonal),
    modulation: any((p) => p.modulation),
    impulse: any((p) => p.impulse),
  };
}

/**
 * Rule 'union': each statistic's level from the held-out clips (`clips[c]` = the parts of clip c's windows,
 * on `scales`). `threshold` is the detector's threshold rule for a set of held-out series (the rate or the
 * quantile, fit-detector.ts), applied to each statistic alone so all stand at the same false-alarm rate. A
 * level is at least the statistic's largest held-out value: under it the held-out normal clips themselves
 * would pass (a rule extrapolated from few clips can fall there on a part that is flat on normal sound).
 */
export function fitFusionLevels(
  clips: readonly (readonly WindowParts[])[],
  scales: FusionScales,
  threshold: (series: number[][]) => number,
): FusionLevels {
  const stats = clips.map((ws) => ws.map((p) => fusionStatistics(p, scales)));
  const has = statisticsPresent(clips, true);
  // A model without the impulse train has no `impulse` level at all, as models fitted before it.
  const levels: FusionLevels = { sum: 0, method: 0, context: 0, tonal: 0, modulation: 0 };
  for (const k of FUSION_STATISTICS) {
    if (!has[k]) continue;
    const series = stats.map((ws) => ws.map((s) => s[k]));
    const top = Math.max(...series.flat());
    const level = Math.max(top, threshold(series));
    if (!(Number.isFinite(level) && level > 0))
      throw new Error(
        `the held-out normal clips give the ${k} statistic a level of ${level}; they are silent or identical to the training clips`,
      );
    levels[k] = level;
  }
  return levels;
}

/**
 * Rule 'levels': each part's level, a quantile of a gamma fitted to its largest scaled window score in each
 * held-out clip (`clips[c]` = the parts of clip c's windows, on `scales`): `quantile` shared out over the
 * parts (Bonferroni, below); the sum is not a statistic of this rule (level 0).
 */
export function fitPartLevels(
  clips: readonly (readonly WindowParts[])[],
  scales: FusionScales,
  quantile: number,
): FusionLevels {
  const stats = clips.map((ws) => ws.map((p) => fusionStatistics(p, scales)));
  const has = statisticsPresent(clips, false);
  // A model without the impulse train has no `impulse` level at all, as models fitted before it.
  const levels: FusionLevels = { sum: 0, method: 0, context: 0, tonal: 0, modulation: 0 };
  // A union of K tests, each passed by a normal clip with probability 1 - q', is passed with probability at
  // most K (1 - q') (Bonferroni): each part's level is its quantile q' = 1 - (1 - quantile) / K, so the fused
  // score passes 1 on at most 1 - quantile of normal clips, as one threshold on one score would.
  const parts = FUSION_STATISTICS.filter((k) => has[k]).length;
  const q = 1 - (1 - quantile) / parts;
  for (const k of FUSION_STATISTICS) {
    if (!has[k]) continue;
    const maxima = stats.map((ws) => Math.max(...ws.map((s) => s[k])));
    // Equal maxima (a tonal envelope that no held-out clip rose over: every clip at its floor) are a
    // distribution with no spread; its quantile is that value, and a gamma cannot be fitted to it.
    // Never under the largest held-out maximum: q' (0.998 at the defaults) is far above the sample's
    // 1 - 1 / (n + 1), so a level under the largest of n clips says the gamma fits the tail badly (the
    // tonal envelope's maxima sit at its floor in half the clips: 5 of the development corpus's 9 groups
    // had the tonal level under a held-out clip's maximum, e07_traffic's at 0.75 of it). Rule 'union' has
    // the same floor.
    const level = maxima.every((v) => v === maxima[0])
      ? maxima[0]
      : Math.max(Calibration.fit(maxima, { method: 'gamma', q }).threshold, Math.max(...maxima));
    if (!(Number.isFinite(level) && level > 0))
      throw new Error(
        `the held-out normal clips give the ${k} part a level of ${level}; they are silent or identical to the training clips`,
      );
    levels[k] = level;
  }
  return levels;
}

/**
 * The modulation spectrum's statistic: its largest cell on its scale, or its comodulation on its own scale,
 * whichever is larger (models fitted before the comodulation have no scale for it: the cell alone).
 */
export function modulationStatistic(modulation: ModulationScores, scales: FusionScales): number {
  const cell = modulation.windowScore / scaleOf(scales, 'modulation');
  if (scales.comodulation === undefined) return cell;
  return Math.max(cell, modulation.comodulation / scaleOf(scales, 'comodulation'));
}

function scaleOf(scales: FusionScales, part: 'tonal' | 'modulation' | 'impulse' | 'comodulation'): number {
  const v = scales[part];
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
    throw new Error(`the fusion has no ${part} scale (${showValue(v)}); fit the model again`);
  return v;
}

/** Mixes `share` of each frame's mean over mel bins into its cells, in place (`map` is `[nMels, frames]`). */
export function shareTime(map: Float32Array, nMels: number, share: number): Float32Array {
  if (share === 0) return map;
  const frames = map.length / nMels;
  const mean = new Float64Array(frames);
  for (let m = 0; m < nMels; m++) for (let t = 0; t < frames; t++) mean[t] += map[m * frames + t];
  for (let t = 0; t < frames; t++) mean[t] /= nMels;
  for (let m = 0; m < nMels; m++)
    for (let t = 0; t < frames; t++)
      map[m * frames + t] = (1 - share) * map[m * frames + t] + share * mean[t];
  return map;
}

/** Scales from the held-out clips' parts (`clips[c]` = the parts of clip c's windows). */
export function fitFusionScales(clips: readonly (readonly WindowParts[])[]): FusionScales {
  const largest = (f: (p: WindowParts) => number) => Math.max(...clips.map((ws) => Math.max(...ws.map(f))));
  const has = (f: (p: WindowParts) => unknown) => clips.some((ws) => ws.some((p) => f(p)));
  const method = largest((p) => p.method.windowScore);
  const hasContext = has((p) => p.context);
  const context = hasContext ? largest((p) => p.context?.windowScore ?? 0) : 0;
  const tonal = has((p) => p.tonal) ? largest((p) => p.tonal?.windowScore ?? 0) : 0;
  // The band parts' scores are z-scores (the modulation spectrum's largest cell and its comodulation, a sum of
  // z-scores over the square root of its bands; the impulse train's largest band), several units on normal
  // sound; at least 1 keeps perfectly steady normal sound (every z-score 0) from dividing by 0.
  const zScale = (score: (p: WindowParts) => number | undefined) =>
    has(score)
      ? Math.max(
          MIN_MODULATION_SCALE,
          largest((p) => score(p) ?? 0),
        )
      : 0;
  const modulation = zScale((p) => p.modulation?.windowScore);
  const comodulation = zScale((p) => p.modulation?.comodulation);
  const impulse = zScale((p) => p.impulse?.windowScore);
  let contextMap = 0;
  if (hasContext) {
    const all = concatSamples(clips.flatMap((ws) => ws.map((p) => p.context!.map))).sort();
    contextMap = all[Math.min(all.length - 1, Math.floor(all.length * CONTEXT_MAP_QUANTILE))];
  }
  for (const [name, v] of [
    ['method', method],
    ['context', context],
    ['contextMap', contextMap],
  ] as const) {
    if (!(Number.isFinite(v) && (v > 0 || (name !== 'method' && !hasContext))))
      throw new Error(
        `the held-out normal clips give a ${name} scale of ${v}; they are silent or identical to the training clips`,
      );
  }
  return {
    method,
    context,
    contextMap,
    tonal,
    modulation,
    ...(impulse > 0 && { impulse }),
    ...(comodulation > 0 && { comodulation }),
  };
}
