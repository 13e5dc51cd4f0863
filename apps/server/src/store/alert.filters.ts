import {
  ALERT_KINDS,
  ALERT_SEVERITIES,
  ALERT_STATES,
  ANNOTATION_LABELS,
  MAX_ALERT_SEARCH_LENGTH,
  MAX_ALERT_SEARCH_TERMS,
  type AlertKind,
  type AlertSeverity,
  type AlertState,
  type AnnotationLabel,
} from '@hark/protocol';
import { InvalidArgumentError } from './errors.js';

/** Filters of `GET /api/alerts`; all optional, combined with AND. */
export interface AlertFilters {
  sensorId?: string;
  state?: AlertState | AlertState[];
  kind?: AlertKind;
  severity?: AlertSeverity;
  /** Alerts with at least one annotation of this label. */
  label?: AnnotationLabel;
  /** Alerts overlapping `[from, to]`: started at or before `to`, not ended before `from`. */
  from?: number;
  to?: number;
  /**
   * Words that must each appear in one of the alert's notes (annotation texts), case-insensitive, as
   * substrings ("bear" finds "bearing"). See {@link searchTerms} for why this is LIKE and not FTS5.
   */
  q?: string;
  /**
   * A label group: alerts of sensors carrying every one of these labels (`{site: 'plant-a'}`). The
   * repository turns it into `sensorIds` (labels are stored as JSON, whose operators differ between SQLite
   * and PostgreSQL; a plant has hundreds of sensors at most, so matching them in JS costs nothing).
   */
  labels?: Record<string, string>;
  /** Alerts of these sensors only (an empty list matches nothing). */
  sensorIds?: string[];
}

/**
 * The words of a notes search, lower-cased, as `LIKE` patterns (`%`, `_` and `\` escaped).
 *
 * Why `LIKE` and not SQLite's FTS5: notes are short operator texts, a few per alert, so a scan of the
 * matching alerts' annotations is cheap at the sizes a plant reaches (tens of thousands of alerts); the same
 * SQL runs on PostgreSQL (FTS5 would need a second index kept in step, and PostgreSQL its own tsvector); and
 * operators search for parts of words and part numbers ("bear", "B-12"), which a word index does not find.
 * `LOWER(text) LIKE lower(pattern)` is case-insensitive on both (SQLite's `LIKE` alone is, PostgreSQL's not);
 * SQLite's `LOWER` folds ASCII letters only, so there 'Ü' and 'ü' stay different.
 */
export function searchTerms(q: string): string[] {
  if (q.length > MAX_ALERT_SEARCH_LENGTH)
    throw new InvalidArgumentError(
      `q (${q.length} characters) must be at most ${MAX_ALERT_SEARCH_LENGTH} characters`,
    );
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length > MAX_ALERT_SEARCH_TERMS)
    throw new InvalidArgumentError(
      `q ('${q}') has ${words.length} words; search with at most ${MAX_ALERT_SEARCH_TERMS}`,
    );
  return words.map((w) => `%${w.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
}

/** The SQL `WHERE` of `filters` over `alerts a`, validating each filter. */
export function whereClause(f: AlertFilters): { where: string; params: Record<string, string | number> } {
  const terms: string[] = [];
  const params: Record<string, string | number> = {};
  if (f.sensorId !== undefined) {
    terms.push('a.sensor_id = @sensorId');
    params.sensorId = f.sensorId;
  }
  if (f.state !== undefined) {
    const states = Array.isArray(f.state) ? f.state : [f.state];
    for (const s of states) {
      if (!ALERT_STATES.includes(s)) {
        throw new InvalidArgumentError(`state '${s}' must be one of ${ALERT_STATES.join(', ')}`);
      }
    }
    if (states.length > 0) {
      terms.push(`a.state IN (${states.map((_, i) => `@state${i}`).join(',')})`);
      states.forEach((s, i) => (params[`state${i}`] = s));
    }
  }
  if (f.kind !== undefined) {
    if (!ALERT_KINDS.includes(f.kind))
      throw new InvalidArgumentError(`kind '${f.kind}' must be one of ${ALERT_KINDS.join(', ')}`);
    terms.push('a.kind = @kind');
    params.kind = f.kind;
  }
  if (f.severity !== undefined) {
    if (!ALERT_SEVERITIES.includes(f.severity))
      throw new InvalidArgumentError(
        `severity '${f.severity}' must be one of ${ALERT_SEVERITIES.join(', ')}`,
      );
    terms.push('a.severity = @severity');
    params.severity = f.severity;
  }
  if (f.label !== undefined) {
    if (!ANNOTATION_LABELS.includes(f.label)) {
      throw new InvalidArgumentError(`label '${f.label}' must be one of ${ANNOTATION_LABELS.join(', ')}`);
    }
    terms.push('EXISTS (SELECT 1 FROM annotations n WHERE n.alert_id = a.id AND n.label = @label)');
    params.label = f.label;
  }
  if (f.q !== undefined) {
    searchTerms(f.q).forEach((pattern, i) => {
      terms.push(
        `EXISTS (SELECT 1 FROM annotations n WHERE n.alert_id = a.id AND LOWER(n.text) LIKE @q${i} ESCAPE '\\')`,
      );
      params[`q${i}`] = pattern;
    });
  }
  if (f.sensorIds !== undefined) {
    if (f.sensorIds.length === 0) terms.push('1 = 0');
    else {
      terms.push(`a.sensor_id IN (${f.sensorIds.map((_, i) => `@sensor${i}`).join(',')})`);
      f.sensorIds.forEach((id, i) => (params[`sensor${i}`] = id));
    }
  }
  for (const key of ['from', 'to'] as const) {
    const v = f[key];
    if (v !== undefined && !Number.isFinite(v))
      throw new InvalidArgumentError(`${key} (${v}) must be a time in ms`);
  }
  if (f.from !== undefined && f.to !== undefined && f.from > f.to) {
    throw new InvalidArgumentError(`from (${f.from}) must not be after to (${f.to})`);
  }
  if (f.from !== undefined) {
    terms.push('(a.end_at IS NULL OR a.end_at >= @from)');
    params.from = f.from;
  }
  if (f.to !== undefined) {
    terms.push('a.start_at <= @to');
    params.to = f.to;
  }
  return { where: terms.length ? `WHERE ${terms.join(' AND ')}` : '', params };
}
