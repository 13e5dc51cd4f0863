/**
 * Model versions in the database, for every instance: each version's metadata (`meta`, version.json's
 * fields; `summary`, model.json's config and fit summary) and its files as blobs (`model_files` names each
 * file's hash), and which version each sensor scores with (`model_active`). The files themselves are read
 * through the blob cache (`models/version-store.ts` puts them on disk where the detector loads them).
 */
import { BlobRepository } from './blob.repository.js';
import { Repository, type HarkDatabase } from './database.js';

/** A file of a model directory, as stored. */
export interface ModelFileRef {
  name: string;
  sha256: string;
  size: number;
}

export interface StoredModelVersion {
  sensorId: string;
  version: number;
  /** version.json's fields, as JSON. */
  meta: unknown;
  /** model.json's config and fit summary, as JSON. */
  summary: unknown;
  createdAt: number;
}

/** What `add` did: the version is new, was there already with the same fit, or the number is another fit's. */
export type AddOutcome = 'added' | 'exists' | 'taken';

export class ModelVersionRepository extends Repository {
  constructor(
    database: HarkDatabase,
    private readonly blobs: BlobRepository,
  ) {
    super(database);
  }

  /**
   * Stores version `version` of the sensor with its files (each put as a blob in the same transaction).
   * `sameFit(meta)` tells whether a row already holding the number is this very version (then nothing is
   * written: 'exists'); otherwise the number is 'taken' and nothing is written either.
   */
  async add(
    v: Omit<StoredModelVersion, 'createdAt'> & { createdAt?: number },
    files: { name: string; bytes: Uint8Array }[],
    sameFit: (meta: unknown) => boolean,
  ): Promise<AddOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('model_versions')
        .values({
          sensor_id: v.sensorId,
          version: v.version,
          meta: JSON.stringify(v.meta),
          summary: JSON.stringify(v.summary),
          created_at: v.createdAt ?? Date.now(),
        })
        .onConflict((oc) => oc.columns(['sensor_id', 'version']).doNothing())
        .returning('version')
        .executeTakeFirst();
      if (!inserted) {
        const row = await trx
          .selectFrom('model_versions')
          .select('meta')
          .where('sensor_id', '=', v.sensorId)
          .where('version', '=', v.version)
          .executeTakeFirstOrThrow();
        return sameFit(JSON.parse(row.meta)) ? 'exists' : 'taken';
      }
      for (const f of files) {
        const sha256 = await this.blobs.put(f.bytes, trx);
        await trx
          .insertInto('model_files')
          .values({
            sensor_id: v.sensorId,
            version: v.version,
            name: f.name,
            sha256,
            size: f.bytes.byteLength,
          })
          .execute();
      }
      return 'added';
    });
  }

  /** The sensor's version numbers, oldest first. */
  async numbers(sensorId: string): Promise<number[]> {
    const rows = await this.db
      .selectFrom('model_versions')
      .select('version')
      .where('sensor_id', '=', sensorId)
      .orderBy('version')
      .execute();
    return rows.map((r) => r.version);
  }

  /** Sensors that have versions. */
  async sensorIds(): Promise<string[]> {
    const rows = await this.db.selectFrom('model_versions').select('sensor_id').distinct().execute();
    return rows.map((r) => r.sensor_id).sort();
  }

  async get(sensorId: string, version: number): Promise<StoredModelVersion | null> {
    const row = await this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('sensor_id', '=', sensorId)
      .where('version', '=', version)
      .executeTakeFirst();
    return row ? toVersion(row) : null;
  }

  /** Every version of the sensor, oldest first. */
  async list(sensorId: string): Promise<StoredModelVersion[]> {
    const rows = await this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('sensor_id', '=', sensorId)
      .orderBy('version')
      .execute();
    return rows.map(toVersion);
  }

  /** The version's files, by name. */
  async files(sensorId: string, version: number): Promise<ModelFileRef[]> {
    return this.db
      .selectFrom('model_files')
      .select(['name', 'sha256', 'size'])
      .where('sensor_id', '=', sensorId)
      .where('version', '=', version)
      .orderBy('name')
      .execute();
  }

  /** Replaces the version's metadata; false when there is no such version. */
  async setMeta(sensorId: string, version: number, meta: unknown): Promise<boolean> {
    const r = await this.db
      .updateTable('model_versions')
      .set({ meta: JSON.stringify(meta) })
      .where('sensor_id', '=', sensorId)
      .where('version', '=', version)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Deletes versions of the sensor (all of them when `versions` is omitted, and then its active one too),
   * then the blobs nothing names any more; returns the hashes swept.
   */
  async remove(sensorId: string, versions?: readonly number[]): Promise<string[]> {
    if (versions?.length === 0) return [];
    let files = this.db.selectFrom('model_files').select('sha256').where('sensor_id', '=', sensorId);
    if (versions) files = files.where('version', 'in', versions);
    const candidates = [...new Set((await files.execute()).map((r) => r.sha256))];
    let del = this.db.deleteFrom('model_versions').where('sensor_id', '=', sensorId);
    if (versions) del = del.where('version', 'in', versions);
    // model_files and a model_active row naming them go with them (ON DELETE CASCADE).
    await del.execute();
    return this.blobs.sweep(candidates);
  }

  /** Makes `version` the one the sensor scores with, on every instance. */
  async setActive(sensorId: string, version: number, at = Date.now()): Promise<void> {
    await this.db
      .insertInto('model_active')
      .values({ sensor_id: sensorId, version, changed_at: at })
      .onConflict((oc) =>
        oc
          .column('sensor_id')
          .doUpdateSet({ version, changed_at: at })
          .where('model_active.version', '!=', version),
      )
      .execute();
  }

  /** The active version of each sensor that has one. */
  async active(): Promise<{ sensorId: string; version: number; changedAt: number }[]> {
    const rows = await this.db.selectFrom('model_active').selectAll().orderBy('sensor_id').execute();
    return rows.map((r) => ({ sensorId: r.sensor_id, version: r.version, changedAt: r.changed_at }));
  }

  async activeOf(sensorId: string): Promise<number | null> {
    const row = await this.db
      .selectFrom('model_active')
      .select('version')
      .where('sensor_id', '=', sensorId)
      .executeTakeFirst();
    return row?.version ?? null;
  }
}

function toVersion(r: {
  sensor_id: string;
  version: number;
  meta: string;
  summary: string;
  created_at: number;
}): StoredModelVersion {
  return {
    sensorId: r.sensor_id,
    version: r.version,
    meta: JSON.parse(r.meta),
    summary: JSON.parse(r.summary),
    createdAt: r.created_at,
  };
}
