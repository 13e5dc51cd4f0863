/** The overview's tiles: a stable order, filtering by text and state, counts and the worst state (asset groups: `assets.ts`). */
import { compareSensors } from '@hark/protocol';
import type { Alert, SensorStatus } from './contracts';
import { alertCounts, deriveTileState, stateCounts, worstOf, type TileState } from './sensor-state';

export interface Tile {
  status: SensorStatus;
  state: TileState;
  /** Open (not yet acknowledged) alerts. */
  openAlerts: number;
  /** Acknowledged, not yet resolved. */
  acknowledgedAlerts: number;
}

export interface TileFilter {
  /** Matched case-insensitively against id, name and label values. */
  text?: string;
  /** Empty or absent: every state. */
  states?: readonly TileState[];
}

/**
 * By name, then id: a stable order, so a tile stays where the operator last saw it while states change (the
 * colour and the state word say what is wrong; the state chips filter).
 */
export function compareTiles(a: Tile, b: Tile): number {
  return compareSensors(a.status, b.status);
}

export function matchesFilter(tile: Tile, filter: TileFilter): boolean {
  if (filter.states && filter.states.length > 0 && !filter.states.includes(tile.state)) return false;
  const text = filter.text?.trim().toLowerCase();
  if (!text) return true;
  const { id, name, labels } = tile.status;
  const haystack = [id, name, ...Object.entries(labels ?? {}).map(([k, v]) => `${k}:${v} ${v}`)]
    .join(' ')
    .toLowerCase();
  return text.split(/\s+/).every((word) => haystack.includes(word));
}

/** The tiles that pass the filter, in their order. */
export function filterTiles(tiles: readonly Tile[], filter: TileFilter = {}): Tile[] {
  return tiles.filter((t) => matchesFilter(t, filter));
}

/** The most urgent state among `tiles` by the tiles' ranking (`TILE_STATES`); `ok` for none. */
export function worstState(tiles: readonly Tile[]): TileState {
  return worstOf(tiles.map((t) => t.state));
}

/** How many tiles are in each state (for the filter chips). */
export function countStates(tiles: readonly Tile[]): Record<TileState, number> {
  return stateCounts(tiles.map((t) => t.state));
}

/**
 * Tiles of every sensor. The alert counts are those of the alerts the dashboard holds (every unresolved
 * one); until it holds any of the sensor's alerts, the server's `needsAttention` (open, not acknowledged)
 * stands in for the open count.
 */
export function buildTiles(sensors: Iterable<SensorStatus>, alerts: readonly Alert[]): Tile[] {
  const out: Tile[] = [];
  for (const status of sensors) {
    const counts = alertCounts(status.id, alerts);
    const known = counts.open + counts.acknowledged > 0;
    out.push({
      status,
      state: deriveTileState(status, alerts),
      openAlerts: known ? counts.open : (status.needsAttention ?? status.openAlerts ?? 0),
      acknowledgedAlerts: counts.acknowledged,
    });
  }
  return out;
}
