/**
 * The bodies and queries of the REST API: each parser takes what Express parsed and returns a typed value or
 * throws a 400 naming the field and the value. Limits here are the API's; the store and runtime check theirs.
 */
import { BadRequestException } from '@nestjs/common';
import {
  ALERT_STATES,
  ALERT_KINDS,
  ALERT_SEVERITIES,
  ALERT_SORTS,
  ANNOTATION_LABELS,
  enrolSecondsProblem,
  HISTORY_DEFAULT_COLUMNS,
  HISTORY_MAX_COLUMNS,
  labelsProblem,
  MAX_ALERT_SEARCH_LENGTH,
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH,
  ROLES,
  SORT_ORDERS,
  type AlertSort,
  type AnnotationLabel,
  type Role,
} from '@hark/protocol';
import { PICTURE_KINDS, type PictureKind } from '../alerts/pictures.js';
import type { AlertFilters } from '../store/alert.filters.js';
import type { AlertOrder } from '../store/alert.order.js';
import { MAX_ALERT_PAGE } from '../store/alert.repository.js';
import type { SensorPatch } from '../store/sensor.repository.js';
import { MAX_BULK_ALERTS } from '../alerts/alert.service.js';
import { DEFAULT_SCORE_LIMIT, MAX_SCORE_LIMIT } from '../store/score.repository.js';
import {
  bodyObject,
  booleanField,
  invalid,
  numberField,
  oneOf,
  queryEnum,
  queryInt,
  queryList,
  queryString,
  sensorId,
  stringField,
} from './validate.js';

const MAX_MS = 8.64e15; // the largest JavaScript date

export interface AlertQuery {
  filters: AlertFilters;
  order: AlertOrder;
  limit: number;
  offset: number;
}

const ALERT_SORT_KEYS = Object.keys(ALERT_SORTS) as AlertSort[];

/**
 * `GET /api/alerts?sensorId&state&kind&severity&label&group&q&from&to&sort&order&limit&offset`: `group` is a
 * label group, `key:value` pairs separated by commas (`site:plant-a,line:2`), every pair required.
 */
export function parseAlertQuery(query: Record<string, unknown>): AlertQuery {
  const filters: AlertFilters = {};
  if (query.sensorId !== undefined) filters.sensorId = sensorId(query.sensorId, 'sensorId');
  const state = queryList(query, 'state', ALERT_STATES);
  if (state) filters.state = state;
  const kind = queryEnum(query, 'kind', ALERT_KINDS);
  if (kind) filters.kind = kind;
  const severity = queryEnum(query, 'severity', ALERT_SEVERITIES);
  if (severity) filters.severity = severity;
  const label = queryEnum(query, 'label', ANNOTATION_LABELS);
  if (label) filters.label = label;
  const group = queryString(query, 'group');
  if (group !== undefined) filters.labels = parseLabelGroup(group);
  const q = queryString(query, 'q');
  if (q !== undefined && q.trim() !== '') {
    if (q.length > MAX_ALERT_SEARCH_LENGTH)
      throw invalid('q', `${q.length} characters`, `must be at most ${MAX_ALERT_SEARCH_LENGTH}`);
    filters.q = q.trim();
  }
  Object.assign(filters, parseTimeRange(query));
  const sort = queryEnum(query, 'sort', ALERT_SORT_KEYS);
  const order = queryEnum(query, 'order', SORT_ORDERS);
  if (order && !sort) throw invalid('order', order, `needs a sort (one of ${ALERT_SORT_KEYS.join(', ')})`);
  return {
    filters,
    order: { sort, order },
    limit: queryInt(query, 'limit', 1, MAX_ALERT_PAGE, 50) as number,
    offset: queryInt(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0) as number,
  };
}

/** `site:plant-a,line:2` -> `{site: 'plant-a', line: '2'}` (a label group of the sensors' labels). */
export function parseLabelGroup(raw: string): Record<string, string> {
  const group: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const at = pair.indexOf(':');
    const key = pair.slice(0, at).trim();
    if (at < 1 || key === '')
      throw invalid('group', raw, "must be key:value pairs separated by commas, e.g. 'site:plant-a,line:2'");
    group[key] = pair.slice(at + 1).trim();
  }
  const problem = labelsProblem(group);
  if (problem) throw invalid('group', raw, `${problem.field} (${String(problem.value)}) ${problem.rule}`);
  return group;
}

