import type { Alert, NotificationDelivery } from '@hark/protocol';
import type { HarkStore } from '../store/store.js';
import { publicDelivery, type ChannelRecord, type DeliveryRecord } from '../store/notification.repository.js';
import { SendError, send } from './senders.js';

/** How one attempt ended (for a metric or a log). */
export type DeliveryOutcome = 'delivered' | 'retry' | 'failed';

export interface DispatcherOptions {
  store: HarkStore;
  /** First retry delay, ms (default 2 s); doubles per attempt with equal jitter, up to `maxDelayMs`. */
  baseDelayMs?: number;
  /** Longest retry delay, ms (default 5 min). */
  maxDelayMs?: number;
  /** Attempts before giving up (default 8: about 8 minutes of retries at the defaults). */
  maxAttempts?: number;
  /** Per-attempt timeout, ms (default 10 s). */
  timeoutMs?: number;
  /** Due escalations: called by the same timer as deliveries, before them. */
  escalate?: (now: number) => unknown;
  /** When the next escalation is due, or null. */
  nextEscalationAt?: () => Promise<number | null> | number | null;
  onOutcome?: (outcome: DeliveryOutcome, d: DeliveryRecord) => void;
  log?: (line: string) => void;
  now?: () => number;
  random?: () => number;
}

/**
 * Sends pending deliveries from the store's durable outbox (`notify_deliveries`), one at a time, retrying
 * what may succeed later with exponential backoff; runs due escalations on the same timer. Nothing is lost
 * across restarts: pending rows are sent after the next start.
 */
export class DeliveryDispatcher {
  private readonly o: Required<
    Omit<DispatcherOptions, 'onOutcome' | 'log' | 'escalate' | 'nextEscalationAt'>
  > &
    Pick<DispatcherOptions, 'onOutcome' | 'log' | 'escalate' | 'nextEscalationAt'>;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;

  constructor(options: DispatcherOptions) {
    this.o = {
      baseDelayMs: 2000,
      maxDelayMs: 300_000,
      maxAttempts: 8,
      timeoutMs: 10_000,
      now: Date.now,
      random: Math.random,
      ...options,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /**
   * Stops. Waits up to `graceMs` (default 5 s) for an attempt in flight; one still running then stays pending
   * (its attempt is not counted) and is sent again after the next start.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.draining) return;
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([this.draining, new Promise<void>((r) => (grace = setTimeout(r, graceMs)))]);
    clearTimeout(grace);
  }

  /** Something new is due: look now. */
  wake(): void {
    if (this.running && !this.draining) this.schedule(0);
  }

  /**
   * One attempt now, outside the queue (a channel test): the delivery is recorded as delivered or failed, never
   * retried.
   */
  async attemptNow(
    d: DeliveryRecord,
    channel: ChannelRecord,
    sensorName: string,
  ): Promise<NotificationDelivery> {
    const { notifications } = this.o.store;
    try {
      await this.sendOne(d, channel, sensorName);
      await notifications.markDelivered(d.id, 1, this.o.now());
    } catch (err) {
      await notifications.markFailed(d.id, 1, (err as Error).message, this.o.now());
    }
    return publicDelivery(await notifications.requireDelivery(d.id));
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.draining ??= this.drain()
          .catch((err: unknown) =>
            this.o.log?.(`notifications: sender stopped on an error: ${(err as Error).message}`),
          )
          .then(async () => {
            if (!this.running) return;
            try {
              const next = [
                await this.o.store.notifications.nextDeliveryAt(),
                (await this.o.nextEscalationAt?.()) ?? null,
              ]
                .filter((t): t is number => t !== null)
                .reduce((a, b) => Math.min(a, b), Infinity);
              if (next !== Infinity) this.schedule(next - this.o.now());
            } catch (err) {
              this.o.log?.(`notifications: cannot read the outbox: ${(err as Error).message}`);
            }
          })
          .finally(() => {
            this.draining = null;
          });
      },
      Math.max(0, Math.min(delayMs, 2 ** 31 - 1)),
    );
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    while (this.running) {
      await this.o.escalate?.(this.o.now());
      const due = await this.o.store.notifications.due(this.o.now(), 20);
      if (due.length === 0) return;
      for (const d of due) {
        if (!this.running) return;
        await this.deliver(d);
      }
    }
  }

  private async deliver(d: DeliveryRecord): Promise<void> {
    const { notifications, sensors } = this.o.store;
    const attempt = d.attempts + 1;
    const channel = d.channelId === null ? null : await notifications.channel(d.channelId);
    if (!channel) {
      await notifications.markFailed(d.id, attempt, 'the channel was deleted', this.o.now());
      return;
    }
    const alert = JSON.parse(d.payload) as Alert;
    const sensorName = (await sensors.get(alert.sensorId))?.name ?? alert.sensorId;
    try {
      await this.sendOne({ ...d, attempts: attempt - 1 }, channel, sensorName);
      await notifications.markDelivered(d.id, attempt, this.o.now());
      this.o.onOutcome?.('delivered', d);
    } catch (err) {
      const e = err instanceof SendError ? err : new SendError((err as Error).message, true);
      const now = this.o.now();
      if (e.retryable && attempt < this.o.maxAttempts) {
        const delay = this.backoff(attempt, e.retryAfterMs);
        await notifications.markRetry(d.id, attempt, e.message, now + delay);
        this.o.log?.(
          `notification #${d.id} to ${channel.kind} '${channel.name}' attempt ${attempt}: ${e.message}; retrying in ${delay} ms`,
        );
        this.o.onOutcome?.('retry', d);
      } else {
        await notifications.markFailed(d.id, attempt, e.message, now);
        this.o.log?.(
          `notification #${d.id} to ${channel.kind} '${channel.name}': ${e.message}; gave up after ${attempt} attempt(s)`,
        );
        this.o.onOutcome?.('failed', d);
      }
    }
  }

  private sendOne(d: DeliveryRecord, channel: ChannelRecord, sensorName: string): Promise<void> {
    return send(
      channel,
      {
        event: d.event,
        alert: JSON.parse(d.payload) as Alert,
        sensorName,
        deliveryId: d.id,
        attempt: d.attempts + 1,
        sentAt: this.o.now(),
      },
      this.o.timeoutMs,
    );
  }

  /** Delay before attempt `attempt + 1`: base * 2^(attempt - 1) capped at max, half of it jittered. */
  private backoff(attempt: number, retryAfterMs: number | null): number {
    const { baseDelayMs, maxDelayMs, random } = this.o;
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    const jittered = Math.round(exp / 2 + (random() * exp) / 2);
    return retryAfterMs === null ? jittered : Math.min(maxDelayMs, Math.max(jittered, retryAfterMs));
  }
}
