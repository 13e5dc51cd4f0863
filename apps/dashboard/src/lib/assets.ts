/**
 * The overview's asset groups: `@hark/protocol`'s site > line > machine tree (`assets.ts` there says where a
 * sensor with missing labels goes) over the tiles, and the sensor settings form's labels.
 */
import {
  ASSET_LEVELS,
  assetSensors,
  buildAssetTree as buildTree,
  type AssetGroup as Group,
  type AssetLevel,
} from '@hark/protocol';
import { compareTiles, type Tile } from './tiles';

export { ASSET_LEVELS, assetLabel, assetPath, UNASSIGNED, type AssetLevel } from '@hark/protocol';

/** A group of tiles. */
export type AssetGroup = Group<Tile>;

/** The asset tree of `tiles` (already filtered), tiles by name inside each group. */
export function buildAssetTree(tiles: readonly Tile[]): AssetGroup[] {
  return buildTree(tiles, { labels: (t) => t.status.labels, state: (t) => t.state, compare: compareTiles });
}

/** Every tile of a group, nested ones included, in the tree's order (a group's own tiles first). */
export const allTiles = (g: AssetGroup): Tile[] => assetSensors(g);

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
