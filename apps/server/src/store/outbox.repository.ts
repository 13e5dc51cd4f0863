import { Repository } from './database.js';
import { RetryQueue } from './retry-queue.js';

export type OutboxState = 'pending' | 'delivered' | 'failed';

/** One webhook delivery: an event and the JSON of its subject, sent until delivered or given up. */
export interface OutboxEntry {
  id: number;
  event: string;
  /** JSON text of the subject (an `Alert`). */
  payload: string;
  createdAt: number;
  state: OutboxState;
  /** Attempts made so far. */
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  doneAt: number | null;
}

interface OutboxRow {
  id: number;
  event: string;
  payload: string;
  created_at: number;
  state: OutboxState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  done_at: number | null;
}

const toEntry = (r: OutboxRow): OutboxEntry => ({
  id: r.id,
  event: r.event,
  payload: r.payload,
  createdAt: r.created_at,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  doneAt: r.done_at,
});

/** The durable webhook outbox: pending deliveries survive restarts. Used by `notify/WebhookNotifier`. */
export class WebhookOutboxRepository extends Repository {
  readonly #queue = new RetryQueue(this.db, 'webhook_outbox');

  /** Queues a delivery, due at `at`. */
  async enqueue(event: string, payload: string, at = Date.now()): Promise<OutboxEntry> {
    const row = await this.db
      .insertInto('webhook_outbox')
      .values({ event, payload, created_at: at, next_attempt_at: at })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toEntry(row as OutboxRow);
  }

  async get(id: number): Promise<OutboxEntry | null> {
    const row = await this.db
      .selectFrom('webhook_outbox')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toEntry(row as OutboxRow) : null;
  }

  /** Pending deliveries due at `now`, oldest first. */
  async due(now: number, limit = 20): Promise<OutboxEntry[]> {
    return ((await this.#queue.due(now, limit)) as OutboxRow[]).map(toEntry);
  }

  /** When the next pending delivery is due, or null when none is pending. */
  nextDueAt(): Promise<number | null> {
    return this.#queue.nextDueAt();
  }

  /** Pending deliveries. */
  pendingCount(): Promise<number> {
    return this.#queue.pendingCount();
  }

  /** Every delivery in a state, oldest first (for tests and diagnostics). */
  async list(state?: OutboxState): Promise<OutboxEntry[]> {
    let q = this.db.selectFrom('webhook_outbox').selectAll().orderBy('id');
    if (state) q = q.where('state', '=', state);
    return ((await q.execute()) as OutboxRow[]).map(toEntry);
  }

  markDelivered(id: number, attempts: number, at: number): Promise<void> {
    return this.#queue.markDelivered(id, attempts, at);
  }

  /** Records a failed attempt to retry at `nextAttemptAt`. */
  markRetry(id: number, attempts: number, error: string, nextAttemptAt: number): Promise<void> {
    return this.#queue.markRetry(id, attempts, error, nextAttemptAt);
  }

  /** Gives up on a delivery. */
  markFailed(id: number, attempts: number, error: string, at: number): Promise<void> {
    return this.#queue.markFailed(id, attempts, error, at);
  }

  /** Deletes delivered and failed entries finished before `before`; returns how many. */
  async prune(before: number): Promise<number> {
    const r = await this.db
      .deleteFrom('webhook_outbox')
      .where('state', '!=', 'pending')
      .where('done_at', '<', before)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
