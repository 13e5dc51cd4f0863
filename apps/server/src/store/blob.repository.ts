/**
 * Content-addressed blobs in the database (model files, alert clips and pictures): a blob is named by the
 * SHA-256 of its bytes, written once (a second write of the same bytes is a no-op), split into chunks of
 * {@link BLOB_CHUNK_BYTES} (`blob_chunks`, BLOB on SQLite, BYTEA on PostgreSQL), and checked against its name
 * whenever it is read back. Why the database and not S3: see DESIGN.md ("Models and alert media").
 *
 * A blob lives while a row names it: `model_files` and `alert_media` reference `blobs` by a foreign key, so a
 * named blob cannot be deleted. {@link BlobRepository.sweep} deletes the others (a sweep, not reference
 * counts: the references are the rows themselves, and a count kept beside them could drift from them).
 * A writer puts a blob and the row that names it in one transaction (`put(bytes, trx)`), and the put locks
 * the blob's row, so a sweep running at the same moment on another instance either finishes first (the put
 * then writes the blob again) or meets the new reference.
 */
import { createHash } from 'node:crypto';
import { Repository } from './database.js';
import type { Db } from './dialect.js';

/**
 * Bytes per chunk: 1 MiB. Large enough that a 30 MB model is 30 rows, small enough that one row stays far
 * below PostgreSQL's 1 GB field limit and the pg client's buffers, and that a read holds one chunk at a time.
 */
export const BLOB_CHUNK_BYTES = 1 << 20;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The lower-case hex SHA-256 of `bytes`: a blob's name. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Throws a `RangeError` naming `hash` when it is not 64 lower-case hex digits. */
export function checkSha256(hash: string): string {
  if (typeof hash !== 'string' || !SHA256_HEX.test(hash))
    throw new RangeError(`blob name ${JSON.stringify(hash)} must be a SHA-256 as 64 lower-case hex digits`);
  return hash;
}

/** A blob whose stored bytes do not hash to its name, or that lacks chunks: damage in the database. */
export class CorruptBlobError extends Error {
  readonly code = 'ERR_HARK_BLOB_CORRUPT';
  constructor(
    readonly sha256: string,
    detail: string,
  ) {
    super(
      `blob ${sha256} is damaged in the database (${detail}); write its content again (re-import the model, ` +
        'or restore the database from a backup)',
    );
    this.name = 'CorruptBlobError';
  }
}

/** A blob the database does not hold. */
export class MissingBlobError extends Error {
  readonly code = 'ERR_HARK_BLOB_MISSING';
  constructor(readonly sha256: string) {
    super(`blob ${sha256} is not in the database`);
    this.name = 'MissingBlobError';
  }
}

export interface BlobInfo {
  sha256: string;
  size: number;
  chunks: number;
  createdAt: number;
}

/** Foreign-key violations of both engines: the blob is still named by a row. */
const isStillReferenced = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
};

export class BlobRepository extends Repository {
  /**
   * Stores `bytes` (once: the same bytes again only lock the row) and returns their SHA-256. Pass the
   * transaction that also writes the row naming the blob, so that no sweep deletes it in between.
   */
  async put(bytes: Uint8Array, db: Db = this.db): Promise<string> {
    const hash = sha256Hex(bytes);
    const chunks = Math.max(1, Math.ceil(bytes.byteLength / BLOB_CHUNK_BYTES));
    // DO UPDATE (of nothing) rather than DO NOTHING: it locks an existing row until the transaction ends.
    await db
      .insertInto('blobs')
      .values({ sha256: hash, size: bytes.byteLength, chunks, created_at: Date.now() })
      .onConflict((oc) => oc.column('sha256').doUpdateSet({ size: (eb) => eb.ref('blobs.size') }))
      .execute();
    const have = await db
      .selectFrom('blob_chunks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sha256', '=', hash)
      .executeTakeFirstOrThrow();
    if (Number(have.n) === chunks) return hash;
    for (let i = 0; i < chunks; i++) {
      const part = bytes.subarray(i * BLOB_CHUNK_BYTES, (i + 1) * BLOB_CHUNK_BYTES);
      await db
        .insertInto('blob_chunks')
        .values({ sha256: hash, idx: i, bytes: Buffer.from(part.buffer, part.byteOffset, part.byteLength) })
        .onConflict((oc) => oc.columns(['sha256', 'idx']).doNothing())
        .execute();
    }
    return hash;
  }

