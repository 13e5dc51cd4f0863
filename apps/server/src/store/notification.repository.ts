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
import { RetryQueue } from './retry-queue.js';

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
  /** The deliveries' retry queue (shared with the webhook outbox: `retry-queue.ts`). */
  readonly #queue = new RetryQueue(this.db, 'notify_deliveries');

  // ---- channels ----

  async createChannel(c: NewChannel, at = Date.now()): Promise<ChannelRecord> {
    await this.uniqueName(c.name, null);
    const { id } = await this.db
      .insertInto('notify_channels')
      .values({
        name: c.name,
        kind: c.kind,
        config: JSON.stringify(c.config),
        secret: JSON.stringify(c.secret),
        enabled: c.enabled ? 1 : 0,
        created_at: at,
        updated_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return this.requireChannel(id);
  }

  async updateChannel(id: number, c: NewChannel, at = Date.now()): Promise<ChannelRecord> {
    await this.requireChannel(id);
    await this.uniqueName(c.name, id);
    await this.db
      .updateTable('notify_channels')
      .set({
        name: c.name,
        config: JSON.stringify(c.config),
        secret: JSON.stringify(c.secret),
        enabled: c.enabled ? 1 : 0,
        updated_at: at,
      })
      .where('id', '=', id)
      .execute();
    return this.requireChannel(id);
  }

  /** Deletes a channel with the rules that send to it; its deliveries stay (without the channel id). */
  async deleteChannel(id: number): Promise<void> {
    await this.requireChannel(id);
    await this.db.deleteFrom('notify_channels').where('id', '=', id).execute();
  }

  async channel(id: number): Promise<ChannelRecord | null> {
    const row = await this.db
      .selectFrom('notify_channels')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toChannel(row as ChannelRow) : null;
  }

  async requireChannel(id: number): Promise<ChannelRecord> {
    const c = await this.channel(id);
    if (!c) throw new NotFoundError(`notification channel ${id} not found`);
    return c;
  }

  async channels(): Promise<ChannelRecord[]> {
    const rows = await this.db.selectFrom('notify_channels').selectAll().orderBy('id').execute();
    return (rows as ChannelRow[]).map(toChannel);
  }

  private async uniqueName(name: string, self: number | null): Promise<void> {
    const row = await this.db
      .selectFrom('notify_channels')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirst();
    if (row && row.id !== self)
      throw new ConflictError(
        `a notification channel named '${name}' exists (id ${row.id}); pick another name`,
      );
  }

  // ---- rules ----

  async createRule(rule: NewRule, at = Date.now()): Promise<NotificationRule> {
    const { id } = await this.db
      .insertInto('notify_rules')
      .values({ ...ruleParams(rule), created_at: at, updated_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    return this.requireRule(id);
  }

  async updateRule(id: number, rule: NewRule, at = Date.now()): Promise<NotificationRule> {
    await this.requireRule(id);
    await this.db
      .updateTable('notify_rules')
      .set({ ...ruleParams(rule), updated_at: at })
      .where('id', '=', id)
      .execute();
    return this.requireRule(id);
  }

  async deleteRule(id: number): Promise<void> {
    await this.requireRule(id);
    await this.db.deleteFrom('notify_rules').where('id', '=', id).execute();
  }

  async rule(id: number): Promise<NotificationRule | null> {
    const row = await this.db.selectFrom('notify_rules').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRule(row) : null;
  }

  async requireRule(id: number): Promise<NotificationRule> {
    const r = await this.rule(id);
    if (!r) throw new NotFoundError(`notification rule ${id} not found`);
    return r;
  }

  async rules(): Promise<NotificationRule[]> {
    return (await this.db.selectFrom('notify_rules').selectAll().orderBy('id').execute()).map(toRule);
  }

  // ---- deliveries ----

  async enqueue(d: NewDelivery, at = Date.now()): Promise<DeliveryRecord> {
    const state = d.state ?? 'pending';
    const row = await this.db
      .insertInto('notify_deliveries')
      .values({
        alert_id: d.alertId,
        channel_id: d.channel.id,
        channel_name: d.channel.name,
        channel_kind: d.channel.kind,
        rule_id: d.ruleId,
        event: d.event,
        payload: d.payload,
        state,
        created_at: at,
        next_attempt_at: d.dueAt ?? at,
        done_at: state === 'pending' ? null : at,
        error: d.error ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toDelivery(row as DeliveryRow);
  }

  async delivery(id: number): Promise<DeliveryRecord | null> {
    const row = await this.db
      .selectFrom('notify_deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toDelivery(row as DeliveryRow) : null;
  }

  async requireDelivery(id: number): Promise<DeliveryRecord> {
    const d = await this.delivery(id);
    if (!d) throw new NotFoundError(`notification delivery ${id} not found`);
    return d;
  }

  /** Whether a rule already sent (or recorded) `event` for an alert. */
  async hasDelivery(alertId: number, ruleId: number, event: NotificationEvent): Promise<boolean> {
    const row = await this.db
      .selectFrom('notify_deliveries')
      .select('id')
      .where('alert_id', '=', alertId)
      .where('rule_id', '=', ruleId)
      .where('event', '=', event)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Deliveries newest first, of one alert and / or channel when given. */
  async deliveries(
    filters: { alertId?: number; channelId?: number; state?: DeliveryState },
    limit = 100,
    offset = 0,
  ): Promise<Page<DeliveryRecord>> {
    let q = this.db.selectFrom('notify_deliveries');
    if (filters.alertId !== undefined) q = q.where('alert_id', '=', filters.alertId);
    if (filters.channelId !== undefined) q = q.where('channel_id', '=', filters.channelId);
    if (filters.state !== undefined) q = q.where('state', '=', filters.state);
    const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute();
    return { items: (rows as DeliveryRow[]).map(toDelivery), total: Number(n), limit, offset };
  }

  /** Pending deliveries due at `now`, oldest first. */
  async due(now: number, limit = 20): Promise<DeliveryRecord[]> {
    return ((await this.#queue.due(now, limit)) as DeliveryRow[]).map(toDelivery);
  }

  nextDeliveryAt(): Promise<number | null> {
    return this.#queue.nextDueAt();
  }

  markDelivered(id: number, attempts: number, at: number): Promise<void> {
    return this.#queue.markDelivered(id, attempts, at);
  }

  markRetry(id: number, attempts: number, error: string, nextAttemptAt: number): Promise<void> {
    return this.#queue.markRetry(id, attempts, error, nextAttemptAt);
  }

  markFailed(id: number, attempts: number, error: string, at: number): Promise<void> {
    return this.#queue.markFailed(id, attempts, error, at);
  }

  // ---- escalations ----

  /** Waits to escalate an alert by a rule at `dueAt` (once per alert and rule). */
  async scheduleEscalation(alertId: number, ruleId: number, dueAt: number): Promise<void> {
    await this.db
      .insertInto('notify_escalations')
      .values({ alert_id: alertId, rule_id: ruleId, due_at: dueAt })
      .onConflict((oc) => oc.columns(['alert_id', 'rule_id']).doNothing())
      .execute();
  }

  async dueEscalations(now: number): Promise<EscalationRecord[]> {
    const rows = await this.db
      .selectFrom('notify_escalations')
      .select(['alert_id', 'rule_id', 'due_at'])
      .where('state', '=', 'waiting')
      .where('due_at', '<=', now)
      .orderBy('due_at')
      .execute();
    return rows.map((r) => ({ alertId: r.alert_id, ruleId: r.rule_id, dueAt: r.due_at }));
  }

  async nextEscalationAt(): Promise<number | null> {
    const row = await this.db
      .selectFrom('notify_escalations')
      .select((eb) => eb.fn.min('due_at').as('t'))
      .where('state', '=', 'waiting')
      .executeTakeFirst();
    return row?.t ?? null;
  }

  /** Ends a waiting escalation as `sent` or `cancelled`; every waiting one of the alert when `ruleId` is null. */
  async finishEscalation(
    alertId: number,
    ruleId: number | null,
    state: 'sent' | 'cancelled',
    at: number,
  ): Promise<void> {
    let q = this.db
      .updateTable('notify_escalations')
      .set({ state, done_at: at })
      .where('alert_id', '=', alertId)
      .where('state', '=', 'waiting');
    if (ruleId !== null) q = q.where('rule_id', '=', ruleId);
    await q.execute();
  }
}
