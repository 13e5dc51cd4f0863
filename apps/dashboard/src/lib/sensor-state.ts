/**
 * What an operator needs to know about a sensor, in one word, derived from its `SensorStatus` and the alerts
 * the dashboard holds. Ordered by urgency: the overview sorts tiles by it.
 */
import type { Alert, SensorStatus } from './contracts';

export type TileState =
  'alert' | 'disconnected' | 'overloaded' | 'silent' | 'acknowledged' | 'enrolling' | 'no-model' | 'ok';

/** Most urgent first. */
export const TILE_STATES: readonly TileState[] = [
  'alert',
  'disconnected',
  'overloaded',
  'silent',
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
  acknowledged: 'acknowledged',
  enrolling: 'enrolling',
  'no-model': 'no model',
  ok: 'ok',
};

/** Glyphs that carry the state without colour (colour-blind operators, monochrome wall screens). */
export const TILE_STATE_ICONS: Record<TileState, string> = {
  alert: '\u25B2',
  disconnected: '\u2715',
  overloaded: '\u29D7',
  silent: '\u2205',
  acknowledged: '\u2713',
  enrolling: '\u25CC',
  'no-model': '?',
  ok: '\u25CF',
};

export function stateRank(state: TileState): number {
  return TILE_STATES.indexOf(state);
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
 * the sensor's alerts, the status' own `openAlerts` count decides.
 */
export function deriveTileState(status: SensorStatus, alerts: Iterable<Alert> = []): TileState {
  const counts = alertCounts(status.id, alerts);
  const known = counts.open + counts.acknowledged > 0;
  if (counts.open > 0 || (!known && status.openAlerts > 0)) return 'alert';
  if (!status.connected || status.state === 'disconnected') return 'disconnected';
  if (status.state === 'overloaded') return 'overloaded';
  if (status.silent) return 'silent';
  if (counts.acknowledged > 0) return 'acknowledged';
  const model = status.model?.state;
  if (status.state === 'enrolling' || model === 'recording' || model === 'fitting') return 'enrolling';
  if (status.state === 'no-model' || model === 'none' || model === 'failed') return 'no-model';
  return 'ok';
}
