/** The alert list's filters, their REST query, and how live alert events change a displayed page. */
import type { Alert, AlertKind, AlertState, AnnotationLabel, Page } from './contracts';

export interface AlertFilter {
  sensorId?: string;
  state?: AlertState | '';
  kind?: AlertKind | '';
  label?: AnnotationLabel | '';
  /** ms epoch. */
  from?: number;
  to?: number;
  limit: number;
  offset: number;
}

export const DEFAULT_PAGE_SIZE = 25;

/** From the route's query (strings) to a filter. */
export function parseAlertFilter(query: Record<string, string>): AlertFilter {
  const num = (v: string | undefined) =>
    v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined;
  return {
    sensorId: query.sensorId || undefined,
    state: (query.state as AlertState) || undefined,
    kind: (query.kind as AlertKind) || undefined,
    label: (query.label as AnnotationLabel) || undefined,
    from: num(query.from),
    to: num(query.to),
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

/** Whether an alert belongs in a list with this filter (ignoring paging). */
export function matchesAlertFilter(alert: Alert, filter: AlertFilter): boolean {
  if (filter.sensorId && alert.sensorId !== filter.sensorId) return false;
  if (filter.state && alert.state !== filter.state) return false;
  if (filter.kind && alert.kind !== filter.kind) return false;
  if (filter.label && !alert.annotations.some((a) => a.label === filter.label)) return false;
  if (filter.from !== undefined && (alert.end ?? Infinity) < filter.from) return false;
  if (filter.to !== undefined && alert.start > filter.to) return false;
  return true;
}

const STATE_ORDER: Record<AlertState, number> = { open: 0, acknowledged: 1, resolved: 2 };

/** The server's list order: open first, then newest first. */
export function compareAlerts(a: Alert, b: Alert): number {
  return STATE_ORDER[a.state] - STATE_ORDER[b.state] || b.start - a.start || b.id - a.id;
}

/**
 * A live `alert` / `alert:update` applied to the page on screen: a known row is replaced (or dropped when it
 * no longer matches); a new matching alert is inserted only on the first page (later pages would shift
 * under the reader: they count it in `total`).
 */
export function applyAlertToPage(page: Page<Alert>, alert: Alert, filter: AlertFilter): Page<Alert> {
  const index = page.items.findIndex((a) => a.id === alert.id);
  const matches = matchesAlertFilter(alert, filter);
  if (index >= 0) {
    const items = page.items.slice();
    if (matches) items[index] = alert;
    else items.splice(index, 1);
    return { ...page, items: items.sort(compareAlerts), total: page.total - (matches ? 0 : 1) };
  }
  if (!matches) return page;
  if (page.offset > 0) return { ...page, total: page.total + 1 };
  const items = [...page.items, alert].sort(compareAlerts).slice(0, page.limit);
  return { ...page, items, total: page.total + 1 };
}
