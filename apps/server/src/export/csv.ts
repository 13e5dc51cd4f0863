/**
 * Alerts as CSV (RFC 4180: comma-separated, CRLF lines, fields with a comma, quote or line break quoted,
 * quotes doubled), one row per alert. Text a person typed or named (notes, names, labels) that starts with
 * `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`, so a spreadsheet shows it rather than
 * running it as a formula (OWASP "CSV injection").
 */
import type { Alert } from '@hark/protocol';
import { severityOf } from '../notify/rules.js';

/** What the export knows of a sensor besides its id. */
export interface SensorInfo {
  name: string;
  labels: Record<string, string>;
}

export const ALERT_CSV_COLUMNS = [
  'id',
  'sensor_id',
  'sensor_name',
  'labels',
  'kind',
  'severity',
  'state',
  'active',
  'start',
  'end',
  'duration_s',
  'peak_score',
  'peak_at',
  'threshold',
  'acknowledged_by',
  'acknowledged_at',
  'resolved_by',
  'resolved_at',
  'clip',
  'annotations',
  'notes',
] as const;

const iso = (t: number | null) => (t === null ? '' : new Date(t).toISOString());

/** Quotes a field when it must be. */
export function csvField(value: string | number | boolean): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A typed text field, defused against formulas. */
export function csvText(value: string): string {
  return csvField(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
}

/** One alert's row (no line end). */
export function alertCsvRow(a: Alert, sensor: SensorInfo | undefined): string {
  const labels = Object.entries(sensor?.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
  const notes = a.annotations.map((n) => `${n.label}: ${n.text} (${n.author}, ${iso(n.at)})`).join(' | ');
  return [
    csvField(a.id),
    csvText(a.sensorId),
    csvText(sensor?.name ?? a.sensorId),
    csvText(labels),
    csvField(a.kind),
    csvField(severityOf(a)),
    csvField(a.state),
    csvField(a.active),
    csvField(iso(a.start)),
    csvField(iso(a.end)),
    csvField(a.end === null ? '' : ((a.end - a.start) / 1000).toFixed(1)),
    csvField(a.peakScore.toFixed(3)),
    csvField(iso(a.peakAt)),
    csvField(a.threshold),
    csvText(a.acknowledgedBy ?? ''),
    csvField(iso(a.acknowledgedAt)),
    csvText(a.resolvedBy ?? ''),
    csvField(iso(a.resolvedAt)),
    csvField(a.clip.available),
    csvField(a.annotations.length),
    csvText(notes),
  ].join(',');
}

/** The whole file: header, rows, CRLF after each line. */
export function alertsCsv(alerts: Iterable<Alert>, sensors: (id: string) => SensorInfo | undefined): string {
  const lines = [ALERT_CSV_COLUMNS.join(',')];
  for (const a of alerts) lines.push(alertCsvRow(a, sensors(a.sensorId)));
  return lines.join('\r\n') + '\r\n';
}
