/**
 * Notifications: channels (where a message goes), rules (which alerts go to which channel, when) and
 * deliveries (every message sent or not sent, with its outcome). REST under `/api/notifications`.
 *
 * Secrets (a webhook's signing secret, a Slack or Teams webhook URL, an SMTP or MQTT password) are written
 * with the channel and never read back: a channel says `hasSecret` and which `secretFields` are set.
 */

/** The kinds of channel. */
export type ChannelKind = 'webhook' | 'slack' | 'teams' | 'email' | 'mqtt';
export const CHANNEL_KINDS: readonly ChannelKind[] = ['webhook', 'slack', 'teams', 'email', 'mqtt'];

/**
 * An alert's severity as rules match it. Alerts carry `severity` once the alert lifecycle has it; an alert
 * without one counts as `warning`.
 */
export type NotificationSeverity = 'warning' | 'critical';
export const NOTIFICATION_SEVERITIES: readonly NotificationSeverity[] = ['warning', 'critical'];

/** What a message tells about an alert. `alert.escalated` is sent only by a rule's escalation. */
export type NotificationEvent =
  | 'alert.opened'
  | 'alert.updated'
  | 'alert.acknowledged'
  | 'alert.resolved'
  | 'alert.closed'
  | 'alert.annotated'
  | 'alert.escalated';
export const NOTIFICATION_EVENTS: readonly NotificationEvent[] = [
  'alert.opened',
  'alert.updated',
  'alert.acknowledged',
  'alert.resolved',
  'alert.closed',
  'alert.annotated',
  'alert.escalated',
];
/** The events a rule may choose (escalations are configured by `escalation`). */
export const RULE_EVENTS: readonly NotificationEvent[] = NOTIFICATION_EVENTS.filter(
  (e) => e !== 'alert.escalated',
);

/** How an e-mail channel talks to its SMTP server. */
export type SmtpSecurity = 'tls' | 'starttls' | 'none';
export const SMTP_SECURITY: readonly SmtpSecurity[] = ['tls', 'starttls', 'none'];

/** A generic webhook: a signed JSON POST (`X-Hark-Signature`), the same body as `HARK_WEBHOOK_URL`'s. */
export interface WebhookChannelConfig {
  url: string;
}
/** A Slack or Teams incoming webhook: the URL is the secret, so only its host is shown. */
export interface IncomingWebhookChannelConfig {
  /** The webhook URL's host, e.g. `hooks.slack.com` (the URL itself is the channel's secret). */
  host: string;
}
export interface EmailChannelConfig {
  host: string;
  port: number;
  security: SmtpSecurity;
  /** SMTP user (the password is the secret); null without authentication. */
  user: string | null;
  from: string;
  to: string[];
}
export interface MqttChannelConfig {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  url: string;
  /** Topic; `{sensorId}`, `{event}`, `{kind}` and `{severity}` are replaced. */
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** MQTT user (the password is the secret); null without one. */
  username: string | null;
}

export type ChannelConfig =
  WebhookChannelConfig | IncomingWebhookChannelConfig | EmailChannelConfig | MqttChannelConfig;

/** `GET /api/notifications/channels`: a channel without its secrets. */
export interface NotificationChannel {
  id: number;
  name: string;
  kind: ChannelKind;
  enabled: boolean;
  config: ChannelConfig;
  /** True when a secret is stored (it is never shown again). */
  hasSecret: boolean;
  /** The secret fields that are set, e.g. `["password"]`. */
  secretFields: string[];
  createdAt: number;
  updatedAt: number;
}

/**
 * `POST /api/notifications/channels` (all of `name`, `kind`, `config`) and `PATCH .../:id` (any of `name`,
 * `enabled`, `config`). `config` holds the kind's fields and its secret fields:
 * - webhook: `url`, `secret`;
 * - slack, teams: `url` (secret);
 * - email: `host`, `port`, `security`, `user?`, `password?` (secret), `from`, `to`;
 * - mqtt: `url`, `topic`, `qos?`, `retain?`, `username?`, `password?` (secret).
 * On PATCH, a secret field left out keeps the stored secret.
 */
export interface NotificationChannelInput {
  name?: string;
  kind?: ChannelKind;
  enabled?: boolean;
  config?: Record<string, unknown>;
}

/** Quiet hours: from `start` to `end` (`HH:MM`, wrapping over midnight when end < start) in `timeZone`. */
export interface QuietHours {
  start: string;
  end: string;
  /** IANA time zone, e.g. `Europe/Berlin`. */
  timeZone: string;
}

/** Escalation: when an alert is still open (not acknowledged) `afterMinutes` after it was notified. */
export interface Escalation {
  afterMinutes: number;
  channelId: number;
}

/**
 * Which alerts go to a channel. A rule with no `sensorIds` and no `labels` covers every sensor; otherwise a
 * sensor must be listed in `sensorIds` or carry every label of `labels` (a label group such as
 * `{site: "plant-1", line: "A"}`).
 */
export interface NotificationRule {
  id: number;
  name: string;
  enabled: boolean;
  channelId: number;
  sensorIds: string[];
  labels: Record<string, string>;
  severities: NotificationSeverity[];
  events: NotificationEvent[];
  quietHours: QuietHours | null;
  escalation: Escalation | null;
  createdAt: number;
  updatedAt: number;
}

/** `POST /api/notifications/rules` (`name`, `channelId` required) and `PATCH .../:id` (any field). */
export interface NotificationRuleInput {
  name?: string;
  enabled?: boolean;
  channelId?: number;
  sensorIds?: string[];
  labels?: Record<string, string>;
  severities?: NotificationSeverity[];
  events?: NotificationEvent[];
  quietHours?: QuietHours | null;
  escalation?: Escalation | null;
}

/**
 * - `pending`: waiting for its (next) attempt;
 * - `delivered`: the channel took it;
 * - `failed`: given up (the error says why);
 * - `suppressed`: not sent, by quiet hours or a disabled channel (the error says which).
 */
export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'suppressed';
export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'delivered', 'failed', 'suppressed'];

/** `GET /api/notifications/deliveries?alertId=`: one message to one channel. */
export interface NotificationDelivery {
  id: number;
  /** Null for a channel test. */
  alertId: number | null;
  /** Null once the channel is deleted; its name and kind stay. */
  channelId: number | null;
  channelName: string;
  channelKind: ChannelKind;
  ruleId: number | null;
  event: NotificationEvent | 'test';
  state: DeliveryState;
  attempts: number;
  createdAt: number;
  /** When it was delivered, given up or suppressed. */
  doneAt: number | null;
  /** The last attempt's error, or why it was suppressed. */
  error: string | null;
}

/** `POST /api/notifications/channels/:id/test`: the outcome of one test message. */
export interface ChannelTestResult {
  ok: boolean;
  error: string | null;
  delivery: NotificationDelivery;
}
