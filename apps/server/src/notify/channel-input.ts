/**
 * Channel settings as an admin writes them (`POST` / `PATCH /api/notifications/channels`): checked, split into
 * the shown settings and the secret fields, and shown back without the secrets. Errors name the field, the
 * value and the fix.
 */
import {
  CHANNEL_KINDS,
  MAX_NAME_LENGTH,
  SMTP_SECURITY,
  type ChannelKind,
  type NotificationChannel,
  type NotificationChannelInput,
} from '@hark/protocol';
import { InvalidArgumentError } from '../store/errors.js';
import type { ChannelRecord, NewChannel } from '../store/notification.repository.js';

/** The fields of each kind that are secrets: stored, never shown. */
export const SECRET_FIELDS: Record<ChannelKind, readonly string[]> = {
  webhook: ['secret'],
  slack: ['url'],
  teams: ['url'],
  email: ['password'],
  mqtt: ['password'],
};

/** Longest URL, host, topic, address or secret accepted. */
const MAX_FIELD = 2000;
/** Most e-mail recipients of one channel. */
export const MAX_RECIPIENTS = 50;

const bad = (field: string, value: unknown, rule: string) =>
  new InvalidArgumentError(
    `${field} (${typeof value === 'string' ? `'${value}'` : value === undefined ? 'missing' : JSON.stringify(value)}) ${rule}`,
  );

function text(
  o: Record<string, unknown>,
  field: string,
  required: boolean,
  prefix = 'config.',
): string | null {
  const v = o[field];
  if (v === undefined || v === null || v === '') {
    if (required) throw bad(prefix + field, v, 'is required');
    return null;
  }
  if (typeof v !== 'string' || v.length > MAX_FIELD)
    throw bad(prefix + field, v, `must be a string of at most ${MAX_FIELD} characters`);
  return v.trim();
}

function url(o: Record<string, unknown>, field: string, protocols: string[], example: string): string {
  const v = text(o, field, true) as string;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(`config.${field}`, v, `is not a URL; write it like ${example}`);
  }
  if (!protocols.includes(u.protocol))
    throw bad(`config.${field}`, v, `must use ${protocols.map((p) => p.replace(':', '')).join(' or ')}`);
  if (u.password)
    throw bad(
      `config.${field}`,
      v.replace(u.password, '***'),
      'must not hold a password: use config.password',
    );
  return v;
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

function address(field: string, v: unknown): string {
  if (typeof v !== 'string' || !EMAIL.test(v.trim()) || v.length > 320)
    throw bad(field, v, 'must be an e-mail address such as ops@plant.example');
  return v.trim();
}

/** The shown settings of a kind, from `config` (secret fields are read by `secretsOf`). */
function settingsOf(kind: ChannelKind, c: Record<string, unknown>): Record<string, unknown> {
  switch (kind) {
    case 'webhook':
      return { url: url(c, 'url', ['http:', 'https:'], 'https://receiver.example/hark') };
    case 'slack':
    case 'teams':
      // The URL is the secret; only its host is kept in the open.
      return {
        host: new URL(url(c, 'url', ['https:', 'http:'], 'https://hooks.slack.com/services/...')).host,
      };
    case 'email': {
      const port = c.port ?? (c.security === 'tls' ? 465 : 587);
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
        throw bad('config.port', port, 'must be a port number 1..65535');
      const security = c.security ?? 'starttls';
      if (!SMTP_SECURITY.includes(security as never))
        throw bad(
          'config.security',
          security,
          `must be one of ${SMTP_SECURITY.map((s) => `'${s}'`).join(', ')}`,
        );
      const to = typeof c.to === 'string' ? c.to.split(',') : c.to;
      if (!Array.isArray(to) || to.length === 0 || to.length > MAX_RECIPIENTS)
        throw bad('config.to', c.to, `must list 1..${MAX_RECIPIENTS} e-mail addresses`);
      return {
        host: text(c, 'host', true),
        port,
        security,
        user: text(c, 'user', false),
        from: address('config.from', c.from),
        to: to.map((a, i) => address(`config.to[${i}]`, a)),
      };
    }
    case 'mqtt': {
      const topic = text(c, 'topic', true) as string;
      if (/[#+]/.test(topic) || topic.includes('\0'))
        throw bad(
          'config.topic',
          topic,
          "must not hold the wildcards '#' or '+' (a message goes to one topic)",
        );
      const qos = c.qos ?? 1;
      if (qos !== 0 && qos !== 1 && qos !== 2) throw bad('config.qos', qos, 'must be 0, 1 or 2');
      const retain = c.retain ?? false;
      if (typeof retain !== 'boolean') throw bad('config.retain', retain, 'must be true or false');
      return {
        url: url(c, 'url', ['mqtt:', 'mqtts:', 'tcp:', 'ssl:'], 'mqtt://broker.plant:1883'),
        topic,
        qos,
        retain,
        username: text(c, 'username', false),
      };
    }
  }
}

/** The secret fields given in `config` (empty strings and absent ones left out). */
function secretsOf(kind: ChannelKind, c: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of SECRET_FIELDS[kind]) {
    const v = text(c, field, false);
    if (v !== null) out[field] = v;
  }
  return out;
}

function nameOf(v: unknown): string {
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > MAX_NAME_LENGTH)
    throw bad('name', v, `must be a string of 1-${MAX_NAME_LENGTH} characters`);
  return v.trim();
}