/** `GET /api/sensors/:id/scores?from&to&limit`. */
export function parseScoreQuery(query: Record<string, unknown>): {
  from?: number;
  to?: number;
  limit: number;
} {
  return {
    ...parseTimeRange(query),
    limit: queryInt(query, 'limit', 1, MAX_SCORE_LIMIT, DEFAULT_SCORE_LIMIT) as number,
  };
}

/**
 * `GET /api/sensors/:id/history?from&to&maxColumns`: `to` defaults to `now`, `from` to an hour before `to`;
 * `from` must be before `to`.
 */
export function parseHistoryQuery(
  query: Record<string, unknown>,
  now: number,
): { from: number; to: number; maxColumns: number } {
  const to = queryInt(query, 'to', 1, MAX_MS) ?? now;
  const from = queryInt(query, 'from', 0, MAX_MS) ?? Math.max(0, to - 3600_000);
  if (from >= to) throw invalid('from', from, `must be before to (${to})`);
  return {
    from,
    to,
    maxColumns: queryInt(query, 'maxColumns', 1, HISTORY_MAX_COLUMNS, HISTORY_DEFAULT_COLUMNS) as number,
  };
}

function parseTimeRange(query: Record<string, unknown>): { from?: number; to?: number } {
  const out: { from?: number; to?: number } = {};
  const from = queryInt(query, 'from', 0, MAX_MS);
  const to = queryInt(query, 'to', 0, MAX_MS);
  if (from !== undefined) out.from = from;
  if (to !== undefined) out.to = to;
  if (from !== undefined && to !== undefined && from > to) {
    throw invalid('from', from, `must not be after to (${to})`);
  }
  return out;
}

/** `GET /api/alerts/:id/picture?kind=` (default `spectrogram`). */
export function parsePictureKind(query: Record<string, unknown>): PictureKind {
  return queryEnum(query, 'kind', PICTURE_KINDS) ?? 'spectrogram';
}

/** Bounds of a sensor's own severity thresholds (`PATCH /api/sensors/:id {severityThresholds}`). */
export const CRITICAL_PEAK_RANGE = [1, 1000] as const;
export const CRITICAL_SECONDS_RANGE = [0, 86400] as const;

/** `PATCH /api/sensors/:id {name?, labels?, severityThresholds?: {criticalPeak?, criticalSeconds?}}`. */
export function parseSensorPatch(raw: unknown): SensorPatch {
  const body = bodyObject(raw);
  const patch: SensorPatch = {};
  if (body.severityThresholds !== undefined) {
    const t = body.severityThresholds;
    if (typeof t !== 'object' || t === null || Array.isArray(t))
      throw invalid('severityThresholds', t, 'must be an object {criticalPeak?, criticalSeconds?}');
    const fields = t as Record<string, unknown>;
    for (const k of Object.keys(fields)) {
      if (k !== 'criticalPeak' && k !== 'criticalSeconds')
        throw invalid(
          `severityThresholds.${k}`,
          fields[k],
          'is not a setting: use criticalPeak or criticalSeconds',
        );
    }
    patch.severityThresholds = {};
    const [pMin, pMax] = CRITICAL_PEAK_RANGE;
    const [sMin, sMax] = CRITICAL_SECONDS_RANGE;
    // null: back to the server's default.
    if (fields.criticalPeak !== undefined)
      patch.severityThresholds.criticalPeak =
        fields.criticalPeak === null ? null : numberField(fields, 'criticalPeak', pMin, pMax);
    if (fields.criticalSeconds !== undefined)
      patch.severityThresholds.criticalSeconds =
        fields.criticalSeconds === null ? null : numberField(fields, 'criticalSeconds', sMin, sMax);
  }
  const name = stringField(body, 'name', { max: MAX_NAME_LENGTH });
  if (name !== undefined) patch.name = name;
  if (body.labels !== undefined) {
    const problem = labelsProblem(body.labels);
    if (problem) throw invalid(problem.field, problem.value, problem.rule);
    patch.labels = body.labels as Record<string, string>;
  }
  return patch;
}

/** `{seconds}` of snooze and enrol. */
export function parseSeconds(raw: unknown, min: number, max: number): number {
  return numberField(bodyObject(raw), 'seconds', min, max);
}

/** `POST /api/sensors/:id/enroll {seconds}`: the protocol's enrolment limits (the runtime's own). */
export function parseEnrolSeconds(raw: unknown): number {
  const seconds = bodyObject(raw).seconds;
  const problem = enrolSecondsProblem(seconds);
  if (problem) throw new BadRequestException(problem);
  return seconds as number;
}

