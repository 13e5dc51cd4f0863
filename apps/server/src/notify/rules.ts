/**
 * Which rules an alert falls under (pure): sensors or label groups, severities, events, quiet hours.
 */
import type { Alert, NotificationRule, NotificationSeverity, QuietHours } from '@hark/protocol';

/**
 * The alert's severity for rules. The alert lifecycle adds `severity: 'warning' | 'critical'` to alerts; this
 * reads it when present and takes an alert without one (or with an unknown value) as `warning`, so rules work
 * before and after that field exists.
 */
export function severityOf(alert: Alert): NotificationSeverity {
  return (alert as { severity?: unknown }).severity === 'critical' ? 'critical' : 'warning';
}

/** What rules know of an alert's sensor. */
export interface SensorRef {
  id: string;
  labels: Record<string, string>;
}

/**
 * True when the rule covers the sensor: a rule without sensors and labels covers all; otherwise the sensor is
 * listed in `sensorIds` or carries every label of `labels` (its label group).
 */
export function ruleCoversSensor(
  rule: Pick<NotificationRule, 'sensorIds' | 'labels'>,
  sensor: SensorRef,
): boolean {
  const labels = Object.entries(rule.labels);
  if (rule.sensorIds.length === 0 && labels.length === 0) return true;
  if (rule.sensorIds.includes(sensor.id)) return true;
  return labels.length > 0 && labels.every(([k, v]) => sensor.labels[k] === v);
}

/** True when an enabled rule takes this alert (sensor and severity); events and quiet hours are apart. */
export function ruleMatches(rule: NotificationRule, alert: Alert, sensor: SensorRef): boolean {
  return rule.enabled && rule.severities.includes(severityOf(alert)) && ruleCoversSensor(rule, sensor);
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes after midnight of `HH:MM`, or null when it is not a 24-hour time. */
export function minutesOf(hhmm: string): number | null {
  const m = HHMM.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Minutes after local midnight in `timeZone` at `at` (ms). */
export function localMinutes(at: number, timeZone: string): number {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, f);
  }
  const parts = f.formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/**
 * True when `at` falls in the quiet hours: local time in [start, end), over midnight when end < start
 * (22:00-06:00); start = end means never.
 */
export function inQuietHours(q: QuietHours, at: number): boolean {
  const start = minutesOf(q.start);
  const end = minutesOf(q.end);
  if (start === null || end === null || start === end) return false;
  const now = localMinutes(at, q.timeZone);
  return start < end ? now >= start && now < end : now >= start || now < end;
}
