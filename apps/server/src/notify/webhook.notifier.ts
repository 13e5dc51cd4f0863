import type { Alert } from '@hark/protocol';
import type { HarkEvents } from '../events.js';
import type { OutboxEntry, WebhookOutboxRepository } from '../store/outbox.repository.js';
import { classifyUpdate, snapshotOf, type AlertSnapshot, type WebhookEvent } from './classify.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook } from './signature.js';

/** The JSON body of every webhook request. */
export interface WebhookBody {
  event: WebhookEvent;
  /** Outbox id: the same on every retry of one delivery, for receivers to drop duplicates. */
  deliveryId: number;
  /** 1 for the first try. */
  attempt: number;
  alert: Alert;
  /** When this attempt was sent, ms. */
  sentAt: number;
}

/** How one attempt ended, for `hark_webhook_deliveries_total{outcome}`. */
export type WebhookOutcome = 'delivered' | 'retry' | 'failed';

export interface WebhookNotifierOptions {
  /** The receiver, http(s). */
  url: string;
  /** Shared secret of the HMAC signature. */
  secret: string;
  outbox: WebhookOutboxRepository;
  /** First retry delay, ms (default 1 s); doubles per attempt, with jitter. */
  baseDelayMs?: number;
  /** Longest retry delay, ms (default 5 min). */
  maxDelayMs?: number;
  /** Attempts before giving up (default 10). */
  maxAttempts?: number;
  /** Per-request timeout, ms (default 10 s). */
  timeoutMs?: number;
  /** Called once per attempt. */
  onOutcome?: (outcome: WebhookOutcome, entry: OutboxEntry) => void;
  /** Called with a line to log when an attempt fails. */
  log?: (message: string) => void;
  /** The outbox refused an event (a full disk): the event is not sent. Without it the error is thrown. */
  onStoreError?: (err: unknown) => void;
  /** Clock, ms (tests). */
  now?: () => number;
  /** Uniform [0, 1) for the jitter (tests). */
  random?: () => number;
}

export interface WebhookStats {
  pending: number;
  delivered: number;
  retried: number;
  failed: number;
  inFlight: boolean;
  lastError: string | null;
  lastDeliveredAt: number | null;
}

class Retryable extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/**
 * Sends alert events to one webhook URL: signed JSON POSTs (`X-Hark-Signature: sha256=<hex>` over
 * `"<X-Hark-Timestamp>.<body>"`), delivered from a durable outbox in SQLite so nothing is lost across
 * restarts. Network errors, timeouts, 408, 429 and 5xx are retried with exponential backoff and equal jitter
 * (honouring `Retry-After`) up to `maxAttempts`; other answers give up at once. Deliveries run one at a time.
 */
export class WebhookNotifier {
  private readonly opts: Required<Omit<WebhookNotifierOptions, 'onOutcome' | 'log' | 'onStoreError'>> &
    Pick<WebhookNotifierOptions, 'onOutcome' | 'log' | 'onStoreError'>;
  private running = false;
  private draining: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: AbortController | null = null;
  private readonly snapshots = new Map<number, AlertSnapshot>();
  private readonly counts = { delivered: 0, retried: 0, failed: 0 };
  private lastError: string | null = null;
  private lastDeliveredAt: number | null = null;