/**
 * `?activate=now` of `POST /api/sensors/:id/enroll` and `POST /api/sensors/:id/model`: the new version replaces
 * the model at once instead of running in shadow first (true), or not given (false).
 */
export function parseActivate(query: Record<string, unknown>): boolean {
  const v = query.activate;
  if (v === undefined) return false;
  if (v === 'now') return true;
  throw invalid(
    'activate',
    v,
    "must be 'now' (replace the model at once, skipping the shadow trial) or left out (a shadow trial first)",
  );
}

/** `DELETE /api/sensors/:id?purge=true`: whether the sensor's data goes too. */
export function parsePurge(query: Record<string, unknown>): boolean {
  const v = query.purge;
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw invalid(
    'purge',
    v,
    "must be 'true' (remove the sensor's alerts, scores, history and models too) or 'false' / left out (keep them)",
  );
}

/** `POST /api/sensors/:id/feedback {alertId}`. */
export function parseFeedbackBody(raw: unknown): number {
  const alertId = bodyObject(raw).alertId;
  if (typeof alertId !== 'number' || !Number.isSafeInteger(alertId) || alertId < 1) {
    throw invalid('alertId', alertId, 'must be an alert id (an integer >= 1)');
  }
  return alertId;
}

/** `POST /api/alerts/:id/annotations {label, text}`. */
export function parseAnnotation(raw: unknown): { label: AnnotationLabel; text: string } {
  const body = bodyObject(raw);
  return {
    label: oneOf('label', body.label, ANNOTATION_LABELS),
    text: stringField(body, 'text', { max: MAX_TEXT_LENGTH, allowEmpty: true }) ?? '',
  };
}

/** `POST /api/alerts/:id/false-alarm {teach, text?}`. */
export function parseFalseAlarm(raw: unknown): { teach: boolean; text: string } {
  const body = bodyObject(raw);
  return {
    teach: booleanField(body, 'teach', false),
    text: stringField(body, 'text', { max: MAX_TEXT_LENGTH, allowEmpty: true }) ?? '',
  };
}

/**
 * `POST /api/alerts/ack` and `/resolve`: `{ids: [...]}` (1..500 alert ids), or a filter `{sensorId?, kind?,
 * severity?}` (at least one of them: a bulk step over every alert is spelt out, not implied by an empty body).
 */
export function parseBulkAlerts(raw: unknown): { ids: number[] } | { filters: AlertFilters } {
  const body = bodyObject(raw);
  if (body.ids !== undefined) {
    const ids = body.ids;
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > MAX_BULK_ALERTS)
      throw invalid('ids', ids, `must be an array of 1..${MAX_BULK_ALERTS} alert ids`);
    ids.forEach((id, i) => {
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1)
        throw invalid(`ids[${i}]`, id, 'must be an alert id (an integer >= 1)');
    });
    for (const k of ['sensorId', 'kind', 'severity'])
      if (body[k] !== undefined) throw invalid(k, body[k], 'cannot be combined with ids');
    return { ids: [...new Set(ids as number[])] };
  }
  const filters: AlertFilters = {};
  if (body.sensorId !== undefined) filters.sensorId = sensorId(body.sensorId, 'sensorId');
  if (body.kind !== undefined) filters.kind = oneOf('kind', body.kind, ALERT_KINDS);
  if (body.severity !== undefined) filters.severity = oneOf('severity', body.severity, ALERT_SEVERITIES);
  if (Object.keys(filters).length === 0)
    throw new BadRequestException(
      'give ids ({"ids": [1, 2]}) or a filter ({"sensorId": "pump-1"}, "kind", "severity"); ' +
        'to act on every alert, list their ids',
    );
  return { filters };
}

/** `POST /api/tokens {role, name}`. */
export function parseNewToken(raw: unknown): { role: Role; name: string; sensors?: string[] } {
  const body = bodyObject(raw);
  const token = {
    role: oneOf('role', body.role, ROLES),
    name: stringField(body, 'name', { max: MAX_NAME_LENGTH, required: true }) as string,
  };
  if (body.sensors === undefined) return token;
  if (!Array.isArray(body.sensors))
    throw new BadRequestException(
      `sensors (${JSON.stringify(body.sensors)}) must be an array of sensor ids, e.g. ["pump-1"]`,
    );
  return { ...token, sensors: body.sensors.map((id, i) => sensorId(id, `sensors[${i}]`)) };
}
