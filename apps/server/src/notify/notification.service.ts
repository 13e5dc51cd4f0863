/**
 * Notifications configured by admins and stored in the database: channels and rules (checked, secrets kept
 * out of every answer), the routing of alert events to channels by the rules (sensors / label groups,
 * severities, events, quiet hours), escalations of alerts nobody acknowledged, and the record of every
 * delivery. The env-configured webhook (`HARK_WEBHOOK_URL`, `WebhookNotifier`) runs beside it unchanged.
 */
import type {
  Alert,
  ChannelTestResult,
  DeliveryState,
  NotificationChannel,
  NotificationChannelInput,
  NotificationDelivery,
  NotificationEvent,
  NotificationRule,
  NotificationRuleInput,
  Page,
} from '@hark/protocol';
import type { HarkEvents } from '../events.js';
import { publicDelivery, type ChannelRecord } from '../store/notification.repository.js';
import type { HarkStore } from '../store/store.js';
import { parseChannelPatch, parseNewChannel, publicChannel } from './channel-input.js';
import { classifyUpdate, snapshotOf, type AlertSnapshot } from './classify.js';
import { DeliveryDispatcher, type DispatcherOptions } from './dispatcher.js';
import { parseRule, ruleBase } from './rule-input.js';
import { inQuietHours, ruleMatches, type SensorRef } from './rules.js';

export interface NotificationServiceOptions extends Omit<
  DispatcherOptions,
  'store' | 'escalate' | 'nextEscalationAt'
> {
  store: HarkStore;
}

/** The alert a channel test sends: clearly a test, on a sensor that does not exist. */
const testAlert = (now: number): Alert => ({
  id: 0,
  sensorId: 'hark-test',
  kind: 'anomaly',
  state: 'open',
  active: true,
  start: now,
  end: null,
  peakScore: 1.5,
  peakAt: now,
  threshold: 1,
  boxes: [],
  severity: 'warning',
  count: 1,
  occurrences: [{ start: now, end: null, peakScore: 1.5, peakAt: now, openedAt: now, clearedAt: null }],
  clearedAt: null,
  autoResolved: false,
  acknowledgedBy: null,
  acknowledgedAt: null,
  resolvedBy: null,
  resolvedAt: null,
  annotations: [],
  clip: { available: false, start: null, seconds: null },
  feedback: null,
});

export class NotificationService {
  private readonly store: HarkStore;
  private readonly dispatcher: DeliveryDispatcher;
  private readonly now: () => number;
  private readonly log?: (line: string) => void;
  private readonly snapshots = new Map<number, AlertSnapshot>();

