/**
 * What an operator needs to know about a sensor, in one word, derived from its `SensorStatus` and the alerts
 * the dashboard holds. Connectivity and the live condition come first: a sensor that is gone reads
 * `disconnected` whatever its alerts, and `alert` means the condition holds now; alerts whose condition has
 * cleared but that nobody has looked at read `review`. Ordered by urgency (filter chips, group order).
 */
import type { Alert, SensorStatus } from './contracts';

export type TileState =
  | 'alert'
  | 'disconnected'
  | 'overloaded'
  | 'silent'
  | 'review'
  | 'acknowledged'
  | 'enrolling'
  | 'no-model'
  | 'ok';

/** Most urgent first. */
export const TILE_STATES: readonly TileState[] = [
  'disconnected',
  'alert',
  'overloaded',
  'silent',
  'review',
  'acknowledged',
  'enrolling',
  'no-model',
  'ok',
];

export const TILE_STATE_LABELS: Record<TileState, string> = {
  alert: 'alert',
  disconnected: 'disconnected',
  overloaded: 'overloaded',
  silent: 'silent',
  review: 'to review',
  acknowledged: 'acknowledged',
  enrolling: 'enrolling',
  'no-model': 'no model',
  ok: 'ok',
};

/**
 * Glyphs that carry the state without colour (colour-blind operators, monochrome wall screens). Each is in
 * DejaVu Sans, the fallback font of a bare Debian: a glyph no installed font has draws as an empty box (the
 * hourglass U+29D7 once did, for `overloaded`).
 */
export const TILE_STATE_ICONS: Record<TileState, string> = {
  alert: '\u25B2',
  disconnected: '\u2715',
  overloaded: '\u25D4',
  silent: '\u2205',
  review: '!',
  acknowledged: '\u2713',
  enrolling: '\u25CC',
  'no-model': '?',
  ok: '\u25CF',
};

export function stateRank(state: TileState): number {
  return TILE_STATES.indexOf(state);
}

/**
 * Since when (ms) the tile's state has held: for `alert`, when the condition began (`activeSince`); else the
 * server's `stateSince`. Null when the server did not say.
 */
export function tileSince(status: SensorStatus, state: TileState): number | null {
  if (state === 'alert' && status.activeSince != null) return status.activeSince;
  return status.stateSince ?? null;
}

/** `42 s`, `5 min`, `3 h 20 min`, `2 d 4 h`: a short age for "last seen" and "since". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** Counts of the sensor's unresolved alerts among `alerts` (any order, any sensors). */
export function alertCounts(
  sensorId: string,
  alerts: Iterable<Alert>,
): { open: number; acknowledged: number } {
  let open = 0;
  let acknowledged = 0;
  for (const a of alerts) {
    if (a.sensorId !== sensorId) continue;
    if (a.state === 'open') open++;
    else if (a.state === 'acknowledged') acknowledged++;
  }
  return { open, acknowledged };
}

/**
 * The tile state. `alerts` may be partial (the dashboard holds the unresolved ones): when it knows none of
 * the sensor's alerts, the status' own `needsAttention` count decides whether some wait for review.
 */
export function deriveTileState(status: SensorStatus, alerts: Iterable<Alert> = []): TileState {
  if (!status.connected || status.state === 'disconnected') return 'disconnected';
  if (status.activeAlertId !== null && status.activeAlertId !== undefined) return 'alert';
  if (status.state === 'overloaded') return 'overloaded';
  if (status.silent) return 'silent';
  const counts = alertCounts(status.id, alerts);
  const known = counts.open + counts.acknowledged > 0;
  if (counts.open > 0 || (!known && (status.needsAttention ?? status.openAlerts) > 0)) return 'review';
  if (counts.acknowledged > 0) return 'acknowledged';
  const model = status.model?.state;
  if (status.state === 'enrolling' || model === 'recording' || model === 'fitting') return 'enrolling';
  if (status.state === 'no-model' || model === 'none' || model === 'failed') return 'no-model';
  return 'ok';
}
