/**
 * Where a tone is, at the spectrogram's own mel resolution, for a box's frequency extent (boxes.ts).
 *
 * The fused map is blurred over `blurSigmaMel` bins and the backbone's patch rows span several bins each, so a
 * whine's box cut from it can span an octave. The tonal envelope's map (logmel/tonal-envelope.ts) is not
 * blurred: each mel bin's excess over the loudest prominence normal sound had there. But a bin can stand out
 * from its neighbours without being a tone: beside a lost band (its neighbours fell), or where a speed change
 * moved a harmonic. So a window's tone map is the tonal envelope's map only when both hold:
 *
 * 1. **The tonal envelope carries the window**: its window score over its held-out normal maximum
 *    (`FusionScales.tonal`) is at least every other part's over theirs, so the tone is what is most unlike
 *    normal sound in the window. A speed change lifts the patches and the contexts more than its moved
 *    harmonics lift the envelope, and its box keeps the fused map's extent.
 * 2. **The bin where the excess peaks has itself risen**: its level over the window (after the levelling the
 *    backbone sees) is above the bin's normal (training) mean by at least half the excess. A new tone adds power
 *    to its bin, so the bin rises about as much as it stands out; a bin beside a lost band stands out with its
 *    level unchanged. Half is midway between the two.
 *
 * Otherwise there is no tone map (null) and the box takes its frequency extent from the fused map as before.
 */
import type { FusionScales, WindowParts } from './fusion.js';

/**
 * Each mel bin's level over the window minus its normal mean, dB: the mean over frames of the standardised
 * window (`[nMels, frames]`, z-scores against the training mean and deviation) times the bin's deviation.
 */
export function binLevelRise(
  standardised: Float32Array,
  nMels: number,
  binStd: readonly number[],
): Float32Array {
  const frames = standardised.length / nMels;
  const rise = new Float32Array(nMels);
  for (let m = 0; m < nMels; m++) {
    let s = 0;
    for (let t = m * frames; t < (m + 1) * frames; t++) s += standardised[t];
    rise[m] = (s / frames) * binStd[m];
  }
  return rise;
}

/**
 * The window's tone map (`[nMels, frames]`, the tonal envelope's map: excess / margin per bin), or null when
 * the window's anomaly is not a tone by the rules of the header. `levelRise` is `binLevelRise` of the window
 * (null when the model keeps no per-bin statistics: then no tone map); `marginDb` the envelope's margin.
 */
export function toneMap(
  parts: WindowParts,
  scales: FusionScales | null | undefined,
  levelRise: Float32Array | null,
  marginDb: number,
): Float32Array | null {
  const { tonal, context, modulation } = parts;
  if (!tonal || !scales || !levelRise || !(scales.tonal !== undefined && scales.tonal > 0)) return null;
  const nMels = levelRise.length;
  const frames = tonal.map.length / nMels;
  let peak = 0;
  for (let m = 1; m < nMels; m++) if (tonal.map[m * frames] > tonal.map[peak * frames]) peak = m;
  const excessDb = tonal.map[peak * frames] * marginDb;
  if (!(excessDb > 0) || levelRise[peak] < excessDb / 2) return null;
  const own = tonal.windowScore / scales.tonal;
  const others = [parts.method.windowScore / scales.method];
  if (context && scales.context > 0) others.push(context.windowScore / scales.context);
  if (modulation && scales.modulation) others.push(modulation.windowScore / scales.modulation);
  return others.every((o) => own >= o) ? tonal.map : null;
}
