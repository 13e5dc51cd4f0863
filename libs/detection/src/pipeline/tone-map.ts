/**
 * Where a tone is, at the spectrogram's own mel resolution, for a box's frequency extent (boxes.ts).
 *
 * The fused map is blurred over `blurSigmaMel` bins and the backbone's patch rows span several bins each, so a
 * whine's box cut from it can span an octave. The tonal envelope's map (logmel/tonal-envelope.ts) is not
 * blurred: each mel bin's excess over the loudest prominence normal sound had there. But a bin can stand out
 * from its neighbours without being a tone: beside a lost band (its neighbours fell), in a speed change (a
 * harmonic moved there), in the ringing of a glass break or a clang. So a box takes the tone's bins only when
 * all four hold (the first two per window here, the last two per box in boxes.ts):
 *
 * 1. **The bin where the excess peaks has itself risen, and stays risen**: its median level over the window's
 *    frames (after the levelling the backbone sees) is above the bin's normal (training) mean by at least half
 *    the excess. A new tone adds power to its bin in every frame, so the bin rises about as much as it stands
 *    out; a bin beside a lost band stands out with its level unchanged; the ringing of a glass break or a knock
 *    lifts the window's mean in its bin but only for the few frames it lasts, not the median. Half is midway
 *    between a tone's rise and none. Otherwise the window has no tone map.
 * 2. **One tone holds most of the excess**: the bins around the peak at or above half of it (the box's extent,
 *    `toneExtent`) hold at least half of the window's excess summed over all bins. A whine is one peak (its
 *    harmonic, when there is one, weaker); a speed change moves every harmonic and a clang rings at several
 *    resonances, each standing out a little, and those are broadband anomalies whose box must stay wide.
 * 3. **The tonal envelope carries the box**: over the windows the box spans, the largest tonal window score
 *    over its held-out normal maximum (`FusionScales.tonal`) is at least the largest of every other part's
 *    over theirs, so the tone is what is most unlike normal sound there. A speed change lifts the patches and
 *    the contexts further than its moved harmonics lift the envelope, and a glass break's impact window lifts
 *    them further than its ringing tail lifts the envelope: their boxes keep the fused map's extent.
 * 4. **The tone holds the fused map's peak over the box** (`holdsPeak`): every part together says the box is
 *    most anomalous at the tone. A broadband event that also rings at a resonance peaks elsewhere, and its box
 *    must cover the event (without this rule the development corpus's glass_break boxes went 0.44 -> 0.15).
 */
import { modulationStatistic, type FusionScales, type WindowParts } from './fusion.js';
import { median } from './input-scaling.js';

/** What the tonal envelope says of one window, for the boxes (null when the model cannot say). */
export interface ToneEvidence {
  /**
   * `[nMels, frames]`: the tonal envelope's map (excess / margin per bin, the same in every frame) when the
   * bin where the excess peaks rose (rule 1 of the header), else null.
   */
  map: Float32Array | null;
  /** The tonal envelope's window score over its held-out normal maximum. */
  tonal: number;
  /** The largest of the other parts' window scores, each over its held-out normal maximum. */
  others: number;
}

/**
 * Each mel bin's level over the window minus its normal mean, dB: the median over frames of the standardised
 * window (`[nMels, frames]`, z-scores against the training mean and deviation) times the bin's deviation. The
 * median is what the bin does in most frames, which a steady tone changes and a short event does not.
 */
export function binLevelRise(
  standardised: Float32Array,
  nMels: number,
  binStd: readonly number[],
): Float32Array {
  const frames = standardised.length / nMels;
  const rise = new Float32Array(nMels);
  for (let m = 0; m < nMels; m++)
    rise[m] = median(standardised.subarray(m * frames, (m + 1) * frames)) * binStd[m];
  return rise;
}

/**
 * The window's tone evidence (see the header), or null when the model has no tonal envelope, no held-out
 * scale for it (models fitted before it was kept) or no per-bin statistics (`levelRise` null). `marginDb` is
 * the envelope's margin.
 */
export function toneEvidence(
  parts: WindowParts,
  scales: FusionScales | null | undefined,
  levelRise: Float32Array | null,
  marginDb: number,
): ToneEvidence | null {
  const { tonal, context, modulation, impulse } = parts;
  if (!tonal || !scales || !levelRise || !(scales.tonal !== undefined && scales.tonal > 0)) return null;
  const nMels = levelRise.length;
  const frames = tonal.map.length / nMels;
  let peak = 0;
  for (let m = 1; m < nMels; m++) if (tonal.map[m * frames] > tonal.map[peak * frames]) peak = m;
  const excessDb = tonal.map[peak * frames] * marginDb;
  const rose = excessDb > 0 && levelRise[peak] >= excessDb / 2;
  const one = rose && peakShare(tonal.map, nMels, frames, peak) >= 1 / 2;
  let others = parts.method.windowScore / scales.method;
  if (context && scales.context > 0) others = Math.max(others, context.windowScore / scales.context);
  if (modulation && scales.modulation) others = Math.max(others, modulationStatistic(modulation, scales));
  if (impulse && scales.impulse) others = Math.max(others, impulse.windowScore / scales.impulse);
  return { map: one ? tonal.map : null, tonal: tonal.windowScore / scales.tonal, others };
}

/** Share of the excess of all bins (first frame of `map`, `[nMels, frames]`) in the half-maximum run at `peak`. */
function peakShare(map: Float32Array, nMels: number, frames: number, peak: number): number {
  const v = (m: number) => map[m * frames];
  let lo = peak;
  let hi = peak;
  while (lo > 0 && v(lo - 1) >= v(peak) / 2) lo--;
  while (hi < nMels - 1 && v(hi + 1) >= v(peak) / 2) hi++;
  let run = 0;
  let all = 0;
  for (let m = 0; m < nMels; m++) {
    all += v(m);
    if (m >= lo && m <= hi) run += v(m);
  }
  return run / all;
}