  /** The blob's size and chunk count, or null when it is not stored. */
  async info(hash: string): Promise<BlobInfo | null> {
    const row = await this.db
      .selectFrom('blobs')
      .selectAll()
      .where('sha256', '=', checkSha256(hash))
      .executeTakeFirst();
    return row ? { sha256: row.sha256, size: row.size, chunks: row.chunks, createdAt: row.created_at } : null;
  }

  async has(hash: string): Promise<boolean> {
    return (await this.info(hash)) !== null;
  }

  /**
   * The blob's chunks in order, one query (and one chunk in memory) at a time; the last step checks the
   * whole against the name. A consumer keeps nothing until the iteration ends without a `CorruptBlobError`.
   */
  async *chunks(hash: string): AsyncGenerator<Buffer> {
    const info = await this.info(hash);
    if (!info) throw new MissingBlobError(hash);
    const digest = createHash('sha256');
    let size = 0;
    for (let i = 0; i < info.chunks; i++) {
      const row = await this.db
        .selectFrom('blob_chunks')
        .select('bytes')
        .where('sha256', '=', hash)
        .where('idx', '=', i)
        .executeTakeFirst();
      if (!row) throw new CorruptBlobError(hash, `chunk ${i} of ${info.chunks} is missing`);
      const bytes = Buffer.isBuffer(row.bytes) ? row.bytes : Buffer.from(row.bytes);
      digest.update(bytes);
      size += bytes.byteLength;
      yield bytes;
    }
    if (size !== info.size) throw new CorruptBlobError(hash, `${size} bytes stored, ${info.size} recorded`);
    const got = digest.digest('hex');
    if (got !== hash) throw new CorruptBlobError(hash, `its bytes hash to ${got}`);
  }

  /** The whole blob, checked against its name. */
  async get(hash: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of this.chunks(hash)) parts.push(part);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /**
   * Deletes the blobs no row names (of `candidates` only, when given); returns the hashes deleted. A blob a
   * writer names meanwhile is kept (its foreign key refuses the delete).
   */
  async sweep(candidates?: readonly string[]): Promise<string[]> {
    if (candidates?.length === 0) return [];
    let q = this.db
      .selectFrom('blobs')
      .select('sha256')
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('model_files')
              .select('model_files.sha256')
              .whereRef('model_files.sha256', '=', 'blobs.sha256'),
          ),
        ),
      )
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('alert_media')
              .select('alert_media.sha256')
              .whereRef('alert_media.sha256', '=', 'blobs.sha256'),
          ),
        ),
      );
    if (candidates) q = q.where('sha256', 'in', candidates.map(checkSha256));
    const doomed = (await q.execute()).map((r) => r.sha256);
    const deleted: string[] = [];
    for (const hash of doomed) {
      try {
        // The chunks go with the row (ON DELETE CASCADE), in the same statement.
        await this.db.deleteFrom('blobs').where('sha256', '=', hash).execute();
        deleted.push(hash);
      } catch (err) {
        if (!isStillReferenced(err)) throw err;
      }
    }
    return deleted;
  }

  /** Number of blobs and their bytes in all. */
  async totals(): Promise<{ blobs: number; bytes: number }> {
    const row = await this.db
      .selectFrom('blobs')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('size').as('bytes')])
      .executeTakeFirstOrThrow();
    return { blobs: Number(row.n), bytes: Number(row.bytes ?? 0) };
  }
}
