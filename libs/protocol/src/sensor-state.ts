/**
 * What an operator needs to know about a sensor, in one word (the dashboard's tile state, the asset groups'
 * roll-up), derived from its `SensorStatus` and the unresolved alerts known. Connectivity and the live
 * condition come first: a sensor that is gone reads `disconnected` whatever its alerts, and `alert` means the
 * condition holds now; alerts whose condition has cleared but that nobody has looked at read `review`.
 * Ordered by urgency (`TILE_STATES`): the ranking of filter chips, group order and roll-ups.
 */
import type { Alert, SensorStatus } from './contracts.js';

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

export function stateRank(state: TileState): number {
  return TILE_STATES.indexOf(state);
}

/** The most urgent of `states` (`ok` for none). */
export function worstOf(states: Iterable<TileState>): TileState {
  let worst: TileState = 'ok';
  for (const s of states) if (stateRank(s) < stateRank(worst)) worst = s;
  return worst;
}

/** How many of `states` are each state (every state present, 0 when none). */
export function stateCounts(states: Iterable<TileState>): Record<TileState, number> {
  const counts = Object.fromEntries(TILE_STATES.map((s) => [s, 0])) as Record<TileState, number>;
  for (const s of states) counts[s]++;
  return counts;
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
