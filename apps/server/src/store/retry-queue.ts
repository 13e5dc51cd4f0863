import type { Kysely } from 'kysely';
import type { Db } from './dialect.js';

/**
 * The tables that are durable retry queues (the webhook outbox, the notification deliveries), with the column
 * each keeps its last error in. Both hold one row per message: `state` ('pending' until it is delivered or
 * given up), the attempts made, when the next one is due, when it finished.
 */
const ERROR_COLUMN = { webhook_outbox: 'last_error', notify_deliveries: 'error' } as const;
export type RetryQueueTable = keyof typeof ERROR_COLUMN;

/** The columns the queue reads and writes, shared by its tables. */
interface QueueColumns {
  id: number;
  state: string;
  attempts: number;
  next_attempt_at: number;
  done_at: number | null;
  last_error: string | null;
  error: string | null;
}

/**
 * The retry-queue half of a repository over `table`, written once: what is due, when the next is due, and an
 * attempt's outcome (delivered, retry later, given up). The rows come back as stored; the repository maps
 * them to its own records. Used by `WebhookOutboxRepository` and `NotificationRepository`.
 */
export class RetryQueue {
  /** The database typed for the columns the two tables share (each has more, which this never touches). */
  readonly #db: Kysely<Record<RetryQueueTable, QueueColumns>>;

  constructor(
    db: Db,
    readonly table: RetryQueueTable,
  ) {
    this.#db = db as unknown as Kysely<Record<RetryQueueTable, QueueColumns>>;
  }

  /** Pending rows due at `now`, oldest due first (then oldest queued). */
  async due(now: number, limit: number): Promise<unknown[]> {
    return this.#db
      .selectFrom(this.table)
      .selectAll()
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** When the next pending row is due, or null when none is pending. */
  async nextDueAt(): Promise<number | null> {
    const row = await this.#db
      .selectFrom(this.table)
      .select((eb) => eb.fn.min('next_attempt_at').as('t'))
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return row?.t ?? null;
  }

  /** Pending rows. */
  async pendingCount(): Promise<number> {
    const row = await this.#db
      .selectFrom(this.table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'pending')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async markDelivered(id: number, attempts: number, at: number): Promise<void> {
    await this.#update(id, { state: 'delivered', attempts, done_at: at }, null);
  }

  /** Records a failed attempt to retry at `nextAttemptAt`. */
  async markRetry(id: number, attempts: number, error: string, nextAttemptAt: number): Promise<void> {
    await this.#update(id, { attempts, next_attempt_at: nextAttemptAt }, error);
  }

  /** Gives up on a row. */
  async markFailed(id: number, attempts: number, error: string, at: number): Promise<void> {
    await this.#update(id, { state: 'failed', attempts, done_at: at }, error);
  }

  async #update(
    id: number,
    set: Partial<Omit<QueueColumns, 'last_error' | 'error'>>,
    error: string | null,
  ): Promise<void> {
    await this.#db
      .updateTable(this.table)
      .set({ ...set, [ERROR_COLUMN[this.table]]: error })
      .where('id', '=', id)
      .execute();
  }
}
