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
  enqueue(event: string, payload: string, at = Date.now()): OutboxEntry {
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO webhook_outbox (event, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?)')
      .run(event, payload, at, at);
    return this.get(Number(lastInsertRowid)) as OutboxEntry;
  }

  get(id: number): OutboxEntry | null {
    const row = this.db.prepare('SELECT * FROM webhook_outbox WHERE id = ?').get(id) as OutboxRow | undefined;
    return row ? toEntry(row) : null;
  }

  /** Pending deliveries due at `now`, oldest first. */
  due(now: number, limit = 20): OutboxEntry[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM webhook_outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
      )
      .all(now, limit) as OutboxRow[];
    return rows.map(toEntry);
  }

  /** When the next pending delivery is due, or null when none is pending. */
  nextDueAt(): number | null {
    const row = this.db
      .prepare(`SELECT MIN(next_attempt_at) AS t FROM webhook_outbox WHERE state = 'pending'`)
      .get() as { t: number | null };
    return row.t;
  }

  /** Pending deliveries. */
  pendingCount(): number {
    return (
      this.db.prepare(`SELECT COUNT(*) AS n FROM webhook_outbox WHERE state = 'pending'`).get() as {
        n: number;
      }
    ).n;
  }

  /** Every delivery in a state, oldest first (for tests and diagnostics). */
  list(state?: OutboxState): OutboxEntry[] {
    const rows = this.db
      .prepare('SELECT * FROM webhook_outbox WHERE (? IS NULL OR state = ?) ORDER BY id')
      .all(state ?? null, state ?? null) as OutboxRow[];
    return rows.map(toEntry);
  }

  markDelivered(id: number, attempts: number, at: number): void {
    this.db
      .prepare(
        `UPDATE webhook_outbox SET state = 'delivered', attempts = ?, done_at = ?, last_error = NULL WHERE id = ?`,
      )
      .run(attempts, at, id);
  }

  /** Records a failed attempt to retry at `nextAttemptAt`. */
  markRetry(id: number, attempts: number, error: string, nextAttemptAt: number): void {
    this.db
      .prepare('UPDATE webhook_outbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?')
      .run(attempts, error, nextAttemptAt, id);
  }

  /** Gives up on a delivery. */
  markFailed(id: number, attempts: number, error: string, at: number): void {
    this.db
      .prepare(
        `UPDATE webhook_outbox SET state = 'failed', attempts = ?, last_error = ?, done_at = ? WHERE id = ?`,
      )
      .run(attempts, error, at, id);
  }

  /** Deletes delivered and failed entries finished before `before`; returns how many. */
  prune(before: number): number {
    return this.db.prepare(`DELETE FROM webhook_outbox WHERE state != 'pending' AND done_at < ?`).run(before)
      .changes;
  }
}
