/**
 * Fusion of the detector's parts into one window score and one map.
 *
 * The backbone's method (PatchCore, PaDiM or SPADE), the log-mel context memory and the tonal envelope each
 * see some anomalies best (BENCHMARKS.md, "fusion"): the method a change of texture, the context memory a
 * short event or a one-bin change, the envelope a new tone. Each is put on the scale of normal sound first:
 * the method's and the memory's scores are divided by the largest score of the held-out normal clips
 * (`FusionScales`, fitted with the threshold), the envelope's is already 1 at its margin. The window score is
 * the largest of them: an anomaly need only convince one part, and a normal window convinces none. The map is
 * the cell-wise largest of their maps on the same scales; then `timeShare` of each cell comes from its frame's
 * mean over mel bins (`shareTime`). The threshold is fitted on the fused scores of the held-out clips.
 */
import type { ContextScores } from '../logmel/context-memory.js';
import type { TonalScores } from '../logmel/tonal-envelope.js';

/** Scales of normal sound, from the held-out clips (a part's score divided by its scale is ~1 at most). */
export interface FusionScales {
  /** Largest clip score (largest window score) of the method over the held-out normal clips. */
  method: number;
  /** The same for the context memory (0 when it is off). */
  context: number;
  /** The 99.9th percentile of the context memory's held-out map cells (0 when it is off). */
  contextMap: number;
}

/** What each part said of one window. */
export interface WindowParts {
  method: { windowScore: number; map: Float32Array };
  context: ContextScores | null;
  tonal: TonalScores | null;
}

/** Quantile of the held-out context map cells that its map is divided by. */
export const CONTEXT_MAP_QUANTILE = 0.999;

/** The fused window score and map (before the threshold). */
export function fuseWindow(
  parts: WindowParts,
  scales: FusionScales,
): { windowScore: number; map: Float32Array } {
  const { method, context, tonal } = parts;
  let windowScore = method.windowScore / scales.method;
  const map = method.map.slice();
  const inv = 1 / scales.method;
  for (let i = 0; i < map.length; i++) map[i] *= inv;
  if (context) {
    windowScore = Math.max(windowScore, context.windowScore / scales.context);
    const k = 1 / scales.contextMap;
    for (let i = 0; i < map.length; i++) map[i] = Math.max(map[i], context.map[i] * k);
  }
  if (tonal) {
    windowScore = Math.max(windowScore, tonal.windowScore);
    for (let i = 0; i < map.length; i++) map[i] = Math.max(map[i], tonal.map[i]);
  }
  return { windowScore, map };
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
  const method = largest((p) => p.method.windowScore);
  const hasContext = clips.some((ws) => ws.some((p) => p.context));
  const context = hasContext ? largest((p) => p.context?.windowScore ?? 0) : 0;
  let contextMap = 0;
  if (hasContext) {
    const cells = clips.flatMap((ws) => ws.map((p) => p.context!.map));
    const all = new Float32Array(cells.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of cells) {
      all.set(c, at);
      at += c.length;
    }
    all.sort();
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
  return { method, context, contextMap };
}