  constructor(options: NotificationServiceOptions) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.dispatcher = new DeliveryDispatcher({
      ...options,
      escalate: (now) => this.escalateDue(now),
      nextEscalationAt: () => this.store.notifications.nextEscalationAt(),
    });
  }

  // ---- channels ----

  async channels(): Promise<NotificationChannel[]> {
    return (await this.store.notifications.channels()).map(publicChannel);
  }

  async channel(id: number): Promise<NotificationChannel> {
    return publicChannel(await this.store.notifications.requireChannel(id));
  }

  async createChannel(input: NotificationChannelInput): Promise<NotificationChannel> {
    return publicChannel(await this.store.notifications.createChannel(parseNewChannel(input), this.now()));
  }

  async updateChannel(id: number, input: NotificationChannelInput): Promise<NotificationChannel> {
    const stored = await this.store.notifications.requireChannel(id);
    return publicChannel(
      await this.store.notifications.updateChannel(id, parseChannelPatch(stored, input), this.now()),
    );
  }

  /** Deletes a channel and the rules that send to it; its deliveries stay on the alerts' pages. */
  deleteChannel(id: number): Promise<void> {
    return this.store.notifications.deleteChannel(id);
  }

  /** Sends a test message to a channel now (one attempt, recorded as a delivery without an alert). */
  async testChannel(id: number): Promise<ChannelTestResult> {
    const channel = await this.store.notifications.requireChannel(id);
    const record = await this.store.notifications.enqueue(
      {
        alertId: null,
        channel,
        ruleId: null,
        event: 'test',
        payload: JSON.stringify(testAlert(this.now())),
        dueAt: Number.MAX_SAFE_INTEGER,
      },
      this.now(),
    );
    const delivery = await this.dispatcher.attemptNow(record, channel, 'hark test');
    return { ok: delivery.state === 'delivered', error: delivery.error, delivery };
  }

  // ---- rules ----

  rules(): Promise<NotificationRule[]> {
    return this.store.notifications.rules();
  }

  rule(id: number): Promise<NotificationRule> {
    return this.store.notifications.requireRule(id);
  }

  async createRule(input: NotificationRuleInput): Promise<NotificationRule> {
    const channels = await this.channelIds();
    return this.store.notifications.createRule(
      parseRule(input, null, (id) => channels.has(id)),
      this.now(),
    );
  }

  async updateRule(id: number, input: NotificationRuleInput): Promise<NotificationRule> {
    const base = ruleBase(await this.store.notifications.requireRule(id));
    const channels = await this.channelIds();
    return this.store.notifications.updateRule(
      id,
      parseRule(input, base, (c) => channels.has(c)),
      this.now(),
    );
  }

  deleteRule(id: number): Promise<void> {
    return this.store.notifications.deleteRule(id);
  }

  /** Ids of the channels that exist (a rule's channels are checked against them). */
  private async channelIds(): Promise<Set<number>> {
    return new Set((await this.store.notifications.channels()).map((c) => c.id));
  }

  // ---- deliveries ----

  async deliveries(
    filters: { alertId?: number; channelId?: number; state?: DeliveryState },
    limit: number,
    offset: number,
  ): Promise<Page<NotificationDelivery>> {
    const page = await this.store.notifications.deliveries(filters, limit, offset);
    return { ...page, items: page.items.map(publicDelivery) };
  }

  // ---- routing ----

  /** Routes `alert` (new) and `alert:update` (changes) by the rules. Returns the function that detaches. */
  attach(events: HarkEvents): () => void {
    const opened = (alert: Alert) => this.guard(alert, () => this.route(alert, 'alert.opened'));
    const updated = (alert: Alert) => {
      // Classified now, in the order the changes were published; routed on the chain.
      const event = classifyUpdate(this.snapshots.get(alert.id), alert);
      if (alert.id > 0) this.snapshots.set(alert.id, snapshotOf(alert));
      this.guard(alert, async () => {
        if (alert.state !== 'open')
          await this.store.notifications.finishEscalation(alert.id, null, 'cancelled', this.now());
        // An alert still open that a rule takes now but did not at its opening (its severity rose, or the
        // rule is new) is announced to that rule's channel once.
        if (alert.state === 'open') await this.route(alert, 'alert.opened');
        // A rise to critical was announced just above to the rules it now reaches.
        if (event && event !== 'alert.opened' && event !== 'alert.critical') await this.route(alert, event);
      });
      if (alert.state === 'resolved' && !alert.active) this.snapshots.delete(alert.id);
      else if (this.snapshots.size > 10_000)
        this.snapshots.delete(this.snapshots.keys().next().value as number);
    };
    events.on('alert', opened);
    events.on('alert:update', updated);
    return () => {
      events.off('alert', opened);
      events.off('alert:update', updated);
    };
  }

  start(): void {
    this.dispatcher.start();
  }

  /** Stops sending; waits up to `graceMs` for an attempt in flight (`DeliveryDispatcher.stop`). */
  stop(graceMs?: number): Promise<void> {
    return this.dispatcher.stop(graceMs);
  }

  /** Resolves once every alert published so far is routed (its deliveries queued). */
  routed(): Promise<void> {
    return this.#routing;
  }

  /**
   * Routes on a chain, one alert change after another (an alert's opening is queued before its updates). A
   * listener must not throw into whoever published the alert: a failed store write is logged.
   */
  private guard(alert: Alert, fn: () => Promise<void>): void {
    if (alert.id <= 0) return; // not stored yet: published again with its id once it is
    this.#routing = this.#routing.then(fn).catch((err: unknown) => {
      this.log?.(`notifications for alert ${alert.id} not queued: ${(err as Error).message}`);
    });
  }

  #routing: Promise<void> = Promise.resolve();

  /** Queues `event` of `alert` to the channel of every rule that takes it (recorded as suppressed in quiet hours). */
  private async route(alert: Alert, event: NotificationEvent): Promise<void> {
    const n = this.store.notifications;
    const stored = await this.store.sensors.get(alert.sensorId);
    const sensor: SensorRef = { id: alert.sensorId, labels: stored?.labels ?? {} };
    const now = this.now();
    let queued = false;
    for (const rule of await n.rules()) {
      if (!ruleMatches(rule, alert, sensor)) continue;
      if (event === 'alert.opened') {
        if (await n.hasDelivery(alert.id, rule.id, 'alert.opened')) continue;
        if (rule.escalation) {
          await n.scheduleEscalation(alert.id, rule.id, now + rule.escalation.afterMinutes * 60_000);
          queued = true; // the sender's timer learns the new due time
        }
      }
      if (!rule.events.includes(event)) continue;
      const channel = await n.channel(rule.channelId);
      if (!channel) continue;
      const quiet = rule.quietHours && inQuietHours(rule.quietHours, now) ? rule.quietHours : null;
      const why = !channel.enabled
        ? 'not sent: the channel is disabled'
        : quiet
          ? `not sent: quiet hours ${quiet.start}-${quiet.end} ${quiet.timeZone}`
          : null;
      await this.record(alert, channel, rule.id, event, why);
      queued ||= why === null;
    }
    if (queued) this.dispatcher.wake();
  }

  private async record(
    alert: Alert,
    channel: ChannelRecord,
    ruleId: number,
    event: NotificationEvent,
    suppressed: string | null,
  ): Promise<void> {
    await this.store.notifications.enqueue(
      {
        alertId: alert.id,
        channel,
        ruleId,
        event,
        payload: JSON.stringify(alert),
        ...(suppressed ? { state: 'suppressed' as const, error: suppressed } : {}),
      },
      this.now(),
    );
  }

  /**
   * Escalations whose time has come: an alert still open (nobody acknowledged or resolved it) goes to the
   * rule's escalation channel as `alert.escalated`, whatever the quiet hours (an alert nobody handled is
   * what an escalation is for); otherwise the escalation is cancelled.
   */
  private async escalateDue(now: number): Promise<void> {
    const n = this.store.notifications;
    for (const e of await n.dueEscalations(now)) {
      try {
        const alert = await this.store.alerts.get(e.alertId);
        const rule = await n.rule(e.ruleId);
        const channel = rule?.escalation ? await n.channel(rule.escalation.channelId) : null;
        if (!alert || alert.state !== 'open' || !rule?.enabled || !channel) {
          await n.finishEscalation(e.alertId, e.ruleId, 'cancelled', now);
          continue;
        }
        await this.record(
          alert,
          channel,
          rule.id,
          'alert.escalated',
          channel.enabled ? null : 'not sent: the channel is disabled',
        );
        await n.finishEscalation(e.alertId, e.ruleId, 'sent', now);
      } catch (err) {
        this.log?.(`escalation of alert ${e.alertId} by rule ${e.ruleId}: ${(err as Error).message}`);
      }
    }
  }
}
