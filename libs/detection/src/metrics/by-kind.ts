/**
 * Metrics per fault kind, at the operating point as well as in ranking terms (`hark evaluate --by-kind`).
 *
 * Each anomalous clip is ranked against the normal test clips of its own group (its rank-AUC: the share of
 * those normal clips it scores above, a tie counting one half), and it is "detected" when its normalised
 * score reaches the threshold (>= 1). A kind's figures are the mean over its clips, pooled over groups, so a
 * kind that occurs in several groups is judged against each group's own normal sound. Normal clips give the
 * other side of the operating point: the share of them at or over the threshold.
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

/** Share of normalised scores at or over the threshold (>= 1). */
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
}

/**
 * The anomalous clips of one group with their kind, their rank-AUC against the group's normal test clips
 * (`normalScores`, raw clip scores) and their normalised score.
 */
export function kindClips(
  normalScores: readonly number[],
  anomalies: readonly { gt: GroundTruth | null; score: number; normalised: number }[],
): KindClip[] {
  return anomalies.map((a) => ({
    ...faultKind(a.gt),
    auc: clipRankAuc(a.score, normalScores),
    normalised: a.normalised,
  }));
}

/**
 * The per-kind rows of `clips`: the kinds other than events by name, then the row `event` of all events
 * together (when there are any), then each event label by name.
 */
export function kindTable(clips: readonly KindClip[]): KindResult[] {
  const row = (kind: string, type: string, of: readonly KindClip[]): KindResult => ({
    kind,
    type,
    clips: of.length,
    auc: of.reduce((s, c) => s + c.auc, 0) / of.length,
    recall: of.filter((c) => c.normalised >= 1).length / of.length,
  });
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
