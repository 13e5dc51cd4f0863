/**
 * The alert list's filters and order, their REST query, and how live alert events change a displayed page.
 */
import {
  ALERT_SORTS,
  SORT_ORDERS,
  type Alert,
  type AlertKind,
  type AlertSort,
  type AlertState,
  type AnnotationLabel,
  type Page,
  type SortOrder,
} from './contracts';

export interface AlertFilter {
  sensorId?: string;
  state?: AlertState | '';
  kind?: AlertKind | '';
  label?: AnnotationLabel | '';
  /** A label group of the sensors: `site:plant-a` or `site:plant-a,line:2`. */
  group?: string;
  /** Words to find in the notes. */
  q?: string;
  /** ms epoch. */
  from?: number;
  to?: number;
  /** A column (server-side order); absent: open first, newest first. */
  sort?: AlertSort;
  order?: SortOrder;
  limit: number;
  offset: number;
}

/** The filter and order without paging: what the alert page carries to walk the same list (next / previous). */
export function listQuery(filter: AlertFilter): Record<string, string> {
  const { limit: _l, offset: _o, ...rest } = alertFilterQuery(filter);
  return rest;
}

/** The column's order after a click on its header: the other direction when it is sorted by, else its own. */
export function nextSort(filter: AlertFilter, sort: AlertSort): { sort: AlertSort; order: SortOrder } {
  const current = filter.sort === sort ? (filter.order ?? ALERT_SORTS[sort]) : undefined;
  if (current === undefined) return { sort, order: ALERT_SORTS[sort] };
  return { sort, order: current === 'asc' ? 'desc' : 'asc' };
}

export const DEFAULT_PAGE_SIZE = 25;

/** From the route's query (strings) to a filter. */
export function parseAlertFilter(query: Record<string, string>): AlertFilter {
  const num = (v: string | undefined) =>
    v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined;
  const sort = Object.hasOwn(ALERT_SORTS, query.sort ?? '') ? (query.sort as AlertSort) : undefined;
  return {
    sensorId: query.sensorId || undefined,
    state: (query.state as AlertState) || undefined,
    kind: (query.kind as AlertKind) || undefined,
    label: (query.label as AnnotationLabel) || undefined,
    group: query.group || undefined,
    q: query.q?.trim() || undefined,
    from: num(query.from),
    to: num(query.to),
    sort,
    order: sort && SORT_ORDERS.includes(query.order as SortOrder) ? (query.order as SortOrder) : undefined,
    limit: Math.min(200, Math.max(1, num(query.limit) ?? DEFAULT_PAGE_SIZE)),
    offset: Math.max(0, num(query.offset) ?? 0),
  };
}

/** Filter -> `Record` for the route and for `GET /api/alerts` (empty values left out). */
export function alertFilterQuery(filter: AlertFilter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(filter)) {
    if (v === undefined || v === null || v === '') continue;
    out[k] = String(v);
  }
  return out;
}

/** `site:plant-a,line:2` -> its pairs (as the server reads `group`). */
export function parseGroup(group: string): [string, string][] {
  return group.split(',').map((pair) => {
    const at = pair.indexOf(':');
    return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
  });
}

/**
 * Whether an alert belongs in a list with this filter (ignoring paging), as the server decides: `labels` are
 * the alert's sensor's labels (for `group`), and every word of `q` must be in one of its notes.
 */
export function matchesAlertFilter(
  alert: Alert,
  filter: AlertFilter,
  labels: Record<string, string> = {},
): boolean {
  if (filter.sensorId && alert.sensorId !== filter.sensorId) return false;
  if (filter.state && alert.state !== filter.state) return false;
  if (filter.kind && alert.kind !== filter.kind) return false;
  if (filter.label && !alert.annotations.some((a) => a.label === filter.label)) return false;
  if (filter.from !== undefined && (alert.end ?? Infinity) < filter.from) return false;
  if (filter.to !== undefined && alert.start > filter.to) return false;
  if (filter.group && !parseGroup(filter.group).every(([k, v]) => labels[k] === v)) return false;
  if (filter.q) {
    const notes = alert.annotations.map((n) => n.text.toLowerCase());
    const words = filter.q.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.every((w) => notes.some((n) => n.includes(w)))) return false;
  }
  return true;
}

const STATE_ORDER: Record<AlertState, number> = { open: 0, acknowledged: 1, resolved: 2 };

/** The server's list order: open first, then newest first. */
export function compareAlerts(a: Alert, b: Alert): number {
  return STATE_ORDER[a.state] - STATE_ORDER[b.state] || b.start - a.start || b.id - a.id;
}

/**
 * A live `alert` / `alert:update` applied to the page on screen: a known row is replaced (or dropped when it
 * no longer matches); a new matching alert is inserted only on the first page of the default order (later
 * pages, and a list sorted by a column, would shift under the reader: they count it in `total`).
 */
export function applyAlertToPage(
  page: Page<Alert>,
  alert: Alert,
  filter: AlertFilter,
  labels: Record<string, string> = {},
): Page<Alert> {
  const index = page.items.findIndex((a) => a.id === alert.id);
  const matches = matchesAlertFilter(alert, filter, labels);
  if (index >= 0) {
    const items = page.items.slice();
    if (matches) items[index] = alert;
    else items.splice(index, 1);
    if (!filter.sort) items.sort(compareAlerts);
    return { ...page, items, total: page.total - (matches ? 0 : 1) };
  }
  if (!matches) return page;
  if (page.offset > 0 || filter.sort) return { ...page, total: page.total + 1 };
  const items = [...page.items, alert].sort(compareAlerts).slice(0, page.limit);
  return { ...page, items, total: page.total + 1 };
}
