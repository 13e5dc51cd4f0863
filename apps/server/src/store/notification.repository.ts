import type {
  ChannelKind,
  DeliveryState,
  NotificationDelivery,
  NotificationEvent,
  NotificationRule,
  Page,
} from '@hark/protocol';
import { Repository } from './database.js';
import { ConflictError, NotFoundError } from './errors.js';

/** A channel as stored, secrets included (`notify/` keeps them out of every answer). */
export interface ChannelRecord {
  id: number;
  name: string;
  kind: ChannelKind;
  enabled: boolean;
  /** The kind's settings without secrets. */
  config: Record<string, unknown>;
  /** The secret fields, e.g. `{password: "..."}`. */
  secret: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

export type NewChannel = Pick<ChannelRecord, 'name' | 'kind' | 'enabled' | 'config' | 'secret'>;
export type NewRule = Omit<NotificationRule, 'id' | 'createdAt' | 'updatedAt'>;

/** A delivery with what its sender needs: the alert's JSON as it was when queued. */
export interface DeliveryRecord extends NotificationDelivery {
  payload: string;
  nextAttemptAt: number;
}

export interface NewDelivery {
  alertId: number | null;
  channel: Pick<ChannelRecord, 'id' | 'name' | 'kind'>;
  ruleId: number | null;
  event: NotificationEvent | 'test';
  payload: string;
  /** `suppressed` records a message not sent (with `error` saying why). */
  state?: 'pending' | 'suppressed';
  error?: string | null;
  /** When the sender may take it (default now); a channel test sends it itself and passes never. */
  dueAt?: number;
}

export interface EscalationRecord {
  alertId: number;
  ruleId: number;
  dueAt: number;
}

interface ChannelRow {
  id: number;
  name: string;
  kind: ChannelKind;
  config: string;
  secret: string;
  enabled: number;
  created_at: number;
  updated_at: number;
}

interface RuleRow {
  id: number;
  name: string;
  enabled: number;
  channel_id: number;
  sensor_ids: string;
  labels: string;
  severities: string;
  events: string;
  quiet_hours: string | null;
  escalate_minutes: number | null;
  escalate_channel_id: number | null;
  created_at: number;
  updated_at: number;
}

interface DeliveryRow {
  id: number;
  alert_id: number | null;
  channel_id: number | null;
  channel_name: string;
  channel_kind: ChannelKind;
  rule_id: number | null;
  event: NotificationEvent | 'test';
  payload: string;
  state: DeliveryState;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  done_at: number | null;
  error: string | null;
}

const toChannel = (r: ChannelRow): ChannelRecord => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  enabled: r.enabled === 1,
  config: JSON.parse(r.config) as Record<string, unknown>,
  secret: JSON.parse(r.secret) as Record<string, string>,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toRule = (r: RuleRow): NotificationRule => ({
  id: r.id,
  name: r.name,
  enabled: r.enabled === 1,
  channelId: r.channel_id,
  sensorIds: JSON.parse(r.sensor_ids) as string[],
  labels: JSON.parse(r.labels) as Record<string, string>,
  severities: JSON.parse(r.severities) as NotificationRule['severities'],
  events: JSON.parse(r.events) as NotificationRule['events'],
  quietHours: r.quiet_hours === null ? null : (JSON.parse(r.quiet_hours) as NotificationRule['quietHours']),
  // A rule whose escalation channel was deleted escalates nowhere.
  escalation:
    r.escalate_minutes === null || r.escalate_channel_id === null
      ? null
      : { afterMinutes: r.escalate_minutes, channelId: r.escalate_channel_id },
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  id: r.id,
  alertId: r.alert_id,
  channelId: r.channel_id,
  channelName: r.channel_name,
  channelKind: r.channel_kind,
  ruleId: r.rule_id,
  event: r.event,
  state: r.state,
  attempts: r.attempts,
  createdAt: r.created_at,
  doneAt: r.done_at,
  error: r.error,
  payload: r.payload,
  nextAttemptAt: r.next_attempt_at,
});

/** Without the sender's fields: what the API shows. */
export const publicDelivery = ({
  payload: _p,
  nextAttemptAt: _n,
  ...d
}: DeliveryRecord): NotificationDelivery => d;

const ruleParams = (rule: NewRule) => ({
  name: rule.name,
  enabled: rule.enabled ? 1 : 0,
  channel_id: rule.channelId,
  sensor_ids: JSON.stringify(rule.sensorIds),
  labels: JSON.stringify(rule.labels),
  severities: JSON.stringify(rule.severities),
  events: JSON.stringify(rule.events),
  quiet_hours: rule.quietHours ? JSON.stringify(rule.quietHours) : null,
  escalate_minutes: rule.escalation?.afterMinutes ?? null,
  escalate_channel_id: rule.escalation?.channelId ?? null,
});

/** Notification channels, rules, the delivery outbox / record, and waiting escalations. */
export class NotificationRepository extends Repository {
  // ---- channels ----