function configOf(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad('config', v, 'must be an object of the kind\'s settings, e.g. {"url": "https://..."}');
  return v as Record<string, unknown>;
}

function enabledOf(v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw bad('enabled', v, 'must be true or false');
  return v;
}

/** Requires the secret a kind cannot work without. */
function requireSecrets(kind: ChannelKind, secret: Record<string, string>): void {
  if (kind === 'webhook' && !secret.secret)
    throw bad(
      'config.secret',
      undefined,
      'is required: the shared secret the receiver checks the signature with',
    );
  if ((kind === 'slack' || kind === 'teams') && !secret.url)
    throw bad('config.url', undefined, `is required: the ${kind} incoming-webhook URL`);
}

/** A new channel from `POST /api/notifications/channels`. */
export function parseNewChannel(input: NotificationChannelInput): NewChannel {
  const kind = input.kind;
  if (!CHANNEL_KINDS.includes(kind as ChannelKind))
    throw bad('kind', kind, `must be one of ${CHANNEL_KINDS.map((k) => `'${k}'`).join(', ')}`);
  const k = kind as ChannelKind;
  const config = configOf(input.config);
  const secret = secretsOf(k, config);
  requireSecrets(k, secret);
  return {
    name: nameOf(input.name),
    kind: k,
    enabled: enabledOf(input.enabled, true),
    config: settingsOf(k, config),
    secret,
  };
}

/**
 * A channel after `PATCH`: the given fields replace the stored ones; a `config` replaces the settings, and
 * each secret field it leaves out (or sends empty) keeps its stored value, and `null` clears it. The kind
 * cannot change.
 */
export function parseChannelPatch(stored: ChannelRecord, input: NotificationChannelInput): NewChannel {
  if (input.kind !== undefined && input.kind !== stored.kind)
    throw bad(
      'kind',
      input.kind,
      `cannot change (channel ${stored.id} is ${stored.kind}); create a new channel`,
    );
  let config = stored.config;
  let secret = stored.secret;
  if (input.config !== undefined) {
    const given = configOf(input.config);
    // Slack and Teams show only the host: a patch without a new URL keeps the stored one.
    const withSecrets = {
      ...stored.secret,
      ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== '' && v !== null)),
    };
    config = settingsOf(stored.kind, withSecrets);
    secret = { ...stored.secret, ...secretsOf(stored.kind, given) };
    // An explicit null clears a secret (e.g. an SMTP server that no longer wants a password).
    for (const field of SECRET_FIELDS[stored.kind]) if (given[field] === null) delete secret[field];
    requireSecrets(stored.kind, secret);
  }
  return {
    name: input.name === undefined ? stored.name : nameOf(input.name),
    kind: stored.kind,
    enabled: enabledOf(input.enabled, stored.enabled),
    config,
    secret,
  };
}

/** A channel as the API shows it: no secrets, only which are set. */
export function publicChannel(c: ChannelRecord): NotificationChannel {
  const secretFields = SECRET_FIELDS[c.kind].filter((f) => Boolean(c.secret[f]));
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    enabled: c.enabled,
    config: c.config as unknown as NotificationChannel['config'],
    hasSecret: secretFields.length > 0,
    secretFields,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}
