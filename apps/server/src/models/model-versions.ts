/**
 * The model in use on disk: `DATA/models/<sensorId>/`; a new one is written to a staging directory and
 * swapped in with two renames, and a crash between them is repaired at start (the numbered versions kept
 * beside it are `version-store.ts`'s). A directory's
 * signature (its files' names, sizes and times) tells the watcher when one was placed or replaced by hand.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathInside } from '../paths.js';

/** A new, empty staging directory for a model of `sensorId` (hidden from the watcher by its dot). */
export async function stagingDir(modelsDir: string, sensorId: string): Promise<string> {
  const dir = pathInside(modelsDir, `.staging-${sensorId}-${Date.now()}-${randomBytes(3).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Replaces `models/<id>` by `staging` with two renames; a crash between them is repaired at start. */
export async function swapIn(modelsDir: string, sensorId: string, staging: string): Promise<void> {
  const dir = pathInside(modelsDir, sensorId);
  const old = pathInside(modelsDir, `.old-${sensorId}-${Date.now()}`);
  const had = existsSync(dir);
  if (had) await rename(dir, old);
  await rename(staging, dir);
  if (had) await rm(old, { recursive: true, force: true });
}

/** A model moved aside (`.old-*`) with no model in place is put back; staging leftovers are removed. */
export async function recoverSwaps(modelsDir: string): Promise<void> {
  for (const name of await readdir(modelsDir)) {
    const m = /^\.old-(.+)-\d+$/.exec(name);
    if (m && !existsSync(pathInside(modelsDir, m[1])))
      await rename(join(modelsDir, name), pathInside(modelsDir, m[1]));
    else if (m || name.startsWith('.staging-'))
      await rm(join(modelsDir, name), { recursive: true, force: true });
  }
}

/** Names, sizes and times of a model directory's files; '' when it holds no `model.json`. */
export async function modelSignature(dir: string): Promise<string> {
  try {
    const names = (await readdir(dir)).sort();
    const parts = await Promise.all(
      names.map(async (n) => {
        const s = await stat(join(dir, n));
        return `${n}:${s.size}:${s.mtimeMs}`;
      }),
    );
    return names.includes('model.json') ? parts.join('|') : '';
  } catch {
    return '';
  }
}

/** `DATA/<kind>/<sensorId>/<timestamp>/`, created: where an enrolment's or an upload's WAVs are kept. */
export async function stampDir(
  dataDir: string,
  kind: 'enrol' | 'uploads',
  sensorId: string,
): Promise<string> {
  const dir = pathInside(dataDir, kind, sensorId, new Date().toISOString().replace(/[:.]/g, '-'));
  await mkdir(dir, { recursive: true });
  return dir;
}
