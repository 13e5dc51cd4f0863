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
