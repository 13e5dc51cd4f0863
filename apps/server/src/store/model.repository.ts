import type { ModelStatus } from '@hark/protocol';
import { Repository } from './database.js';

export type ModelSource = NonNullable<ModelStatus['source']>;

/** One fit (or failed fit) of a sensor's model, as recorded by the model service. */
export interface ModelRecord {
  id: number;
  sensorId: string;
  source: ModelSource;
  /** ISO 8601 time of the fit, as in model.json; null for a failed fit. */
  fittedAt: string | null;
  trainingSeconds: number | null;
  trainingClips: number | null;
  method: string | null;
  backbone: string | null;
  bankSize: number | null;
  threshold: number | null;
  /** Why the fit failed; null on success. */
  error: string | null;
  recordedAt: number;
}

export type NewModelRecord = Omit<ModelRecord, 'id' | 'recordedAt' | 'fittedAt' | 'error'> &
  Partial<Pick<ModelRecord, 'recordedAt' | 'fittedAt' | 'error'>>;

interface ModelRow {
  id: number;
  sensor_id: string;
  source: ModelSource;
  fitted_at: string | null;
  training_seconds: number | null;
  training_clips: number | null;
  method: string | null;
  backbone: string | null;
  bank_size: number | null;
  threshold: number | null;
  error: string | null;
  recorded_at: number;
}

const toRecord = (r: ModelRow): ModelRecord => ({
  id: r.id,
  sensorId: r.sensor_id,
  source: r.source,
  fittedAt: r.fitted_at,
  trainingSeconds: r.training_seconds,
  trainingClips: r.training_clips,
  method: r.method,
  backbone: r.backbone,
  bankSize: r.bank_size,
  threshold: r.threshold,
  error: r.error,
  recordedAt: r.recorded_at,
});

/** The history of each sensor's model fits; the latest record describes the model in use (or the failure). */
export class ModelRepository extends Repository {
  /** Appends a record. */
  record(model: NewModelRecord): ModelRecord {
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO models (sensor_id, source, fitted_at, training_seconds, training_clips, method, backbone,
           bank_size, threshold, error, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        model.sensorId,
        model.source,
        model.fittedAt ?? null,
        model.trainingSeconds,
        model.trainingClips,
        model.method,
        model.backbone,
        model.bankSize,
        model.threshold,
        model.error ?? null,
        model.recordedAt ?? Date.now(),
      );
    return toRecord(this.db.prepare('SELECT * FROM models WHERE id = ?').get(lastInsertRowid) as ModelRow);
  }

  /** The sensor's newest record, or null. */
  latest(sensorId: string): ModelRecord | null {
    const row = this.db
      .prepare('SELECT * FROM models WHERE sensor_id = ? ORDER BY id DESC LIMIT 1')
      .get(sensorId) as ModelRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** The sensor's newest successful fit, or null. */
  latestFitted(sensorId: string): ModelRecord | null {
    const row = this.db
      .prepare('SELECT * FROM models WHERE sensor_id = ? AND error IS NULL ORDER BY id DESC LIMIT 1')
      .get(sensorId) as ModelRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** Every record of the sensor, oldest first. */
  history(sensorId: string): ModelRecord[] {
    return (
      this.db.prepare('SELECT * FROM models WHERE sensor_id = ? ORDER BY id').all(sensorId) as ModelRow[]
    ).map(toRecord);
  }
}
