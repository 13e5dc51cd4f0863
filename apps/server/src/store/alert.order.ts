/**
 * The order of `GET /api/alerts` (the `sort` whitelist of `ALERT_SORTS`) as SQL, and the keyset conditions
 * that find the alerts before and after one in that order (next / previous on the alert page). Plain SQL that
 * SQLite and PostgreSQL both run: `CASE`, a scalar subquery, `AND` / `OR` comparisons (no row values).
 */
import { ALERT_SORTS, type AlertSort, type SortOrder } from '@hark/protocol';

/** One sort key: an SQL expression over `alerts a` (never NULL) and its direction. */
export interface SortKey {
  expr: string;
  dir: SortOrder;
}

const STATE_RANK = `CASE a.state WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END`;

/** Each sortable column's expression; the sensor sorts by its display name (the id when it has none). */
const SORT_EXPR: Record<AlertSort, string> = {
  start: 'a.start_at',
  peakScore: 'a.peak_score',
  count: 'a.occurrences',
  severity: `CASE a.severity WHEN 'critical' THEN 1 ELSE 0 END`,
  id: 'a.id',
  sensor: `COALESCE((SELECT NULLIF(s.name, '') FROM sensors s WHERE s.id = a.sensor_id), a.sensor_id)`,
  state: STATE_RANK,
  kind: 'a.kind',
};

/** How the list is ordered; `sort` absent: open first, then acknowledged, then resolved, newest first. */
export interface AlertOrder {
  sort?: AlertSort;
  /** Default: the column's own (`ALERT_SORTS`). */
  order?: SortOrder;
}

/** The keys of an order, always ending with the id so that no two alerts tie. */
export function sortKeys(o: AlertOrder = {}): SortKey[] {
  if (o.sort === undefined)
    return [
      { expr: STATE_RANK, dir: 'asc' },
      { expr: 'a.start_at', dir: 'desc' },
      { expr: 'a.id', dir: 'desc' },
    ];
  const dir = o.order ?? ALERT_SORTS[o.sort];
  return o.sort === 'id'
    ? [{ expr: 'a.id', dir }]
    : [
        { expr: SORT_EXPR[o.sort], dir },
        { expr: 'a.id', dir },
      ];
}

/** `ORDER BY ...` of the keys, or of their reverse (`reverse`: walking backwards from an alert). */
export function orderBy(keys: SortKey[], reverse = false): string {
  const flip = (d: SortOrder) => (reverse ? (d === 'asc' ? 'DESC' : 'ASC') : d.toUpperCase());
  return `ORDER BY ${keys.map((k) => `${k.expr} ${flip(k.dir)}`).join(', ')}`;
}

/**
 * The condition "comes after (or, with `before`, before) the row whose key values are the parameters
 * `@k0`, `@k1`, ...": `e0 > k0 OR (e0 = k0 AND e1 > k1) OR ...`, with `<` for descending keys.
 */
export function keysetCondition(keys: SortKey[], before = false): string {
  const ors = keys.map((k, i) => {
    const ascending = (k.dir === 'asc') !== before;
    const eqs = keys.slice(0, i).map((p, j) => `${p.expr} = @k${j}`);
    return `(${[...eqs, `${k.expr} ${ascending ? '>' : '<'} @k${i}`].join(' AND ')})`;
  });
  return `(${ors.join(' OR ')})`;
}

/** `SELECT e0 AS k0, e1 AS k1, ...`: an alert's key values, for {@link keysetCondition}. */
export function keyColumns(keys: SortKey[]): string {
  return keys.map((k, i) => `${k.expr} AS k${i}`).join(', ');
}
