import { Repository } from './database.js';
import { greatest } from './dialect.js';
import { NotFoundError } from './errors.js';

/** A sensor as stored: what survives restarts. Live state (level, queue, ...) lives in the runtime. */
export interface SensorRecord {
  id: string;
  name: string;
  labels: Record<string, string>;
  firstSeen: number;
  lastSeen: number;
  snoozedUntil: number | null;
  /** The sensor's own severity thresholds (null: the server's defaults). */
  criticalPeak: number | null;
  criticalSeconds: number | null;
  /** When an admin deleted it (it is no longer listed; its alerts keep its name), else null. */
  deletedAt: number | null;
}

/** `PATCH /api/sensors/:id`: name, labels (replaced), severity thresholds (null: back to the defaults). */
export interface SensorPatch {
  name?: string;
  labels?: Record<string, string>;
  severityThresholds?: { criticalPeak?: number | null; criticalSeconds?: number | null };
}

interface SensorRow {
  id: string;
  name: string;
  labels: string;
  first_seen: number;
  last_seen: number;
  snoozed_until: number | null;
  critical_peak: number | null;
  critical_seconds: number | null;
  deleted_at: number | null;
}

const toRecord = (r: SensorRow): SensorRecord => ({
  id: r.id,
  name: r.name,
  labels: JSON.parse(r.labels) as Record<string, string>,
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
  snoozedUntil: r.snoozed_until,
  criticalPeak: r.critical_peak,
  criticalSeconds: r.critical_seconds,
  deletedAt: r.deleted_at,
});

/**
 * Sensors ever seen, their names, labels and snoozes. Every record read or written passes through a cache that
 * the data path reads synchronously ({@link SensorRepository.cached}: snoozes and severity thresholds per
 * scored window); `list()` refreshes all of it.
 */
export class SensorRepository extends Repository {
  readonly #cache = new Map<string, SensorRecord>();

  /** The sensor as this process last read or wrote it, or null (never seen, or not read yet). */
  cached(id: string): SensorRecord | null {
    return this.#cache.get(id) ?? null;
  }

  #remember(r: SensorRecord): SensorRecord {
    this.#cache.set(r.id, r);
    return r;
  }

  /**
   * Records that a sensor said hello at `at`: creates it (named after its id unless `name` is given) or
   * updates its last-seen time, and its name / labels when given. A deleted sensor's id registers anew: name,
   * labels, first-seen time, snooze and thresholds start over.
   */
  async upsert(
    id: string,
    at: number,
    patch: { name?: string; labels?: Record<string, string> } = {},
  ): Promise<SensorRecord> {
    const before = await this.db
      .selectFrom('sensors')
      .select('deleted_at')
      .where('id', '=', id)
      .executeTakeFirst();
    if (before && before.deleted_at !== null) {
      // Only where it was deleted, so that a registration racing this one keeps its own.
      await this.db
        .updateTable('sensors')
        .set({
          name: patch.name ?? id,
          labels: JSON.stringify(patch.labels ?? {}),
          first_seen: at,
          last_seen: at,
          snoozed_until: null,
          critical_peak: null,
          critical_seconds: null,
          deleted_at: null,
        })
        .where('id', '=', id)
        .where('deleted_at', 'is not', null)
        .execute();
      return this.require(id);
    }
    await this.db
      .insertInto('sensors')
      .values({
        id,
        name: patch.name ?? id,
        labels: JSON.stringify(patch.labels ?? {}),
        first_seen: at,
        last_seen: at,
      })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          last_seen: greatest(this.engine, eb.ref('sensors.last_seen'), eb.val(at)),
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.labels && { labels: JSON.stringify(patch.labels) }),
        })),
      )
      .execute();
    return this.require(id);
  }

  /** Moves the last-seen time forward (never back). Unknown ids are ignored. */
  async touch(id: string, at: number): Promise<void> {
    await this.db
      .updateTable('sensors')
      .set((eb) => ({ last_seen: greatest(this.engine, eb.ref('last_seen'), eb.val(at)) }))
      .where('id', '=', id)
      .execute();
  }

  async get(id: string): Promise<SensorRecord | null> {
    const row = await this.db.selectFrom('sensors').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) {
      this.#cache.delete(id);
      return null;
    }
    return this.#remember(toRecord(row));
  }

  /** Like `get`, throwing `NotFoundError` for an unknown id. */
  async require(id: string): Promise<SensorRecord> {
    const sensor = await this.get(id);
    if (!sensor || sensor.deletedAt !== null) throw new NotFoundError(`sensor '${id}' not found`);
    return sensor;
  }

  /** Every sensor, by id. */
  async list(): Promise<SensorRecord[]> {
    const rows = await this.db
      .selectFrom('sensors')
      .selectAll()
      .where('deleted_at', 'is', null)
      .orderBy('id')
      .execute();
    this.#cache.clear();
    return rows.map((r) => this.#remember(toRecord(r)));
  }

  /** Renames, relabels (labels are replaced, not merged) and / or sets the severity thresholds of a known sensor. */
  async update(id: string, patch: SensorPatch): Promise<SensorRecord> {
    await this.require(id);
    const t = patch.severityThresholds ?? {};
    const set = {
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.labels && { labels: JSON.stringify(patch.labels) }),
      ...(t.criticalPeak !== undefined && { critical_peak: t.criticalPeak }),
      ...(t.criticalSeconds !== undefined && { critical_seconds: t.criticalSeconds }),
    };
    if (Object.keys(set).length > 0)
      await this.db.updateTable('sensors').set(set).where('id', '=', id).execute();
    return this.require(id);
  }

  /** Mutes a known sensor's alerts until `until` (ms); null lifts the snooze. */
  async snooze(id: string, until: number | null): Promise<SensorRecord> {
    await this.require(id);
    await this.db.updateTable('sensors').set({ snoozed_until: until }).where('id', '=', id).execute();
    return this.require(id);
  }

  /**
   * Deletes a sensor from the list, keeping its row (name, labels) for the alerts that reference it. False
   * when the id is unknown or deleted already.
   */
  async markDeleted(id: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('sensors')
      .set({ deleted_at: at })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    await this.get(id);
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Removes everything stored of a sensor, in one transaction: its alerts (with their annotations,
   * occurrences, feedback and notification deliveries, by cascade), score points and daily percentiles,
   * spectrogram history, model records and its own row. Returns the ids of the alerts removed (their media
   * files are the caller's).
   */
  async purge(id: string): Promise<number[]> {
    const alerts = await this.db.transaction().execute(async (trx) => {
      const ids = (
        await trx.selectFrom('alerts').select('id').where('sensor_id', '=', id).orderBy('id').execute()
      ).map((r) => r.id);
      await trx.deleteFrom('feedback').where('sensor_id', '=', id).execute();
      await trx.deleteFrom('alerts').where('sensor_id', '=', id).execute();
      await trx.deleteFrom('scores').where('sensor_id', '=', id).execute();
      await trx.deleteFrom('score_days').where('sensor_id', '=', id).execute();
      await trx.deleteFrom('history_blocks').where('sensor_id', '=', id).execute();
      await trx.deleteFrom('models').where('sensor_id', '=', id).execute();
      await trx.deleteFrom('burn_ins').where('sensor_id', '=', id).execute();
      await trx.deleteFrom('sensors').where('id', '=', id).execute();
      return ids;
    });
    this.#cache.delete(id);
    return alerts;
  }
}