  createChannel(c: NewChannel, at = Date.now()): ChannelRecord {
    this.uniqueName(c.name, null);
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO notify_channels (name, kind, config, secret, enabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(c.name, c.kind, JSON.stringify(c.config), JSON.stringify(c.secret), c.enabled ? 1 : 0, at, at);
    return this.requireChannel(Number(lastInsertRowid));
  }

  updateChannel(id: number, c: NewChannel, at = Date.now()): ChannelRecord {
    this.requireChannel(id);
    this.uniqueName(c.name, id);
    this.db
      .prepare(
        `UPDATE notify_channels SET name = ?, config = ?, secret = ?, enabled = ?, updated_at = ? WHERE id = ?`,
      )
      .run(c.name, JSON.stringify(c.config), JSON.stringify(c.secret), c.enabled ? 1 : 0, at, id);
    return this.requireChannel(id);
  }

  /** Deletes a channel with the rules that send to it; its deliveries stay (without the channel id). */
  deleteChannel(id: number): void {
    this.requireChannel(id);
    this.db.prepare('DELETE FROM notify_channels WHERE id = ?').run(id);
  }

  channel(id: number): ChannelRecord | null {
    const row = this.db.prepare('SELECT * FROM notify_channels WHERE id = ?').get(id) as
      ChannelRow | undefined;
    return row ? toChannel(row) : null;
  }

  requireChannel(id: number): ChannelRecord {
    const c = this.channel(id);
    if (!c) throw new NotFoundError(`notification channel ${id} not found`);
    return c;
  }

  channels(): ChannelRecord[] {
    return (this.db.prepare('SELECT * FROM notify_channels ORDER BY id').all() as ChannelRow[]).map(
      toChannel,
    );
  }

  private uniqueName(name: string, self: number | null): void {
    const row = this.db.prepare('SELECT id FROM notify_channels WHERE name = ?').get(name) as
      { id: number } | undefined;
    if (row && row.id !== self)
      throw new ConflictError(
        `a notification channel named '${name}' exists (id ${row.id}); pick another name`,
      );
  }

  // ---- rules ----

  createRule(rule: NewRule, at = Date.now()): NotificationRule {
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO notify_rules (name, enabled, channel_id, sensor_ids, labels, severities, events,
           quiet_hours, escalate_minutes, escalate_channel_id, created_at, updated_at)
         VALUES (@name, @enabled, @channel_id, @sensor_ids, @labels, @severities, @events, @quiet_hours,
           @escalate_minutes, @escalate_channel_id, @at, @at)`,
      )
      .run({ ...ruleParams(rule), at });
    return this.requireRule(Number(lastInsertRowid));
  }

  updateRule(id: number, rule: NewRule, at = Date.now()): NotificationRule {
    this.requireRule(id);
    this.db
      .prepare(
        `UPDATE notify_rules SET name = @name, enabled = @enabled, channel_id = @channel_id,
           sensor_ids = @sensor_ids, labels = @labels, severities = @severities, events = @events,
           quiet_hours = @quiet_hours, escalate_minutes = @escalate_minutes,
           escalate_channel_id = @escalate_channel_id, updated_at = @at
         WHERE id = @id`,
      )
      .run({ ...ruleParams(rule), at, id });
    return this.requireRule(id);
  }

  deleteRule(id: number): void {
    this.requireRule(id);
    this.db.prepare('DELETE FROM notify_rules WHERE id = ?').run(id);
  }

  rule(id: number): NotificationRule | null {
    const row = this.db.prepare('SELECT * FROM notify_rules WHERE id = ?').get(id) as RuleRow | undefined;
    return row ? toRule(row) : null;
  }

  requireRule(id: number): NotificationRule {
    const r = this.rule(id);
    if (!r) throw new NotFoundError(`notification rule ${id} not found`);
    return r;
  }

  rules(): NotificationRule[] {
    return (this.db.prepare('SELECT * FROM notify_rules ORDER BY id').all() as RuleRow[]).map(toRule);
  }

  // ---- deliveries ----

  enqueue(d: NewDelivery, at = Date.now()): DeliveryRecord {
    const state = d.state ?? 'pending';
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO notify_deliveries (alert_id, channel_id, channel_name, channel_kind, rule_id, event, payload,
           state, created_at, next_attempt_at, done_at, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        d.alertId,
        d.channel.id,
        d.channel.name,
        d.channel.kind,
        d.ruleId,
        d.event,
        d.payload,
        state,
        at,
        d.dueAt ?? at,
        state === 'pending' ? null : at,
        d.error ?? null,
      );
    return this.requireDelivery(Number(lastInsertRowid));
  }

  delivery(id: number): DeliveryRecord | null {
    const row = this.db.prepare('SELECT * FROM notify_deliveries WHERE id = ?').get(id) as
      DeliveryRow | undefined;
    return row ? toDelivery(row) : null;
  }

  requireDelivery(id: number): DeliveryRecord {
    const d = this.delivery(id);
    if (!d) throw new NotFoundError(`notification delivery ${id} not found`);
    return d;
  }

  /** Whether a rule already sent (or recorded) `event` for an alert. */
  hasDelivery(alertId: number, ruleId: number, event: NotificationEvent): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM notify_deliveries WHERE alert_id = ? AND rule_id = ? AND event = ? LIMIT 1')
        .get(alertId, ruleId, event) !== undefined
    );
  }

  /** Deliveries newest first, of one alert and / or channel when given. */
  deliveries(
    filters: { alertId?: number; channelId?: number; state?: DeliveryState },
    limit = 100,
    offset = 0,
  ): Page<DeliveryRecord> {
    const where = `WHERE (@alertId IS NULL OR alert_id = @alertId) AND (@channelId IS NULL OR channel_id = @channelId)
      AND (@state IS NULL OR state = @state)`;
    const params = {
      alertId: filters.alertId ?? null,
      channelId: filters.channelId ?? null,
      state: filters.state ?? null,
    };
    const total = (
      this.db.prepare(`SELECT COUNT(*) AS n FROM notify_deliveries ${where}`).get(params) as { n: number }
    ).n;
    const rows = this.db
      .prepare(`SELECT * FROM notify_deliveries ${where} ORDER BY id DESC LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit, offset }) as DeliveryRow[];
    return { items: rows.map(toDelivery), total, limit, offset };
  }

