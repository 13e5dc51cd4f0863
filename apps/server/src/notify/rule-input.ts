/**
 * Rules as an admin writes them (`POST` / `PATCH /api/notifications/rules`), checked field by field. The
 * channels a rule names must exist (the caller passes the lookup).
 */
import {
  MAX_NAME_LENGTH,
  NOTIFICATION_SEVERITIES,
  RULE_EVENTS,
  labelsProblem,
  sensorIdProblem,
  type Escalation,
  type NotificationRule,
  type NotificationRuleInput,
  type QuietHours,
} from '@hark/protocol';
import { InvalidArgumentError } from '../store/errors.js';
import type { NewRule } from '../store/notification.repository.js';
import { isTimeZone, minutesOf } from './rules.js';
import { showValue as show } from '../show.js';

/** Longest escalation wait: a week, in minutes. */
export const MAX_ESCALATION_MINUTES = 7 * 24 * 60;
/** Most sensor ids one rule lists. */
export const MAX_RULE_SENSORS = 500;

const bad = (field: string, value: unknown, rule: string) =>
  new InvalidArgumentError(`${field} (${show(value)}) ${rule}`);

function listOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T[] {
  if (!Array.isArray(v) || v.length === 0)
    throw bad(field, v, `must be a non-empty array of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  for (const x of v)
    if (!allowed.includes(x as T))
      throw bad(field, x, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  return [...new Set(v as T[])];
}

function quietHoursOf(v: unknown): QuietHours | null {
  if (v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v))
    throw bad(
      'quietHours',
      v,
      'must be null or {"start": "22:00", "end": "06:00", "timeZone": "Europe/Berlin"}',
    );
  const q = v as Record<string, unknown>;
  for (const f of ['start', 'end'] as const)
    if (typeof q[f] !== 'string' || minutesOf(q[f]) === null)
      throw bad(`quietHours.${f}`, q[f], 'must be a 24-hour time HH:MM, e.g. "22:00"');
  if (typeof q.timeZone !== 'string' || !isTimeZone(q.timeZone))
    throw bad(
      'quietHours.timeZone',
      q.timeZone,
      'must be an IANA time zone such as "Europe/Berlin" or "UTC"',
    );
  return { start: q.start as string, end: q.end as string, timeZone: q.timeZone };
}

function escalationOf(v: unknown, channelExists: (id: number) => boolean): Escalation | null {
  if (v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v))
    throw bad('escalation', v, 'must be null or {"afterMinutes": 15, "channelId": 2}');
  const e = v as Record<string, unknown>;
  const after = e.afterMinutes;
  if (typeof after !== 'number' || !Number.isFinite(after) || after <= 0 || after > MAX_ESCALATION_MINUTES)
    throw bad(
      'escalation.afterMinutes',
      after,
      `must be a number of minutes > 0 and <= ${MAX_ESCALATION_MINUTES}`,
    );
  return { afterMinutes: after, channelId: channelIdOf('escalation.channelId', e.channelId, channelExists) };
}

function channelIdOf(field: string, v: unknown, channelExists: (id: number) => boolean): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw bad(field, v, 'must be a channel id');
  if (!channelExists(v))
    throw bad(
      field,
      v,
      'is no notification channel; create it first (GET /api/notifications/channels lists them)',
    );
  return v;
}

/**
 * The rule `input` makes of `base` (the stored rule on PATCH, else the defaults): every field given replaces
 * the base's, checked.
 */
export function parseRule(
  input: NotificationRuleInput,
  base: NewRule | null,
  channelExists: (id: number) => boolean,
): NewRule {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw bad('the request body', input, 'must be a JSON object');
  const rule: NewRule = base ?? {
    name: '',
    enabled: true,
    channelId: 0,
    sensorIds: [],
    labels: {},
    severities: [...NOTIFICATION_SEVERITIES],
    events: ['alert.opened'],
    quietHours: null,
    escalation: null,
  };
  const out = { ...rule };
  if (input.name !== undefined || !base) {
    const n = input.name;
    if (typeof n !== 'string' || n.trim().length === 0 || n.length > MAX_NAME_LENGTH)
      throw bad('name', n, `must be a string of 1-${MAX_NAME_LENGTH} characters`);
    out.name = n.trim();
  }
  if (input.channelId !== undefined || !base)
    out.channelId = channelIdOf('channelId', input.channelId, channelExists);
  if (input.enabled !== undefined) {
    if (typeof input.enabled !== 'boolean') throw bad('enabled', input.enabled, 'must be true or false');
    out.enabled = input.enabled;
  }
  if (input.sensorIds !== undefined) {
    const ids: unknown = input.sensorIds;
    if (!Array.isArray(ids) || ids.length > MAX_RULE_SENSORS)
      throw bad('sensorIds', ids, `must be an array of at most ${MAX_RULE_SENSORS} sensor ids ([] for all)`);
    ids.forEach((id, i) => {
      const problem = sensorIdProblem(id);
      if (problem) throw bad(`sensorIds[${i}]`, id, problem);
    });
    out.sensorIds = [...new Set(ids as string[])];
  }
  if (input.labels !== undefined) {
    const problem = labelsProblem(input.labels);
    if (problem) throw bad(problem.field, problem.value, problem.rule);
    out.labels = { ...input.labels };
  }
  if (input.severities !== undefined)
    out.severities = listOf('severities', input.severities, NOTIFICATION_SEVERITIES);
  if (input.events !== undefined) out.events = listOf('events', input.events, RULE_EVENTS);
  if (input.quietHours !== undefined) out.quietHours = quietHoursOf(input.quietHours);
  if (input.escalation !== undefined) out.escalation = escalationOf(input.escalation, channelExists);
  if (out.escalation && out.escalation.channelId === out.channelId)
    throw bad(
      'escalation.channelId',
      out.escalation.channelId,
      "must differ from the rule's channelId (escalate to a second channel)",
    );
  return out;
}

/** The fields of a stored rule that `parseRule` takes as its base. */
export const ruleBase = ({ id: _i, createdAt: _c, updatedAt: _u, ...rule }: NotificationRule): NewRule =>
  rule;
