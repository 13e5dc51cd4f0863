/**
 * Operator feedback: windows of a false alarm taught to a detector as normal. Each item carries the patch
 * embeddings the method scored (`WindowResult.embeddings`) and, when kept, the log-mel windows they came
 * from. The patches join the method's memory (only methods with a memory of normal patches can be taught:
 * `AnomalyMethod.teach`); the windows join the parts beside it (context memory, tonal envelope).
 *
 * Teaching is a function of the active items alone: the detector returns to its fitted state and teaches
 * them all (`Detector.applyFeedback`), so applying the same items twice changes nothing and a revert is an
 * apply of the items that remain.
 */

/** One feedback item, as its owner keeps it. */
export interface FeedbackItem {
  /** The owner's id of the item (echoed in the summary). */
  id: number;
  /** `[n, grid.dim]` patch embeddings, taught to the method. */
  patches: Float32Array;
  /**
   * The log-mel windows the patches came from (`[nMels, windowFrames]` each, back to back), taught to the
   * parts beside the method; null when not kept.
   */
  windows: Float32Array | null;
}

/** An item, or an item's log-mel windows, left out, and why. */
export interface FeedbackRefusal {
  id: number;
  reason: string;
}

/** What `Detector.applyFeedback` taught. */
export interface FeedbackSummary {
  /** Ids of the items whose patches were taught, in the order given. */
  used: number[];
  /** Items not taught at all: their patches do not fit this model. */
  refused: FeedbackRefusal[];
  /** Used items whose log-mel windows were not taught (another window size than this model's). */
  windowsRefused: FeedbackRefusal[];
  /** Patch rows added to the method's memory. */
  patches: number;
  /** The taught patches in windows' worth (patch rows / patches per window, rounded). */
  windows: number;
  /** Log-mel windows taught to the parts beside the method. */
  logMelWindows: number;
}

/** Thrown when feedback is given to a detector whose method cannot be taught (`Detector.teachable`). */
export class FeedbackError extends Error {
  readonly code = 'ERR_HARK_NOT_TEACHABLE';
}

/** The sizes an item must fit: the method's patch dimension and a log-mel window's values. */
export interface FeedbackShape {
  dim: number;
  /** Patches per window (grid height x width). */
  patchesPerWindow: number;
  nMels: number;
  windowFrames: number;
}

/** The items sorted into what can be taught (patches back to back, log-mel windows) and what cannot. */
export interface FeedbackPlan {
  patches: Float32Array;
  logMel: Float32Array[];
  summary: FeedbackSummary;
}

/** Sorts `items` against `shape`: patches that are not whole rows refuse the item, misfit windows only themselves. */
export function planFeedback(items: readonly FeedbackItem[], shape: FeedbackShape): FeedbackPlan {
  const { dim, nMels, windowFrames } = shape;
  const size = nMels * windowFrames;
  const summary: FeedbackSummary = {
    used: [],
    refused: [],
    windowsRefused: [],
    patches: 0,
    windows: 0,
    logMelWindows: 0,
  };
  const used = items.filter((f) => {
    const ok = f.patches.length > 0 && f.patches.length % dim === 0;
    if (!ok)
      summary.refused.push({
        id: f.id,
        reason: `its patches (${f.patches.length} values) are not whole rows of this model's dimension (${dim}); the model changed since`,
      });
    return ok;
  });
  const patches = new Float32Array(used.reduce((n, f) => n + f.patches.length, 0));
  const logMel: Float32Array[] = [];
  let at = 0;
  for (const f of used) {
    summary.used.push(f.id);
    patches.set(f.patches, at);
    at += f.patches.length;
    if (!f.windows) continue;
    if (f.windows.length % size !== 0) {
      summary.windowsRefused.push({
        id: f.id,
        reason: `its log-mel windows (${f.windows.length} values) are not whole ${nMels} x ${windowFrames} windows of this model; only its patches are taught`,
      });
      continue;
    }
    for (let i = 0; i < f.windows.length / size; i++)
      logMel.push(f.windows.subarray(i * size, (i + 1) * size));
  }
  summary.patches = patches.length / dim;
  summary.windows = Math.round(summary.patches / shape.patchesPerWindow);
  summary.logMelWindows = logMel.length;
  return { patches, logMel, summary };
}
