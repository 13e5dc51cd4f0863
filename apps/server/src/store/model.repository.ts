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
  async record(model: NewModelRecord): Promise<ModelRecord> {
    const row = await this.db
      .insertInto('models')
      .values({
        sensor_id: model.sensorId,
        source: model.source,
        fitted_at: model.fittedAt ?? null,
        training_seconds: model.trainingSeconds,
        training_clips: model.trainingClips,
        method: model.method,
        backbone: model.backbone,
        bank_size: model.bankSize,
        threshold: model.threshold,
        error: model.error ?? null,
        recorded_at: model.recordedAt ?? Date.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row as ModelRow);
  }

  /** The sensor's newest record, or null. */
  async latest(sensorId: string): Promise<ModelRecord | null> {
    const row = await this.db
      .selectFrom('models')
      .selectAll()
      .where('sensor_id', '=', sensorId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toRecord(row as ModelRow) : null;
  }

  /** The sensor's newest successful fit, or null. */
  async latestFitted(sensorId: string): Promise<ModelRecord | null> {
    const row = await this.db
      .selectFrom('models')
      .selectAll()
      .where('sensor_id', '=', sensorId)
      .where('error', 'is', null)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toRecord(row as ModelRow) : null;
  }

  /** Every record of the sensor, oldest first. */
  async history(sensorId: string): Promise<ModelRecord[]> {
    const rows = await this.db
      .selectFrom('models')
      .selectAll()
      .where('sensor_id', '=', sensorId)
      .orderBy('id')
      .execute();
    return (rows as ModelRow[]).map(toRecord);
  }
}
