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
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { InvalidArgumentError } from './errors.js';
import type { AlertsTable, Schema } from './schema.js';

/** Queries over `alerts a` (the filters name the alias). */
export type AlertsQuery = Schema & { a: AlertsTable };

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

/**
 * The `WHERE` of `filters` over `alerts a`, validating each filter (a bad one throws when the query is built):
 * `query.where(alertWhere(filters))`.
 */
export function alertWhere(f: AlertFilters) {
  checkFilters(f);
  return (eb: ExpressionBuilder<AlertsQuery, 'a'>): Expression<SqlBool> => {
    const terms: Expression<SqlBool>[] = [];
    if (f.sensorId !== undefined) terms.push(eb('a.sensor_id', '=', f.sensorId));
    const states = f.state === undefined ? [] : Array.isArray(f.state) ? f.state : [f.state];
    if (states.length > 0) terms.push(eb('a.state', 'in', states));
    if (f.kind !== undefined) terms.push(eb('a.kind', '=', f.kind));
    if (f.severity !== undefined) terms.push(eb('a.severity', '=', f.severity));
    if (f.label !== undefined) {
      const label = f.label;
      terms.push(
        eb.exists(
          eb
            .selectFrom('annotations as n')
            .select('n.id')
            .whereRef('n.alert_id', '=', 'a.id')
            .where('n.label', '=', label),
        ),
      );
    }
    if (f.q !== undefined) {
      for (const pattern of searchTerms(f.q)) {
        terms.push(
          eb.exists(
            eb
              .selectFrom('annotations as n')
              .select('n.id')
              .whereRef('n.alert_id', '=', 'a.id')
              .where(sql<SqlBool>`LOWER(n.text) LIKE ${pattern} ESCAPE '\\'`),
          ),
        );
      }
    }
    if (f.sensorIds !== undefined) {
      if (f.sensorIds.length === 0) terms.push(sql<SqlBool>`1 = 0`);
      else terms.push(eb('a.sensor_id', 'in', f.sensorIds));
    }
    if (f.from !== undefined) terms.push(eb.or([eb('a.end_at', 'is', null), eb('a.end_at', '>=', f.from)]));
    if (f.to !== undefined) terms.push(eb('a.start_at', '<=', f.to));
    return eb.and(terms);
  };
}

/** Throws an `InvalidArgumentError` naming the first bad filter. */
function checkFilters(f: AlertFilters): void {
  if (f.state !== undefined) {
    for (const s of Array.isArray(f.state) ? f.state : [f.state]) {
      if (!ALERT_STATES.includes(s)) {
        throw new InvalidArgumentError(`state '${s}' must be one of ${ALERT_STATES.join(', ')}`);
      }
    }
  }
  if (f.kind !== undefined && !ALERT_KINDS.includes(f.kind))
    throw new InvalidArgumentError(`kind '${f.kind}' must be one of ${ALERT_KINDS.join(', ')}`);
  if (f.severity !== undefined && !ALERT_SEVERITIES.includes(f.severity))
    throw new InvalidArgumentError(`severity '${f.severity}' must be one of ${ALERT_SEVERITIES.join(', ')}`);
  if (f.label !== undefined && !ANNOTATION_LABELS.includes(f.label)) {
    throw new InvalidArgumentError(`label '${f.label}' must be one of ${ANNOTATION_LABELS.join(', ')}`);
  }
  if (f.q !== undefined) searchTerms(f.q);
  for (const key of ['from', 'to'] as const) {
    const v = f[key];
    if (v !== undefined && !Number.isFinite(v))
      throw new InvalidArgumentError(`${key} (${v}) must be a time in ms`);
  }
  if (f.from !== undefined && f.to !== undefined && f.from > f.to) {
    throw new InvalidArgumentError(`from (${f.from}) must not be after to (${f.to})`);
  }
}
