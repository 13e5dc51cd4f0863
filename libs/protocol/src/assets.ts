/**
 * Assets: sensors as a tree of site > line > machine groups, from the labels they carry (`site`, `line`,
 * `machine`; sent in the sensor's hello, or set by an admin with `PATCH /api/sensors/:id`). A sensor sits in
 * the group of the deepest of those labels it has. A level missing above that one puts it in that level's
 * "unassigned" group (line=A without a site: unassigned site > line A); a sensor with none of the three sits in
 * the top-level "unassigned" group. Every group rolls up its sensors, nested ones included: the worst state by
 * the tile ranking (`sensor-state.ts`) and the count in each state. The dashboard's overview and
 * `GET /api/assets` build the same tree.
 */
import { stateCounts, worstOf, type TileState } from './sensor-state.js';

/** The grouping labels, outermost first. */
export const ASSET_LEVELS = ['site', 'line', 'machine'] as const;
export type AssetLevel = (typeof ASSET_LEVELS)[number];

/** A group's name when its level's label is missing. */
export const UNASSIGNED = 'unassigned';

/** One group of the tree, holding sensors of type `S` (the REST answer's `AssetSensor`, the dashboard's tiles). */
export interface AssetGroup<S = AssetSensor> {
  level: AssetLevel;
  /** The label's value; null for the level's "unassigned" group. */
  value: string | null;
  /** Unique path of the group, `site=plant-1/line=A` (`site=` for unassigned). */
  key: string;
  /** Groups one level down, by value (unassigned last). */
  children: AssetGroup<S>[];
  /** Sensors whose deepest grouping label is this group's, by name. */
  sensors: S[];
  /** The most urgent state among every sensor of the group, nested ones included. */
  worst: TileState;
  /** Sensors of the group (nested ones included) in each state. */
  counts: Record<TileState, number>;
  /** Sensors of the group, nested ones included. */
  total: number;
}

/** A sensor in `GET /api/assets`. */
export interface AssetSensor {
  id: string;
  name: string;
  state: TileState;
  labels: Record<string, string>;
}

/** `GET /api/assets`: the asset tree of every known sensor. */
export interface AssetTree {
  groups: AssetGroup[];
  /** Sensors in the tree. */
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
export const assetLabel = (g: Pick<AssetGroup<unknown>, 'level' | 'value'>): string =>
  g.value ?? (g.level === 'site' ? UNASSIGNED : `${UNASSIGNED} ${g.level}`);

const numeric = { numeric: true } as const;

/**
 * By name, then id, numerically ("Press 2" before "Press 10"): a stable order, so a sensor stays where the
 * operator last saw it while states change.
 */
export function compareSensors(a: { name: string; id: string }, b: { name: string; id: string }): number {
  return a.name.localeCompare(b.name, undefined, numeric) || a.id.localeCompare(b.id, undefined, numeric);
}

interface Node<S> {
  level: AssetLevel;
  value: string | null;
  key: string;
  children: Map<string | null, Node<S>>;
  sensors: S[];
}

/** By value ("Line 2" before "Line 10"), the unassigned group last. */
const compareGroups = (a: AssetGroup<unknown>, b: AssetGroup<unknown>): number =>
  a.value === null ? 1 : b.value === null ? -1 : a.value.localeCompare(b.value, undefined, numeric);

export interface AssetTreeInput<S> {
  labels(s: S): Record<string, string> | undefined;
  state(s: S): TileState;
  /** The order of a group's own sensors. */
  compare(a: S, b: S): number;
}

/** The asset tree of `sensors`, in a stable order. */
export function buildAssetTree<S>(sensors: Iterable<S>, by: AssetTreeInput<S>): AssetGroup<S>[] {
  const root = new Map<string | null, Node<S>>();
  for (const sensor of sensors) {
    const path = assetPath(by.labels(sensor));
    if (path.length === 0) path.push(null);
    let level = root;
    let node: Node<S> | undefined;
    for (let i = 0; i < path.length; i++) {
      node = level.get(path[i]);
      if (!node) {
        node = {
          level: ASSET_LEVELS[i],
          value: path[i],
          key: assetKey(path.slice(0, i + 1)),
          children: new Map(),
          sensors: [],
        };
        level.set(path[i], node);
      }
      level = node.children;
    }
    (node as Node<S>).sensors.push(sensor);
  }
  return finish(root, by);
}

function finish<S>(nodes: Map<string | null, Node<S>>, by: AssetTreeInput<S>): AssetGroup<S>[] {
  const out: AssetGroup<S>[] = [];
  for (const n of nodes.values()) {
    const children = finish(n.children, by);
    const sensors = [...n.sensors].sort(by.compare);
    const states = [...sensors, ...children.flatMap(assetSensors)].map(by.state);
    out.push({
      level: n.level,
      value: n.value,
      key: n.key,
      children,
      sensors,
      worst: worstOf(states),
      counts: stateCounts(states),
      total: states.length,
    });
  }
  return out.sort(compareGroups);
}

/** Every sensor of a group, nested ones included, in the tree's order (a group's own sensors first). */
export function assetSensors<S>(g: AssetGroup<S>): S[] {
  return [...g.sensors, ...g.children.flatMap(assetSensors)];
}
