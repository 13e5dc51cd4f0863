/**
 * On-disk cache of built backbone models, so start-up skips weight decoding and conversion.
 *
 * Key: sha256 over the converter version, the backbone id, the bytes of every weight/topology file and the tap
 * list. Entry: `<id>-<key16>.onnx` plus `<id>-<key16>.json` (full key, sha256 of the model bytes, tap shapes).
 * A missing, mismatched or corrupt entry reads as a miss and is rebuilt; writes go through a temp file and a
 * rename, so a crash never leaves a half-written model under the final name.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ConvertedModel, TapInfo } from './convert/convert-keras.js';

/** `HARK_CACHE_DIR` if set, else `~/.cache/hark/backbones`. */
export function defaultCacheDir(): string {
  return process.env.HARK_CACHE_DIR || join(homedir(), '.cache', 'hark', 'backbones');
}

/** sha256 (hex) over length-prefixed parts, so `['ab', 'c']` and `['a', 'bc']` differ. */
export function cacheKey(parts: (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    const bytes = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
    h.update(`${bytes.length}:`);
    h.update(bytes);
  }
  return h.digest('hex');
}

/** Key of a build from its inputs; reads every file in `files`. */
export async function buildKey(
  converterVersion: string,
  id: string,
  files: string[],
  taps: string[],
): Promise<string> {
  const contents = await Promise.all(files.map((f) => readFile(f)));
  return cacheKey([converterVersion, id, ...contents, JSON.stringify(taps)]);
}

/** Where the entry for `key` lives. */
export function cachePaths(dir: string, id: string, key: string): { model: string; meta: string } {
  const base = join(dir, `${id}-${key.slice(0, 16)}`);
  return { model: `${base}.onnx`, meta: `${base}.json` };
}

interface Meta {
  key: string;
  sha256: string;
  taps: TapInfo[];
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The cached build for `key`, or `null` when absent, for another key, or corrupt. */
export async function readCached(dir: string, id: string, key: string): Promise<ConvertedModel | null> {
  const paths = cachePaths(dir, id, key);
  try {
    const meta = JSON.parse(await readFile(paths.meta, 'utf8')) as Meta;
    if (meta.key !== key || !Array.isArray(meta.taps)) return null;
    const bytes = new Uint8Array(await readFile(paths.model));
    if (sha256(bytes) !== meta.sha256) return null;
    return { bytes, taps: meta.taps };
  } catch {
    return null; // missing or unparsable: rebuild
  }
}

/** Stores a build; returns the model path. */
export async function writeCached(
  dir: string,
  id: string,
  key: string,
  model: ConvertedModel,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const paths = cachePaths(dir, id, key);
  const meta: Meta = { key, sha256: sha256(model.bytes), taps: model.taps };
  const suffix = `.${process.pid}.${Date.now()}.tmp`;
  await writeFile(paths.model + suffix, model.bytes);
  await rename(paths.model + suffix, paths.model);
  await writeFile(paths.meta + suffix, `${JSON.stringify(meta, null, 1)}\n`);
  await rename(paths.meta + suffix, paths.meta);
  return paths.model;
}

/**
 * Reads the entry for `key` or builds, stores and returns it. A cache that cannot be written (read-only disk)
 * costs a warning and a rebuild next time, not a failure: `path` is then `null`.
 */
export async function cachedBuild(
  dir: string,
  id: string,
  key: string,
  build: () => ConvertedModel | Promise<ConvertedModel>,
): Promise<{ model: ConvertedModel; path: string | null; hit: boolean }> {
  const hit = await readCached(dir, id, key);
  if (hit) return { model: hit, path: cachePaths(dir, id, key).model, hit: true };
  const model = await build();
  try {
    return { model, path: await writeCached(dir, id, key, model), hit: false };
  } catch (err) {
    process.emitWarning(
      `backbone cache ${dir} is not writable (${(err as Error).message}); set HARK_CACHE_DIR or cacheDir`,
    );
    return { model, path: null, hit: false };
  }
}
