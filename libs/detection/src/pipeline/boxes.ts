/**
 * The strongest anomalous regions of a clip's normalised anomaly map as time-frequency boxes: the
 * 8-connected regions of cells above 1.0 (the calibrated threshold), or, when no cell reaches it, the regions
 * above `fallbackLevel` of the map's peak (so an operator still sees where the clip is least normal).
 * Times are frame centre times in seconds; frequencies are the band edges of the mel filters in Hz. With a
 * `localMap` (the map before time-share mixing) a box's frequency extent is taken from it (see
 * `frequencyExtent`): the mixed map spreads every anomaly over all mel bins. With a `toneMap` (tone-map.ts:
 * the tonal envelope's unblurred excess, where a tone carries the window) a box over a tone takes the tone's
 * bins instead: the fused map is blurred over several mel bins, so a whine's box cut from it is too wide.
 *
 * One scale (issue 13 item 6): with `windows` (the normalised scores of the windows the map was made of) a
 * box's `peak` is the largest normalised score of the windows it spans in time, the number the clip's or
 * alert's peak is, so a box of an over-threshold window is over the threshold and no box reads above the clip
 * or alert. The map says where; the windows say how strong. Without `windows` (a bare map) `peak` is the
 * region's largest map value, which is blurred and overlap-averaged and so on no window's scale.
 */
import { frameCentreTimes, melFrequencies } from '../dataset/grid.js';
import { connectedComponents8 } from '../metrics/connected-components.js';
import type { MelParams } from '@hark/dsp';

export interface AnomalyBox {
  /** Centre time of the region's first and last frame, seconds from the start of the clip. */
  onset: number;
  offset: number;
  /** Lower edge of the lowest and upper edge of the highest mel filter of the region, Hz. */
  lowHz: number;
  highHz: number;
  /**
   * The box's score on the window scale (1 = the threshold): with `BoxOptions.windows`, the largest
   * normalised score of the windows the box spans in time, so the box of a clip's or alert's strongest window
   * reads the clip's or alert's peak exactly. Without windows, the region's largest map value (`mapPeak`).
   */
  peak: number;
  /**
   * Largest value of the normalised anomaly map in the region. The map is blurred and overlap-averaged (and,
   * with row levels, divided per mel bin), so it orders boxes within a window but is not a window score.
   */
  mapPeak: number;
  /** Whether the box is over the threshold: `peak >= 1` (false for the fallback regions of a normal-looking clip). */
  overThreshold: boolean;
}

/** The windows a map was made of: their first frames (in the map's frames), length and normalised scores. */
export interface BoxWindows {
  starts: readonly number[];
  frames: number;
  /** Normalised window scores (1 = threshold), one per start. */
  scores: readonly number[];
  /**
   * Each window's tonal envelope score over its held-out normal maximum, and the largest of the other parts'
   * over theirs (`ToneEvidence`, tone-map.ts), one per start. A box uses `BoxOptions.toneMap` only when, over
   * the windows it spans, the largest `tonal` is at least the largest `others`; without them it never does.
   */
  tonal?: readonly number[];
  others?: readonly number[];
}

export interface BoxOptions {
  /** Most boxes returned, strongest first. Default 5. */
  maxBoxes?: number;
  /** Share of the peak used as the level when nothing is over 1.0. Default 0.8. */
  fallbackLevel?: number;
  /** Seconds added to every time (for windows cut from a longer stream). Default 0. */
  timeOffset?: number;
  /**
   * The map before time-share mixing (`[nMels, nFrames]`, same scale), which says where in frequency the
   * anomaly is. When given, a box keeps its time extent and peak from `map` and takes its frequency extent
   * from this map (`frequencyExtent`). Without it, the box spans the region's mel bins in `map`.
   */
  localMap?: Float32Array;
  /**
   * Where a tone is (`[nMels, nFrames]`, the overlap-average of the windows' `ToneEvidence.map`s, 0 in windows
   * without one; tone-map.ts). A box that the tonal envelope carries (`BoxWindows.tonal` and `others`) and
   * whose frames have a positive value takes its frequency extent from it (`toneExtent`), before `localMap`.
   */
  toneMap?: Float32Array;
  /**
   * The windows the map was made of (a clip's windows; one window at 0 for a live window's map). Each box
   * then scores as the strongest window it spans, on the threshold's scale; see `AnomalyBox.peak`.
   */
  windows?: BoxWindows;
}

