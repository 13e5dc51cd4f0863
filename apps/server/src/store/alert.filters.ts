import {
  ALERT_KINDS,
  ALERT_SEVERITIES,
  ALERT_STATES,
  ANNOTATION_LABELS,
  type AlertKind,
  type AlertSeverity,
  type AlertState,
  type AnnotationLabel,
} from '@hark/protocol';
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
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
  for (const key of ['from', 'to'] as const) {
    const v = f[key];
    if (v !== undefined && !Number.isFinite(v))
      throw new InvalidArgumentError(`${key} (${v}) must be a time in ms`);
  }
  if (f.from !== undefined && f.to !== undefined && f.from > f.to) {
    throw new InvalidArgumentError(`from (${f.from}) must not be after to (${f.to})`);
  }
}
