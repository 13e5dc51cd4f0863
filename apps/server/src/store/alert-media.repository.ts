/**
 * What is kept of each alert (clip, spectrogram, anomaly map, patches, windows) as blobs: `alert_media` names,
 * per alert and file name, the blob holding it. The row and its blob are written in one transaction; a file
 * written again names its new blob and the old one is swept if nothing else names it. Rows go with their
 * alert (ON DELETE CASCADE); `remove` then sweeps the blobs left unnamed.
 */
import type { BlobRepository } from './blob.repository.js';
import { Repository, type HarkDatabase } from './database.js';

export class AlertMediaRepository extends Repository {
  constructor(
    database: HarkDatabase,
    private readonly blobs: BlobRepository,
  ) {
    super(database);
  }

  /** Stores `bytes` as the alert's file `name`; returns their SHA-256. */
  async put(alertId: number, name: string, bytes: Uint8Array): Promise<string> {
    const { hash, old } = await this.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('alert_media')
        .select('sha256')
        .where('alert_id', '=', alertId)
        .where('name', '=', name)
        .executeTakeFirst();
      const h = await this.blobs.put(bytes, trx);
      await trx
        .insertInto('alert_media')
        .values({ alert_id: alertId, name, sha256: h, size: bytes.byteLength })
        .onConflict((oc) =>
          oc.columns(['alert_id', 'name']).doUpdateSet({ sha256: h, size: bytes.byteLength }),
        )
        .execute();
      return { hash: h, old: before?.sha256 ?? null };
    });
    if (old && old !== hash) await this.blobs.sweep([old]);
    return hash;
  }

  /** The blob holding the alert's file `name`, or null. */
  async get(alertId: number, name: string): Promise<{ sha256: string; size: number } | null> {
    const row = await this.db
      .selectFrom('alert_media')
      .select(['sha256', 'size'])
      .where('alert_id', '=', alertId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row ?? null;
  }

  /** The alert's stored file names. */
  async names(alertId: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('alert_media')
      .select('name')
      .where('alert_id', '=', alertId)
      .orderBy('name')
      .execute();
    return rows.map((r) => r.name);
  }

  /**
   * Forgets the media of `alertIds` (rows already gone with their alerts are fine), then sweeps every blob
   * nothing names; returns the hashes swept.
   */
  async remove(alertIds: readonly number[]): Promise<string[]> {
    for (let i = 0; i < alertIds.length; i += 500) {
      await this.db
        .deleteFrom('alert_media')
        .where('alert_id', 'in', alertIds.slice(i, i + 500))
        .execute();
    }
    return this.blobs.sweep();
  }
}
