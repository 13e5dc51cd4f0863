/**
 * Metrics per fault kind, at the operating point as well as in ranking terms (`hark evaluate --by-kind`).
 *
 * Each anomalous clip is ranked against the normal test clips of its own group (its rank-AUC: the share of
 * those normal clips it scores above, a tie counting one half), and it is "detected" when its normalised
 * score reaches the threshold (>= 1). A kind's figures are the mean over its clips, pooled over groups, so a
 * kind that occurs in several groups is judged against each group's own normal sound. Normal clips give the
 * other side of the operating point: the share of them at or over the threshold.
 *
 * A live alert needs more than one window over the threshold (the server's `openWindows`, the detector's
 * `alertWindows`): a clip's `alertLevel` is what that rule sees of it streamed alone. So each kind also gets
 * its `alertRecall` (clips on which an alert would open) and each group the share of normal clips that would
 * raise one (`normalAlerting`): a fault shorter than the rule's windows, or one that reaches the threshold in a
 * single window, counts in `recall` and not in `alertRecall`.
 */
import type { GroundTruth } from '../dataset/ground-truth.js';

/** Figures of one fault kind. */
export interface KindResult {
  /** The ground truth's `type`, or for `type: 'event'` the event's label (e.g. `glass_break`). */
  kind: string;
  /** The ground truth's `type` (`event` for every event label, and for the row of all events). */
  type: string;
  /** Anomalous clips of this kind. */
  clips: number;
  /** Mean rank-AUC of the clips against their group's normal test clips. */
  auc: number;
  /** Share of the clips whose normalised score is >= 1. */
  recall: number;
  /**
   * Share of the clips on which the live alert rule would open an alert (`alertLevel` >= 1); `NaN` when no
   * clip of the kind has an `alertLevel`.
   */
  alertRecall: number;
  /**
   * Median frequency IoU, on the Hz axis, of each clip's strongest box with its ground truth's band (the
   * lowest `lowHz` to the highest `highHz` of its events); clips whose events give no band are skipped.
   * `null` when no clip of the kind has a band or a box.
   */
  boxIoU: number | null;
  /** Clips the median `boxIoU` is taken over. */
  boxIoUClips: number;
  /**
   * Median, over the same clips, of the largest frequency IoU of the strongest box with any one event's band.
   * A tone's truth has two bands, the tone and its second harmonic an octave up, so their hull (`boxIoU`) is
   * mostly the empty octave between them: a box on the tone alone scores about 0.1 there and one spanning
   * the empty octave more. This asks whether the box says where one of the events is.
   */
  eventBoxIoU: number | null;
  /**
   * Mean over the clips with pixel ground truth of each one's pixel AUC: its cells in the ground truth against
   * every cell of its group's normal test clips (`clipPixelAuc`): where in time and frequency the map puts
   * this kind. `null` when no clip of the kind has one.
   */
  pixelAuc: number | null;
}

/** The kind of an anomalous clip: its ground truth's `type`, the label of its first event for `event`. */
export function faultKind(gt: GroundTruth | null): { kind: string; type: string } {
  const type = gt?.type || 'unknown';
  if (type !== 'event') return { kind: type, type };
  const label = gt?.events.find((e) => e.label)?.label;
  const detail = typeof gt?.detail.event === 'string' ? gt.detail.event : '';
  return { kind: label || detail || 'unlabelled event', type };
}

/** Share of `normalScores` below `score`, a tie counting one half (the clip's AUC against them). */
export function clipRankAuc(score: number, normalScores: readonly number[]): number {
  if (normalScores.length === 0) throw new Error('a rank-AUC needs at least one normal score');
  let wins = 0;
  for (const s of normalScores) wins += score > s ? 1 : score === s ? 0.5 : 0;
  return wins / normalScores.length;
}

/** Share of normalised scores at or over the threshold (>= 1); also of alert levels (`alertLevel`). */
export function shareOverThreshold(normalised: readonly number[]): number {
  return normalised.length ? normalised.filter((s) => s >= 1).length / normalised.length : Number.NaN;
}

/** One anomalous clip, as scored. */
export interface KindClip {
  kind: string;
  type: string;
  /** Rank-AUC against its group's normal test clips. */
  auc: number;
  /** Normalised clip score (1 = threshold). */
  normalised: number;
  /** What the live alert rule sees of the clip (`ClipResult.alertLevel`; >= 1: an alert would open). */
  alertLevel?: number;
  /** Frequency IoU (Hz) of the strongest box with the ground truth's band; null without a band or a box. */
  boxIoU: number | null;
  /** The largest frequency IoU of the strongest box with one event's band; null without a band or a box. */
  eventBoxIoU?: number | null;
  /** The clip's pixel AUC against its group's normal test clips (`clipPixelAuc`); null without pixel truth. */
  pixelAuc?: number | null;
}