  /** Pending deliveries due at `now`, oldest first. */
  due(now: number, limit = 20): DeliveryRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM notify_deliveries WHERE state = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at, id LIMIT ?`,
      )
      .all(now, limit) as DeliveryRow[];
    return rows.map(toDelivery);
  }

  nextDeliveryAt(): number | null {
    return (
      this.db
        .prepare(`SELECT MIN(next_attempt_at) AS t FROM notify_deliveries WHERE state = 'pending'`)
        .get() as { t: number | null }
    ).t;
  }

  markDelivered(id: number, attempts: number, at: number): void {
    this.db
      .prepare(
        `UPDATE notify_deliveries SET state = 'delivered', attempts = ?, done_at = ?, error = NULL WHERE id = ?`,
      )
      .run(attempts, at, id);
  }

  markRetry(id: number, attempts: number, error: string, nextAttemptAt: number): void {
    this.db
      .prepare('UPDATE notify_deliveries SET attempts = ?, error = ?, next_attempt_at = ? WHERE id = ?')
      .run(attempts, error, nextAttemptAt, id);
  }

  markFailed(id: number, attempts: number, error: string, at: number): void {
    this.db
      .prepare(
        `UPDATE notify_deliveries SET state = 'failed', attempts = ?, error = ?, done_at = ? WHERE id = ?`,
      )
      .run(attempts, error, at, id);
  }

  // ---- escalations ----

  /** Waits to escalate an alert by a rule at `dueAt` (once per alert and rule). */
  scheduleEscalation(alertId: number, ruleId: number, dueAt: number): void {
    this.db
      .prepare('INSERT OR IGNORE INTO notify_escalations (alert_id, rule_id, due_at) VALUES (?, ?, ?)')
      .run(alertId, ruleId, dueAt);
  }

  dueEscalations(now: number): EscalationRecord[] {
    return (
      this.db
        .prepare(
          `SELECT alert_id, rule_id, due_at FROM notify_escalations WHERE state = 'waiting' AND due_at <= ?
           ORDER BY due_at`,
        )
        .all(now) as { alert_id: number; rule_id: number; due_at: number }[]
    ).map((r) => ({ alertId: r.alert_id, ruleId: r.rule_id, dueAt: r.due_at }));
  }

  nextEscalationAt(): number | null {
    return (
      this.db.prepare(`SELECT MIN(due_at) AS t FROM notify_escalations WHERE state = 'waiting'`).get() as {
        t: number | null;
      }
    ).t;
  }

  /** Ends a waiting escalation as `sent` or `cancelled`; every waiting one of the alert when `ruleId` is null. */
  finishEscalation(alertId: number, ruleId: number | null, state: 'sent' | 'cancelled', at: number): void {
    this.db
      .prepare(
        `UPDATE notify_escalations SET state = ?, done_at = ?
         WHERE alert_id = ? AND (? IS NULL OR rule_id = ?) AND state = 'waiting'`,
      )
      .run(state, at, alertId, ruleId, ruleId);
  }
}
