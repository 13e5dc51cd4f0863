/**
 * This instance's copies of blobs: `DATA/cache/blobs/<sha256>`, filled from the database on demand (one fill
 * per blob at a time), written to a temporary file, checked against the name and renamed into place. A copy
 * is checked again each time it is used; a damaged one is fetched again. Several instances on one database
 * each keep their own cache, so none needs a shared volume.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { checkSha256, sha256Hex, type BlobRepository } from './blob.repository.js';
import { isStorageFailure } from './storage-health.js';

/** `DATA/cache/blobs`. */
export const BLOB_CACHE_DIR = join('cache', 'blobs');

export class BlobCache {
  readonly dir: string;
  readonly #fills = new Map<string, Promise<string>>();

  constructor(
    dataDir: string,
    readonly blobs: BlobRepository,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.dir = join(dataDir, BLOB_CACHE_DIR);
  }

  /** Where the copy of `hash` lives (whether or not it is there). */
  path(hash: string): string {
    return join(this.dir, checkSha256(hash));
  }

  /**
   * The path of a checked local copy of blob `hash`: the cached one when its bytes hash to the name,
   * otherwise fetched from the database first.
   */
  async file(hash: string): Promise<string> {
    const path = this.path(hash);
    if ((await hashFile(path)) === hash) return path;
    return this.#fill(hash);
  }

  /**
   * The blob's bytes, checked: from the cache (filled on demand), or straight from the database when the
   * cache cannot be written (a full disk: the media stay readable).
   */
  async read(hash: string): Promise<Buffer> {
    const path = this.path(hash);
    const cached = await readFile(path).catch(() => null);
    if (cached && sha256Hex(cached) === hash) return cached;
    try {
      await this.#fill(hash);
    } catch (err) {
      if (!isStorageFailure(err)) throw err;
      this.log(`blob cache: ${(err as Error).message}; read from the database instead`);
      return this.blobs.get(hash);
    }
    const bytes = await readFile(path);
    if (sha256Hex(bytes) !== hash) throw new Error(`${path} changed while it was read; read it again`);
    return bytes;
  }

  /** Stores `bytes` in the database (in `put`'s transaction, see the repository) and keeps a copy here. */
  async remember(hash: string, bytes: Uint8Array): Promise<void> {
    try {
      await writeChecked(this.dir, this.path(hash), bytes, hash);
    } catch (err) {
      // Only a copy: the database holds the blob; a read fills it later.
      this.log(`blob cache: ${(err as Error).message}`);
    }
  }

  /** Removes the copies of `hashes` (the blobs were swept). */
  async forget(hashes: readonly string[]): Promise<void> {
    for (const h of hashes) await rm(this.path(h), { force: true });
  }

  /**
   * Removes the copies of blobs the database no longer holds (swept by another instance) and temporary files
   * a crash left; returns how many files went. Run at start: a copy is only ever read by its hash, so a stale
   * one costs disk, never a wrong answer.
   */
  async prune(): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      // A temporary file is a crash's leftover once it is older than any fill (a fill in progress is younger).
      const stale = /\.tmp-[0-9a-f]+$/.test(name)
        ? ((await stat(join(this.dir, name)).catch(() => null))?.mtimeMs ?? Infinity) < Date.now() - 3_600_000
        : /^[0-9a-f]{64}$/.test(name) && !(await this.blobs.has(name));
      if (!stale) continue;
      await rm(join(this.dir, name), { force: true });
      removed++;
    }
    return removed;
  }

  /** Hashes of the copies here. */
  async list(): Promise<string[]> {
    return (await readdir(this.dir).catch(() => [] as string[])).filter((n) => /^[0-9a-f]{64}$/.test(n));
  }

  #fill(hash: string): Promise<string> {
    let fill = this.#fills.get(hash);
    if (!fill) {
      fill = this.#fetch(hash).finally(() => this.#fills.delete(hash));
      this.#fills.set(hash, fill);
    }
    return fill;
  }

  async #fetch(hash: string): Promise<string> {
    const path = this.path(hash);
    await mkdir(this.dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      throw Object.assign(
        new Error(`cannot create the blob cache ${this.dir}: ${err.message}; free space on its disk`),
        { code: err.code },
      );
    });
    const onDisk = (err: unknown) =>
      Object.assign(
        new Error(
          `cannot write the blob cache file ${path}: ${(err as Error).message}; free space on the disk of ${this.dir}`,
        ),
        { code: (err as NodeJS.ErrnoException).code },
      );
    const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    let file;
    try {
      file = await open(tmp, 'w');
    } catch (err) {
      throw onDisk(err);
    }
    try {
      try {
        // The repository checks the whole against the name after the last chunk: a damaged blob throws
        // before the file is renamed into place.
        for await (const chunk of this.blobs.chunks(hash))
          await file.write(chunk).catch((e) => Promise.reject(onDisk(e)));
        await file.sync().catch((e) => Promise.reject(onDisk(e)));
      } finally {
        await file.close();
      }
      await rename(tmp, path).catch((e) => Promise.reject(onDisk(e)));
      return path;
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}

/** The hex SHA-256 of a file's bytes, or null when it cannot be read. */
export function hashFile(path: string): Promise<string | null> {
  return new Promise((resolve) => {
    const digest = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => digest.update(d))
      .on('error', () => resolve(null))
      .on('end', () => resolve(digest.digest('hex')));
  });
}

/** Writes `bytes` to a temporary file beside `path`, fsyncs and renames it; refuses bytes that are not `hash`. */
async function writeChecked(dir: string, path: string, bytes: Uint8Array, hash: string): Promise<void> {
  if (sha256Hex(bytes) !== hash) throw new Error(`the bytes given for blob ${hash} do not hash to it`);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw new Error(`cannot write the blob cache file ${path}: ${(err as Error).message}`);
  }
}