/** The band of a ground truth's events, lowest `lowHz` to highest `highHz`; null when no event has both. */
export function truthBand(gt: GroundTruth | null): { lowHz: number; highHz: number } | null {
  const banded = (gt?.events ?? []).filter((e) => Number.isFinite(e.lowHz) && Number.isFinite(e.highHz));
  if (banded.length === 0) return null;
  return { lowHz: Math.min(...banded.map((e) => e.lowHz)), highHz: Math.max(...banded.map((e) => e.highHz)) };
}

/** Intersection over union of two frequency intervals in Hz (0 when they do not overlap). */
export function bandIoU(a: { lowHz: number; highHz: number }, b: { lowHz: number; highHz: number }): number {
  const inter = Math.max(0, Math.min(a.highHz, b.highHz) - Math.max(a.lowHz, b.lowHz));
  const union = Math.max(a.highHz, b.highHz) - Math.min(a.lowHz, b.lowHz);
  return union > 0 ? inter / union : 0;
}

/** The largest frequency IoU of `box` with the band of one of `gt`'s events (0 when none has a band). */
export function bestEventIoU(box: { lowHz: number; highHz: number }, gt: GroundTruth | null): number {
  const banded = (gt?.events ?? []).filter((e) => Number.isFinite(e.lowHz) && Number.isFinite(e.highHz));
  return Math.max(0, ...banded.map((e) => bandIoU(box, e)));
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/**
 * The anomalous clips of one group with their kind, their rank-AUC against the group's normal test clips
 * (`normalScores`, raw clip scores) and their normalised score.
 */
export function kindClips(
  normalScores: readonly number[],
  anomalies: readonly {
    gt: GroundTruth | null;
    score: number;
    normalised: number;
    alertLevel?: number;
    box?: { lowHz: number; highHz: number } | null;
    pixelAuc?: number | null;
  }[],
): KindClip[] {
  return anomalies.map((a) => {
    const band = truthBand(a.gt);
    return {
      ...faultKind(a.gt),
      auc: clipRankAuc(a.score, normalScores),
      normalised: a.normalised,
      ...(a.alertLevel !== undefined && { alertLevel: a.alertLevel }),
      boxIoU: band && a.box ? bandIoU(a.box, band) : null,
      eventBoxIoU: band && a.box ? bestEventIoU(a.box, a.gt) : null,
      ...(a.pixelAuc !== undefined && { pixelAuc: a.pixelAuc }),
    };
  });
}

/**
 * The per-kind rows of `clips`: the kinds other than events by name, then the row `event` of all events
 * together (when there are any), then each event label by name.
 */
export function kindTable(clips: readonly KindClip[]): KindResult[] {
  const row = (kind: string, type: string, of: readonly KindClip[]): KindResult => {
    const ious = of.flatMap((c) => (c.boxIoU === null || c.boxIoU === undefined ? [] : [c.boxIoU]));
    const events = of.flatMap((c) => (typeof c.eventBoxIoU === 'number' ? [c.eventBoxIoU] : []));
    const pixels = of.flatMap((c) =>
      typeof c.pixelAuc === 'number' && !Number.isNaN(c.pixelAuc) ? [c.pixelAuc] : [],
    );
    return {
      kind,
      type,
      clips: of.length,
      auc: of.reduce((s, c) => s + c.auc, 0) / of.length,
      recall: of.filter((c) => c.normalised >= 1).length / of.length,
      alertRecall: shareOverThreshold(of.flatMap((c) => (c.alertLevel === undefined ? [] : [c.alertLevel]))),
      boxIoU: ious.length ? median(ious) : null,
      boxIoUClips: ious.length,
      eventBoxIoU: events.length ? median(events) : null,
      pixelAuc: pixels.length ? pixels.reduce((a, b) => a + b, 0) / pixels.length : null,
    };
  };
  const key = (c: { type: string; kind: string }) => `${c.type === 'event' ? 1 : 0}|${c.kind}`;
  const kinds = [...new Map(clips.map((c) => [key(c), c])).values()].sort((a, b) =>
    key(a).localeCompare(key(b)),
  );
  const rows = kinds.map((k) =>
    row(
      k.kind,
      k.type,
      clips.filter((c) => key(c) === key(k)),
    ),
  );
  const events = clips.filter((c) => c.type === 'event');
  if (events.length)
    rows.splice(
      rows.findIndex((r) => r.type === 'event'),
      0,
      row('event', 'event', events),
    );
  return rows;
}