/** The largest score of the windows overlapping frames `tLo..tHi`, or null when none does. */
export function spannedWindowScore(w: BoxWindows, tLo: number, tHi: number): number | null {
  return spannedMax(w, w.scores, tLo, tHi);
}

/** The largest of `values` (one per window of `w`) over the windows overlapping frames `tLo..tHi`, or null. */
function spannedMax(w: BoxWindows, values: readonly number[], tLo: number, tHi: number): number | null {
  let best: number | null = null;
  w.starts.forEach((s, i) => {
    if (s <= tHi && s + w.frames - 1 >= tLo) best = Math.max(best ?? -Infinity, values[i]);
  });
  return best;
}

/**
 * Whether bins `mLo..mHi` hold the peak of `local`'s profile over frames `tLo..tHi` (each bin's largest value):
 * the fused map, every part together, says the box is most anomalous at the tone. A broadband event that also
 * rings at a resonance peaks elsewhere in the fused map, and its box must cover the event.
 */
function holdsPeak(
  local: Float32Array,
  nMels: number,
  nFrames: number,
  { tLo, tHi }: { tLo: number; tHi: number },
  { mLo, mHi }: { mLo: number; mHi: number },
): boolean {
  let at = 0;
  let best = -Infinity;
  for (let m = 0; m < nMels; m++)
    for (let t = tLo; t <= tHi; t++)
      if (local[m * nFrames + t] > best) [best, at] = [local[m * nFrames + t], m];
  return at >= mLo && at <= mHi;
}

/** Whether the tonal envelope carries frames `tLo..tHi`: its largest scaled score there is the parts' largest. */
function toneCarries(w: BoxWindows | undefined, tLo: number, tHi: number): boolean {
  if (!w?.tonal || !w.others) return false;
  const tonal = spannedMax(w, w.tonal, tLo, tHi);
  const others = spannedMax(w, w.others, tLo, tHi);
  return tonal !== null && others !== null && tonal >= others;
}

/**
 * The mel bins of the anomaly in frames `tLo..tHi` of `local` (`[nMels, nFrames]`): each bin's largest value
 * over those frames forms a profile; the extent is the contiguous run of bins around the profile's peak
 * that stay over the threshold (1), or, for a peak under 2, at or above half of it (the full width at half
 * maximum, the usual width of a peak). A tone gives a few bins, a broadband event the whole band.
 */
export function frequencyExtent(
  local: Float32Array,
  nMels: number,
  nFrames: number,
  tLo: number,
  tHi: number,
): { mLo: number; mHi: number } {
  const profile = new Float64Array(nMels).fill(-Infinity);
  for (let m = 0; m < nMels; m++)
    for (let t = tLo; t <= tHi; t++) profile[m] = Math.max(profile[m], local[m * nFrames + t]);
  let at = 0;
  for (let m = 1; m < nMels; m++) if (profile[m] > profile[at]) at = m;
  // Over the threshold (1) is anomalous by the detector's own definition; half the peak bounds a weak one.
  const half = Math.min(1, profile[at] / 2);
  let mLo = at;
  let mHi = at;
  while (mLo > 0 && profile[mLo - 1] >= half) mLo--;
  while (mHi < nMels - 1 && profile[mHi + 1] >= half) mHi++;
  return { mLo, mHi };
}

/**
 * The tone's mel bins in frames `tLo..tHi` of `tone` (`[nMels, nFrames]`), or null when it is 0 there: each bin's
 * largest value over those frames forms a profile, and the extent is the contiguous run of bins around its peak
 * at or above half of it (the full width at half maximum). The map is not blurred, so a whine gives the one or
 * two mel filters it falls in, about a tenth of an octave above 1 kHz.
 */
export function toneExtent(
  tone: Float32Array,
  nMels: number,
  nFrames: number,
  tLo: number,
  tHi: number,
): { mLo: number; mHi: number } | null {
  const profile = new Float64Array(nMels);
  for (let m = 0; m < nMels; m++)
    for (let t = tLo; t <= tHi; t++) profile[m] = Math.max(profile[m], tone[m * nFrames + t]);
  let at = 0;
  for (let m = 1; m < nMels; m++) if (profile[m] > profile[at]) at = m;
  if (!(profile[at] > 0)) return null;
  let mLo = at;
  let mHi = at;
  while (mLo > 0 && profile[mLo - 1] >= profile[at] / 2) mLo--;
  while (mHi < nMels - 1 && profile[mHi + 1] >= profile[at] / 2) mHi++;
  return { mLo, mHi };
}

