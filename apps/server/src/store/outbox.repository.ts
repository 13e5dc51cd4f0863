import { Repository } from './database.js';

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
    const rows = await this.db
      .selectFrom('webhook_outbox')
      .selectAll()
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return (rows as OutboxRow[]).map(toEntry);
  }

  /** When the next pending delivery is due, or null when none is pending. */
  async nextDueAt(): Promise<number | null> {
    const row = await this.db
      .selectFrom('webhook_outbox')
      .select((eb) => eb.fn.min('next_attempt_at').as('t'))
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return row?.t ?? null;
  }

  /** Pending deliveries. */
  async pendingCount(): Promise<number> {
    const row = await this.db
      .selectFrom('webhook_outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'pending')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Every delivery in a state, oldest first (for tests and diagnostics). */
  async list(state?: OutboxState): Promise<OutboxEntry[]> {
    let q = this.db.selectFrom('webhook_outbox').selectAll().orderBy('id');
    if (state) q = q.where('state', '=', state);
    return ((await q.execute()) as OutboxRow[]).map(toEntry);
  }

  async markDelivered(id: number, attempts: number, at: number): Promise<void> {
    await this.db
      .updateTable('webhook_outbox')
      .set({ state: 'delivered', attempts, done_at: at, last_error: null })
      .where('id', '=', id)
      .execute();
  }

  /** Records a failed attempt to retry at `nextAttemptAt`. */
  async markRetry(id: number, attempts: number, error: string, nextAttemptAt: number): Promise<void> {
    await this.db
      .updateTable('webhook_outbox')
      .set({ attempts, last_error: error, next_attempt_at: nextAttemptAt })
      .where('id', '=', id)
      .execute();
  }

  /** Gives up on a delivery. */
  async markFailed(id: number, attempts: number, error: string, at: number): Promise<void> {
    await this.db
      .updateTable('webhook_outbox')
      .set({ state: 'failed', attempts, last_error: error, done_at: at })
      .where('id', '=', id)
      .execute();
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
