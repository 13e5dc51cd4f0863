/**
 * Assets: the sensors as a tree of site > line > machine groups, from the labels they carry (`site`, `line`,
 * `machine`; set in the sensor's hello or by an admin with `PATCH /api/sensors/:id`). A sensor sits in the
 * group of the deepest of those labels it has. A level missing above that one puts it in that level's
 * "unassigned" group (line=A without a site: unassigned site > line A); a sensor with none of the three sits
 * in the top-level "unassigned" group. Every group rolls up its sensors, nested ones included: the worst state
 * by the tiles' ranking and the count in each state.
 */
import type { TileState } from './sensor-state';
import { compareTiles, countStates, worstState, type Tile } from './tiles';

/** The grouping labels, outermost first. */
export const ASSET_LEVELS = ['site', 'line', 'machine'] as const;
export type AssetLevel = (typeof ASSET_LEVELS)[number];

/** A group's name when its level's label is missing. */
export const UNASSIGNED = 'unassigned';

export interface AssetGroup {
  level: AssetLevel;
  /** The label's value; null for the level's "unassigned" group. */
  value: string | null;
  /** Unique path of the group, `site=plant-1/line=A` (`site=` for unassigned), for keys and collapsing. */
  key: string;
  /** Groups one level down, by value (unassigned last). */
  children: AssetGroup[];
  /** Sensors whose deepest grouping label is this group's, by name. */
  tiles: Tile[];
  /** The most urgent state among every sensor of the group, nested ones included. */
  worst: TileState;
  /** Sensors of the group (nested ones included) in each state. */
  counts: Record<TileState, number>;
  /** Sensors of the group, nested ones included. */
  total: number;
}

/**
 * The group values of a sensor's labels down to the deepest grouping label it carries (null: missing); empty
 * when it carries none. Values are trimmed; an empty value counts as missing.
 */
export function assetPath(labels: Record<string, string> | undefined): (string | null)[] {
  const values = ASSET_LEVELS.map((l) => labels?.[l]?.trim() || null);
  let depth = values.length;
  while (depth > 0 && values[depth - 1] === null) depth--;
  return values.slice(0, depth);
}

/** `site=plant-1/line=A`: the key of the group at `path` (null values as empty). */
export const assetKey = (path: readonly (string | null)[]): string =>
  path.map((v, i) => `${ASSET_LEVELS[i]}=${v ?? ''}`).join('/');

/** A group's heading: its value, or `unassigned` (with the level for a nested one: `unassigned line`). */
export const assetLabel = (g: Pick<AssetGroup, 'level' | 'value'>): string =>
  g.value ?? (g.level === 'site' ? UNASSIGNED : `${UNASSIGNED} ${g.level}`);

interface Node {
  level: AssetLevel;
  value: string | null;
  key: string;
  children: Map<string | null, Node>;
  tiles: Tile[];
}

const numeric = { numeric: true } as const;
/** By value ("Line 2" before "Line 10"), the unassigned group last. */
const compareGroups = (a: AssetGroup, b: AssetGroup): number =>
  a.value === null ? 1 : b.value === null ? -1 : a.value.localeCompare(b.value, undefined, numeric);

/** The asset tree of `tiles` (already filtered), in a stable order. */
export function buildAssetTree(tiles: readonly Tile[]): AssetGroup[] {
  const root = new Map<string | null, Node>();
  for (const tile of tiles) {
    const path = assetPath(tile.status.labels);
    if (path.length === 0) path.push(null);
    let level = root;
    let node: Node | undefined;
    for (let i = 0; i < path.length; i++) {
      node = level.get(path[i]);
      if (!node) {
        node = {
          level: ASSET_LEVELS[i],
          value: path[i],
          key: assetKey(path.slice(0, i + 1)),
          children: new Map(),
          tiles: [],
        };
        level.set(path[i], node);
      }
      level = node.children;
    }
    (node as Node).tiles.push(tile);
  }
  return finish(root);
}

function finish(nodes: Map<string | null, Node>): AssetGroup[] {
  const out: AssetGroup[] = [];
  for (const n of nodes.values()) {
    const children = finish(n.children);
    const tiles = [...n.tiles].sort(compareTiles);
    const all = [...tiles, ...children.flatMap(allTiles)];
    out.push({
      level: n.level,
      value: n.value,
      key: n.key,
      children,
      tiles,
      worst: worstState(all),
      counts: countStates(all),
      total: all.length,
    });
  }
  return out.sort(compareGroups);
}

/** Every tile of a group, nested ones included, in the tree's order (a group's own tiles first). */
export function allTiles(g: AssetGroup): Tile[] {
  return [...g.tiles, ...g.children.flatMap(allTiles)];
}

/** The sensor settings form's label fields: one per asset level, and the other labels as `key=value` lines. */
export type LabelForm = Record<AssetLevel, string> & { other: string };

export function labelFormOf(labels: Record<string, string> | undefined): LabelForm {
  const rest = Object.entries(labels ?? {}).filter(([k]) => !(ASSET_LEVELS as readonly string[]).includes(k));
  return {
    site: labels?.site ?? '',
    line: labels?.line ?? '',
    machine: labels?.machine ?? '',
    other: rest.map(([k, v]) => `${k}=${v}`).join('\n'),
  };
}

/**
 * The labels a form gives (what `PATCH /api/sensors/:id` replaces the sensor's with): empty fields and blank
 * lines are left out, values trimmed. A line without `=`, or with an empty key, or an asset level's key
 * (set in its own field), throws an error naming the line.
 */
export function labelsOfForm(form: LabelForm): Record<string, string> {
  const out: Record<string, string> = {};
  for (const level of ASSET_LEVELS) {
    const v = form[level].trim();
    if (v) out[level] = v;
  }
  for (const raw of form.other.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? '' : line.slice(0, eq).trim();
    if (!key) throw new Error(`label line '${line}' must be key=value, e.g. area=north`);
    if ((ASSET_LEVELS as readonly string[]).includes(key))
      throw new Error(`label '${key}' has its own field: set it there, not in the other labels`);
    out[key] = line.slice(eq + 1).trim();
  }
  return out;
}