/** Boxes of `map` (`[nMels, nFrames]`, normalised so 1.0 is the threshold), strongest first. */
export function anomalyBoxes(
  map: Float32Array,
  nFrames: number,
  mel: MelParams,
  opts: BoxOptions = {},
): AnomalyBox[] {
  const { nMels } = mel;
  if (map.length !== nMels * nFrames)
    throw new RangeError(`map has ${map.length} values, expected nMels * nFrames = ${nMels} * ${nFrames}`);
  if (nFrames === 0) return [];
  const { localMap: local, toneMap: tone } = opts;
  if (local && local.length !== map.length)
    throw new RangeError(`localMap has ${local.length} values; it must have the map's ${map.length}`);
  if (tone && tone.length !== map.length)
    throw new RangeError(`toneMap has ${tone.length} values; it must have the map's ${map.length}`);
  const win = opts.windows;
  if (win && win.starts.length !== win.scores.length)
    throw new RangeError(
      `windows has ${win.starts.length} starts and ${win.scores.length} scores; give one score per window`,
    );
  for (const k of ['tonal', 'others'] as const)
    if (win?.[k] && win[k].length !== win.starts.length)
      throw new RangeError(
        `windows has ${win.starts.length} starts and ${win[k].length} ${k} values; give one per window`,
      );
  let peak = -Infinity;
  for (const v of map) if (v > peak) peak = v;
  const over = peak > 1;
  const level = over ? 1 : peak * (opts.fallbackLevel ?? 0.8);
  const mask = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) mask[i] = map[i] > level || (!over && map[i] === peak) ? 1 : 0;
  const { labels, count } = connectedComponents8(mask, nMels, nFrames);
  const box = Array.from({ length: count }, () => ({
    mLo: nMels,
    mHi: -1,
    tLo: nFrames,
    tHi: -1,
    peak: -Infinity,
  }));
  for (let m = 0; m < nMels; m++) {
    for (let t = 0; t < nFrames; t++) {
      const k = labels[m * nFrames + t];
      if (k === 0) continue;
      const b = box[k - 1];
      b.mLo = Math.min(b.mLo, m);
      b.mHi = Math.max(b.mHi, m);
      b.tLo = Math.min(b.tLo, t);
      b.tHi = Math.max(b.tHi, t);
      b.peak = Math.max(b.peak, map[m * nFrames + t]);
    }
  }
  const times = frameCentreTimes(nFrames, mel);
  const edges = melFrequencies(nMels + 2, mel.fMin, mel.fMax, mel.melScale === 'htk');
  const offset = opts.timeOffset ?? 0;
  // Without windows the map value is the score and its own threshold (a cell over 1).
  const scored = box.map((b) => {
    const w = win ? spannedWindowScore(win, b.tLo, b.tHi) : null;
    return { ...b, score: w ?? b.peak, over: w === null ? b.peak > 1 : w >= 1 };
  });
  // Strongest first by the map (where the anomaly is clearest); boxes of one window share its score.
  return scored
    .sort((a, b) => b.peak - a.peak)
    .slice(0, opts.maxBoxes ?? 5)
    .map((b) => {
      const toned = tone && toneCarries(win, b.tLo, b.tHi) && toneExtent(tone, nMels, nFrames, b.tLo, b.tHi);
      const extent =
        (toned && (!local || holdsPeak(local, nMels, nFrames, b, toned)) && toned) ||
        (local && frequencyExtent(local, nMels, nFrames, b.tLo, b.tHi)) ||
        null;
      return extent ? { ...b, ...extent } : b;
    })
    .map((b) => ({
      onset: offset + times[b.tLo],
      offset: offset + times[b.tHi],
      lowHz: edges[b.mLo],
      highHz: edges[b.mHi + 2],
      peak: b.score,
      mapPeak: b.peak,
      overThreshold: b.over,
    }));
}
