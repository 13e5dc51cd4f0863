import type { FeedbackInfo } from '../http/ports.js';
import { Repository } from './database.js';
import { ConflictError, NotFoundError } from './errors.js';

/** A feedback record: `FeedbackInfo` plus where its patch embeddings are. */
export interface FeedbackRecord extends FeedbackInfo {
  path: string;
}

interface FeedbackRow {
  id: number;
  sensor_id: string;
  alert_id: number;
  windows: number;
  patches: number;
  path: string;
  created_by: string;
  created_at: number;
  reverted_by: string | null;
  reverted_at: number | null;
}

const toRecord = (r: FeedbackRow): FeedbackRecord => ({
  id: r.id,
  sensorId: r.sensor_id,
  alertId: r.alert_id,
  windows: r.windows,
  patches: r.patches,
  path: r.path,
  createdBy: r.created_by,
  createdAt: r.created_at,
  revertedBy: r.reverted_by,
  revertedAt: r.reverted_at,
});

/** Alerts taught to a sensor's memory bank as normal ("false alarm, learn it"), and their reversals. */
export class FeedbackRepository extends Repository {
  /** Records taught feedback. The alert must exist. */
  async create(feedback: {
    sensorId: string;
    alertId: number;
    windows: number;
    patches: number;
    path: string;
    createdBy: string;
    createdAt?: number;
  }): Promise<FeedbackRecord> {
    const exists = await this.db
      .selectFrom('alerts')
      .select('id')
      .where('id', '=', feedback.alertId)
      .executeTakeFirst();
    if (!exists) throw new NotFoundError(`alert ${feedback.alertId} not found`);
    const row = await this.db
      .insertInto('feedback')
      .values({
        sensor_id: feedback.sensorId,
        alert_id: feedback.alertId,
        windows: feedback.windows,
        patches: feedback.patches,
        path: feedback.path,
        created_by: feedback.createdBy,
        created_at: feedback.createdAt ?? Date.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row);
  }

  async get(id: number): Promise<FeedbackRecord | null> {
    const row = await this.db.selectFrom('feedback').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** Like `get`, throwing `NotFoundError` for an unknown id. */
  async require(id: number): Promise<FeedbackRecord> {
    const record = await this.get(id);
    if (!record) throw new NotFoundError(`feedback ${id} not found`);
    return record;
  }

  /** The sensor's feedback, oldest first; `activeOnly` leaves out reverted records. */
  async listBySensor(sensorId: string, activeOnly = false): Promise<FeedbackRecord[]> {
    let q = this.db.selectFrom('feedback').selectAll().where('sensor_id', '=', sensorId).orderBy('id');
    if (activeOnly) q = q.where('reverted_at', 'is', null);
    return (await q.execute()).map(toRecord);
  }

  /** The latest feedback from an alert, or null. */
  async latestForAlert(alertId: number): Promise<FeedbackRecord | null> {
    const row = await this.db
      .selectFrom('feedback')
      .selectAll()
      .where('alert_id', '=', alertId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** Windows taught to the sensor and not reverted (`ModelStatus.feedbackWindows`). */
  async activeWindows(sensorId: string): Promise<number> {
    const row = await this.db
      .selectFrom('feedback')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('windows'), eb.lit(0)).as('n'))
      .where('sensor_id', '=', sensorId)
      .where('reverted_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Marks feedback reverted. It must belong to `sensorId`; reverting twice is a `ConflictError`. */
  async revert(sensorId: string, id: number, by: string, at = Date.now()): Promise<FeedbackRecord> {
    const record = await this.get(id);
    if (!record || record.sensorId !== sensorId) {
      throw new NotFoundError(`feedback ${id} of sensor '${sensorId}' not found`);
    }
    if (record.revertedAt !== null) {
      throw new ConflictError(
        `feedback ${id} was already reverted by ${record.revertedBy} at ${new Date(record.revertedAt).toISOString()}`,
      );
    }
    await this.db
      .updateTable('feedback')
      .set({ reverted_by: by, reverted_at: at })
      .where('id', '=', id)
      .where('reverted_at', 'is', null)
      .execute();
    return this.require(id);
  }
}
