/**
 * The tile state's words, glyphs and age. The state itself and its ranking are `@hark/protocol`'s
 * (`sensor-state.ts`), shared with the server's asset roll-ups; re-exported here for the views.
 */
import type { SensorStatus } from './contracts';
import type { TileState } from '@hark/protocol';

export {
  alertCounts,
  deriveTileState,
  stateCounts,
  stateRank,
  TILE_STATES,
  worstOf,
  type TileState,
} from '@hark/protocol';

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
