/**
 * The notification settings forms as plain data (pure): what the admin types, turned into the REST bodies of
 * `/api/notifications/channels` and `/rules`, and a channel's target in one line for the tables.
 */
import type {
  ChannelKind,
  NotificationChannel,
  NotificationChannelInput,
  NotificationEvent,
  NotificationRuleInput,
  NotificationSeverity,
} from './contracts';

export interface ChannelFormState {
  name: string;
  kind: ChannelKind;
  /** webhook, slack, teams, mqtt */
  url: string;
  /** webhook's signing secret */
  secret: string;
  /** email */
  host: string;
  port: number | null;
  security: 'tls' | 'starttls' | 'none';
  user: string;
  password: string;
  from: string;
  /** comma-separated addresses */
  to: string;
  /** mqtt */
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  username: string;
}

export const emptyChannelForm = (): ChannelFormState => ({
  name: '',
  kind: 'mqtt',
  url: '',
  secret: '',
  host: '',
  port: null,
  security: 'starttls',
  user: '',
  password: '',
  from: '',
  to: '',
  topic: 'hark/alerts/{sensorId}',
  qos: 1,
  retain: false,
  username: '',
});

/** Comma- or newline-separated items, trimmed, empties left out. */
export const splitList = (s: string): string[] =>
  s
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter(Boolean);

/** The POST body of a channel form: only the kind's fields; empty optional fields left out. */
export function channelInput(f: ChannelFormState): NotificationChannelInput {
  const opt = (v: string) => (v.trim() ? v.trim() : undefined);
  let config: Record<string, unknown>;
  switch (f.kind) {
    case 'webhook':
      config = { url: f.url.trim(), secret: f.secret };
      break;
    case 'slack':
    case 'teams':
      config = { url: f.url.trim() };
      break;
    case 'email':
      config = {
        host: f.host.trim(),
        ...(f.port ? { port: f.port } : {}),
        security: f.security,
        user: opt(f.user),
        password: opt(f.password),
        from: f.from.trim(),
        to: splitList(f.to),
      };
      break;
    case 'mqtt':
      config = {
        url: f.url.trim(),
        topic: f.topic.trim(),
        qos: f.qos,
        retain: f.retain,
        username: opt(f.username),
        password: opt(f.password),
      };
      break;
  }
  return {
    name: f.name.trim(),
    kind: f.kind,
    config: Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)),
  };
}

/**
 * The form of a stored channel, to edit it: its settings; secret fields empty (they are never shown, and a
 * change that leaves them empty keeps them).
 */
export function channelFormOf(c: NotificationChannel): ChannelFormState {
  const k = c.config as unknown as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const f: ChannelFormState = { ...emptyChannelForm(), name: c.name, kind: c.kind, topic: '' };
  switch (c.kind) {
    case 'webhook':
      return { ...f, url: text(k.url) };
    case 'slack':
    case 'teams':
      return f;
    case 'email':
      return {
        ...f,
        host: text(k.host),
        port: typeof k.port === 'number' ? k.port : null,
        security: k.security as ChannelFormState['security'],
        user: text(k.user),
        from: text(k.from),
        to: ((k.to as string[] | undefined) ?? []).join(', '),
      };
    case 'mqtt':
      return {
        ...f,
        url: text(k.url),
        topic: text(k.topic),
        qos: k.qos as ChannelFormState['qos'],
        retain: k.retain === true,
        username: text(k.username),
      };
  }
}

/** Where a channel sends, in one line (no secrets: the API never returns them). */
export function channelTarget(c: NotificationChannel): string {
  const k = c.config as unknown as Record<string, unknown>;
  switch (c.kind) {
    case 'webhook':
      return String(k.url);
    case 'slack':
    case 'teams':
      return `${String(k.host)} (URL kept secret)`;
    case 'email':
      return `${(k.to as string[]).join(', ')} via ${String(k.host)}:${String(k.port)}`;
    case 'mqtt':
      return `${String(k.url)} topic ${String(k.topic)}`;
  }
}

export interface RuleFormState {
  name: string;
  channelId: number | null;
  /** comma-separated sensor ids */
  sensorIds: string;
  /** `key=value` pairs, comma-separated: a label group */
  labels: string;
  severities: NotificationSeverity[];
  events: NotificationEvent[];
  quiet: boolean;
  quietStart: string;
  quietEnd: string;
  timeZone: string;
  /** minutes; empty (null) or 0 for no escalation */
  escalateMinutes: number | null;
  escalateChannelId: number | null;
}

export const emptyRuleForm = (timeZone: string): RuleFormState => ({
  name: '',
  channelId: null,
  sensorIds: '',
  labels: '',
  severities: ['warning', 'critical'],
  events: ['alert.opened'],
  quiet: false,
  quietStart: '22:00',
  quietEnd: '06:00',
  timeZone,
  escalateMinutes: null,
  escalateChannelId: null,
});

/** `site=plant-1, line=A` as labels; throws naming the pair that has no `=`. */
export function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of splitList(s)) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new Error(`label '${pair}' must be written key=value, e.g. site=plant-1`);
    out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return out;
}

/** The POST body of a rule form. */
export function ruleInput(f: RuleFormState): NotificationRuleInput {
  if (f.channelId === null) throw new Error('choose the channel the rule sends to');
  const escalate = f.escalateMinutes !== null && f.escalateMinutes > 0;
  if (escalate && f.escalateChannelId === null) throw new Error('choose the channel to escalate to');
  return {
    name: f.name.trim(),
    channelId: f.channelId,
    sensorIds: splitList(f.sensorIds),
    labels: parseLabels(f.labels),
    severities: f.severities,
    events: f.events,
    quietHours: f.quiet ? { start: f.quietStart, end: f.quietEnd, timeZone: f.timeZone } : null,
    escalation: escalate
      ? { afterMinutes: f.escalateMinutes as number, channelId: f.escalateChannelId as number }
      : null,
  };
}
