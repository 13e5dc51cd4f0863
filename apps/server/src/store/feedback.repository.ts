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
  create(feedback: {
    sensorId: string;
    alertId: number;
    windows: number;
    patches: number;
    path: string;
    createdBy: string;
    createdAt?: number;
  }): FeedbackRecord {
    const exists = this.db.prepare('SELECT 1 FROM alerts WHERE id = ?').get(feedback.alertId);
    if (!exists) throw new NotFoundError(`alert ${feedback.alertId} not found`);
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO feedback (sensor_id, alert_id, windows, patches, path, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        feedback.sensorId,
        feedback.alertId,
        feedback.windows,
        feedback.patches,
        feedback.path,
        feedback.createdBy,
        feedback.createdAt ?? Date.now(),
      );
    return this.require(Number(lastInsertRowid));
  }

  get(id: number): FeedbackRecord | null {
    const row = this.db.prepare('SELECT * FROM feedback WHERE id = ?').get(id) as FeedbackRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** Like `get`, throwing `NotFoundError` for an unknown id. */
  require(id: number): FeedbackRecord {
    const record = this.get(id);
    if (!record) throw new NotFoundError(`feedback ${id} not found`);
    return record;
  }

  /** The sensor's feedback, oldest first; `activeOnly` leaves out reverted records. */
  listBySensor(sensorId: string, activeOnly = false): FeedbackRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM feedback WHERE sensor_id = ? ${activeOnly ? 'AND reverted_at IS NULL' : ''} ORDER BY id`,
      )
      .all(sensorId) as FeedbackRow[];
    return rows.map(toRecord);
  }

  /** The latest feedback from an alert, or null. */
  latestForAlert(alertId: number): FeedbackRecord | null {
    const row = this.db
      .prepare('SELECT * FROM feedback WHERE alert_id = ? ORDER BY id DESC LIMIT 1')
      .get(alertId) as FeedbackRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** Windows taught to the sensor and not reverted (`ModelStatus.feedbackWindows`). */
  activeWindows(sensorId: string): number {
    const row = this.db
      .prepare(
        'SELECT COALESCE(SUM(windows), 0) AS n FROM feedback WHERE sensor_id = ? AND reverted_at IS NULL',
      )
      .get(sensorId) as { n: number };
    return row.n;
  }

  /** Marks feedback reverted. It must belong to `sensorId`; reverting twice is a `ConflictError`. */
  revert(sensorId: string, id: number, by: string, at = Date.now()): FeedbackRecord {
    const record = this.get(id);
    if (!record || record.sensorId !== sensorId) {
      throw new NotFoundError(`feedback ${id} of sensor '${sensorId}' not found`);
    }
    if (record.revertedAt !== null) {
      throw new ConflictError(
        `feedback ${id} was already reverted by ${record.revertedBy} at ${new Date(record.revertedAt).toISOString()}`,
      );
    }
    this.db.prepare('UPDATE feedback SET reverted_by = ?, reverted_at = ? WHERE id = ?').run(by, at, id);
    return this.require(id);
  }
}