  constructor(options: WebhookNotifierOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new RangeError(`webhook url '${options.url}' is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RangeError(`webhook url '${options.url}' must be http or https`);
    }
    if (!options.secret) throw new RangeError('webhook secret must not be empty');
    this.opts = {
      baseDelayMs: 1000,
      maxDelayMs: 300_000,
      maxAttempts: 10,
      timeoutMs: 10_000,
      now: Date.now,
      random: Math.random,
      ...options,
    };
    const { baseDelayMs, maxDelayMs, maxAttempts, timeoutMs } = this.opts;
    if (!(baseDelayMs > 0) || !(maxDelayMs >= baseDelayMs)) {
      throw new RangeError(
        `webhook delays must satisfy 0 < baseDelayMs (${baseDelayMs}) <= maxDelayMs (${maxDelayMs})`,
      );
    }
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`webhook maxAttempts (${maxAttempts}) must be an integer >= 1`);
    }
    if (!(timeoutMs > 0)) throw new RangeError(`webhook timeoutMs (${timeoutMs}) must be > 0`);
  }

  /** Queues a delivery (durably) and wakes the sender. Returns the outbox entry. */
  async enqueue(event: WebhookEvent, alert: Alert): Promise<OutboxEntry> {
    this.snapshots.set(alert.id, snapshotOf(alert));
    // In the order of the events: each write starts once the one before it ended.
    const write = this.#queued.then(() =>
      this.opts.outbox.enqueue(event, JSON.stringify(alert), this.opts.now()),
    );
    this.#queued = write.catch(() => {});
    const entry = await write;
    if (this.running && !this.draining) this.schedule(0);
    return entry;
  }

  /** Resolves once every delivery queued so far is in the outbox (or its failure reported). */
  queued(): Promise<void> {
    return this.#queued.then(() => {});
  }

  #queued: Promise<unknown> = Promise.resolve();

  /**
   * Sends `alert` as `alert.opened` and meaningful `alert:update`s (state, end of signal, annotation, feedback,
   * clip) as the matching event; peak-only updates are not sent. Returns the function that detaches.
   */
  attach(events: HarkEvents): () => void {
    // A listener that throws would throw into whoever published the alert: a refused outbox write is
    // reported (when `onStoreError` is given) and the event is not sent.
    const enqueue = (event: WebhookEvent, alert: Alert) => {
      this.enqueue(event, alert).catch((err: unknown) => {
        this.opts.log?.(`webhook ${event} of alert ${alert.id} not queued: ${(err as Error).message}`);
        this.opts.onStoreError?.(err);
      });
    };
    const opened = (alert: Alert) => enqueue('alert.opened', alert);
    const updated = (alert: Alert) => {
      const event = classifyUpdate(this.snapshots.get(alert.id), alert);
      if (event) enqueue(event, alert);
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

  /** Starts sending, beginning with whatever the outbox holds from before. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /**
   * Stops sending. Waits up to `graceMs` (default 5 s) for a request in flight, then aborts it; an aborted
   * attempt is not counted and is sent again after the next start.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const draining = this.draining;
    if (!draining) return;
    let grace: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (grace = setTimeout(resolve, graceMs)));
    await Promise.race([draining, expired]);
    clearTimeout(grace);
    this.inFlight?.abort(new Error('webhook notifier stopped'));
    await draining;
  }

  async stats(): Promise<WebhookStats> {
    return {
      pending: await this.opts.outbox.pendingCount(),
      ...this.counts,
      inFlight: this.inFlight !== null,
      lastError: this.lastError,
      lastDeliveredAt: this.lastDeliveredAt,
    };
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.draining ??= this.drain()
          .catch((err: unknown) =>
            this.opts.log?.(`webhook sender stopped on an error: ${(err as Error).message}`),
          )
          .then(async () => {
            if (!this.running) return;
            try {
              const next = await this.opts.outbox.nextDueAt();
              if (next !== null) this.schedule(next - this.opts.now());
            } catch (err) {
              this.opts.log?.(`webhook sender cannot read the outbox: ${(err as Error).message}`);
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
      const due = await this.opts.outbox.due(this.opts.now(), 20);
      if (due.length === 0) return;
      for (const entry of due) {
        if (!this.running) return;
        await this.deliver(entry);
      }
    }
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const attempt = entry.attempts + 1;
    const sentAt = this.opts.now();
    const body = JSON.stringify({
      event: entry.event,
      deliveryId: entry.id,
      attempt,
      alert: JSON.parse(entry.payload) as Alert,
      sentAt,
    });
    const controller = new AbortController();
    this.inFlight = controller;
    const timeout = setTimeout(
      () => controller.abort(new Retryable(`no answer within ${this.opts.timeoutMs} ms`)),
      this.opts.timeoutMs,
    );
    try {
      await this.post(body, entry, sentAt, controller.signal);
      await this.opts.outbox.markDelivered(entry.id, attempt, this.opts.now());
      this.counts.delivered++;
      this.lastDeliveredAt = this.opts.now();
      this.opts.onOutcome?.('delivered', { ...entry, attempts: attempt, state: 'delivered' });
    } catch (err) {
      if (controller.signal.aborted && !(controller.signal.reason instanceof Retryable)) return; // stopped
      const reason = controller.signal.reason instanceof Retryable ? controller.signal.reason : err;
      await this.failed(entry, attempt, reason);
    } finally {
      clearTimeout(timeout);
      this.inFlight = null;
    }
  }

  private async post(body: string, entry: OutboxEntry, sentAt: number, signal: AbortSignal): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.opts.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'hark-webhook/1',
          'X-Hark-Event': entry.event,
          'X-Hark-Delivery': String(entry.id),
          [TIMESTAMP_HEADER]: String(sentAt),
          [SIGNATURE_HEADER]: signWebhook(this.opts.secret, sentAt, body),
        },
        body,
        signal,
        redirect: 'manual',
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Retryable(
        `POST ${this.opts.url} failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      );
    }
    await res.arrayBuffer().catch(() => undefined); // drain, so the connection is reused
    if (res.ok) return;
    const message = `POST ${this.opts.url} answered ${res.status} ${res.statusText}`.trim();
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      throw new Retryable(message, parseRetryAfter(res.headers.get('retry-after'), this.opts.now()));
    }
    throw new Error(`${message}; giving up (fix the receiver, then re-send)`);
  }

  private async failed(entry: OutboxEntry, attempt: number, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = message;
    const now = this.opts.now();
    if (err instanceof Retryable && attempt < this.opts.maxAttempts) {
      const delay = this.backoff(attempt, err.retryAfterMs);
      await this.opts.outbox.markRetry(entry.id, attempt, message, now + delay);
      this.counts.retried++;
      this.opts.log?.(
        `webhook ${entry.event} #${entry.id} attempt ${attempt}: ${message}; retrying in ${delay} ms`,
      );
      this.opts.onOutcome?.('retry', { ...entry, attempts: attempt, lastError: message });
    } else {
      await this.opts.outbox.markFailed(entry.id, attempt, message, now);
      this.counts.failed++;
      const why = err instanceof Retryable ? `gave up after ${attempt} attempts` : 'gave up';
      this.opts.log?.(`webhook ${entry.event} #${entry.id}: ${message}; ${why}`);
      this.opts.onOutcome?.('failed', { ...entry, attempts: attempt, lastError: message, state: 'failed' });
    }
  }

  /** Delay before attempt `attempt + 1`: base * 2^(attempt - 1) capped at max, half of it jittered. */
  private backoff(attempt: number, retryAfterMs: number | null): number {
    const { baseDelayMs, maxDelayMs, random } = this.opts;
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    const jittered = Math.round(exp / 2 + (random() * exp) / 2);
    return retryAfterMs === null ? jittered : Math.min(maxDelayMs, Math.max(jittered, retryAfterMs));
  }
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
