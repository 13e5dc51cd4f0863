/** The overview's tiles: sorting (problems first), filtering by text and state, grouping by site / line. */
import type { Alert, SensorStatus } from './contracts';
import { alertCounts, deriveTileState, stateRank, type TileState } from './sensor-state';

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

export interface TileGroup {
  /** `site: plant-1 / line: A`, or '' when the sensors carry no grouping labels. */
  key: string;
  tiles: Tile[];
  /** The most urgent state in the group. */
  worst: TileState;
}

/** Labels that group tiles, in nesting order. */
export const GROUP_LABELS = ['site', 'line'] as const;

/**
 * By name, then id: a stable order, so a tile stays where the operator last saw it while states change (the
 * colour and the state word say what is wrong; the state chips filter).
 */
export function compareTiles(a: Tile, b: Tile): number {
  // Numeric: "Press 2" before "Press 10".
  const opts = { numeric: true } as const;
  return (
    a.status.name.localeCompare(b.status.name, undefined, opts) ||
    a.status.id.localeCompare(b.status.id, undefined, opts)
  );
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

export function groupKey(status: SensorStatus, labels: readonly string[] = GROUP_LABELS): string {
  return labels
    .filter((l) => status.labels?.[l])
    .map((l) => `${l}: ${status.labels[l]}`)
    .join(' / ');
}

/**
 * Filters, sorts and groups, in a stable order: groups by key (sensors without grouping labels, the group
 * '', last), tiles by name. `worst` is the group's most urgent state (for its heading).
 */
export function arrangeTiles(tiles: readonly Tile[], filter: TileFilter = {}): TileGroup[] {
  const groups = new Map<string, Tile[]>();
  for (const tile of tiles) {
    if (!matchesFilter(tile, filter)) continue;
    const key = groupKey(tile.status);
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(tile);
  }
  const out: TileGroup[] = [];
  for (const [key, list] of groups) {
    list.sort(compareTiles);
    const worst = list.reduce((w, t) => (stateRank(t.state) < stateRank(w) ? t.state : w), list[0].state);
    out.push({ key, tiles: list, worst });
  }
  out.sort((a, b) => (a.key === '' ? 1 : 0) - (b.key === '' ? 1 : 0) || a.key.localeCompare(b.key));
  return out;
}

/** How many tiles are in each state (for the filter chips). */
export function countStates(tiles: readonly Tile[]): Record<TileState, number> {
  const counts = {
    alert: 0,
    disconnected: 0,
    overloaded: 0,
    silent: 0,
    review: 0,
    acknowledged: 0,
    enrolling: 0,
    'no-model': 0,
    ok: 0,
  } satisfies Record<TileState, number>;
  for (const t of tiles) counts[t.state]++;
  return counts;
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
