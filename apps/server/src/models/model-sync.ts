/**
 * The models in use on this disk (`DATA/models/<sensorId>/`) brought in line with the database, before the
 * watcher looks at them: a sensor whose active version (set here or on any other instance) is not the one
 * here gets it, fetched by hash through the blob cache and swapped in; a model installed here whose version
 * the database no longer holds (the sensor was deleted on another instance) is moved to `DATA/retired/`.
 * A folder placed by hand (no `version.json`) is left to the watcher, which keeps it as a new version.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isSensorId } from '@hark/protocol';
import { pathInside } from '../paths.js';
import { stagingDir, swapIn } from './model-versions.js';
import { readVersionJson, type VersionStore } from './version-store.js';

export interface ModelSyncOptions {
  modelsDir: string;
  dataDir: string;
  versions: VersionStore;
  /** Sensors enrolling, fitting or activating here: left alone until that ends. */
  busy: (sensorId: string) => boolean;
  /**
   * The active version (and when it was set) each sensor had at the previous pull, kept by the caller: a
   * model removed by hand here since is left removed (the watcher unloads it) until the database names
   * another.
   */
  seen: Map<string, string>;
  /**
   * Whether a sensor's model folder may have changed here since the previous pull (the watcher's kernel
   * reports, `ModelWatcher.pullMayHaveChanged`; true when unknown). A sensor whose active version is the one
   * seen at the previous pull, in a folder that has not changed since, is not looked at again: its
   * `version.json` and the database's record of its version were read then. At 64 sensors that was 64 file
   * reads and 64 queries every poll, 40 % of an idle server's CPU.
   */
  mayHaveChanged?: (sensorId: string) => boolean;
  log: (line: string) => void;
}

/** Installs the database's active versions here and retires models deleted elsewhere; returns the sensors changed. */
export async function pullModels(o: ModelSyncOptions): Promise<string[]> {
  const changed: string[] = [];
  const active = new Map((await o.versions.active()).map((a) => [a.sensorId, a]));
  for (const [sensorId, { version, changedAt }] of active) {
    if (o.busy(sensorId)) continue;
    const key = `${version}@${changedAt}`;
    if (o.seen.get(sensorId) === key && o.mayHaveChanged?.(sensorId) === false) continue;
    const dir = pathInside(o.modelsDir, sensorId);
    const here = await readVersionJson(dir);
    const present = existsSync(join(dir, 'model.json'));
    // A model placed by hand: the watcher keeps it as the sensor's next version (and makes it active).
    if (!here && present) continue;
    // Installed here once (the key seen), then removed by hand: left removed.
    if (!present && o.seen.get(sensorId) === key) continue;
    const wanted = await o.versions.get(sensorId, version);
    if (!wanted) continue;
    if (here?.sensorId === sensorId && here.version === version && here.fittedAt === wanted.meta.fittedAt) {
      o.seen.set(sensorId, key);
      continue;
    }
    // Not seen until installed: a fetch that fails is tried again at the next pull.
    o.seen.delete(sensorId);
    try {
      const source = await o.versions.materialise(sensorId, version);
      const staging = await stagingDir(o.modelsDir, sensorId);
      try {
        await cp(source, staging, { recursive: true });
        await swapIn(o.modelsDir, sensorId, staging);
      } catch (err) {
        await rm(staging, { recursive: true, force: true });
        throw err;
      }
      o.log(`models: ${sensorId}: version ${version} is the active one in the database: installed here`);
      o.seen.set(sensorId, key);
      changed.push(sensorId);
    } catch (err) {
      o.log(`models: ${sensorId}: version ${version} could not be fetched: ${(err as Error).message}`);
    }
  }
  // Only once this disk's own versions are in the database can "not in the database" mean "deleted".
  if (!o.versions.imported) return changed;
  const local = await readdir(o.modelsDir, { withFileTypes: true }).catch(() => []);
  for (const e of local) {
    const sensorId = e.name;
    if (!e.isDirectory() || !isSensorId(sensorId) || active.has(sensorId) || o.busy(sensorId)) continue;
    const dir = pathInside(o.modelsDir, sensorId);
    const here = await readVersionJson(dir);
    if (here?.sensorId !== sensorId) continue;
    const stored = await o.versions.get(sensorId, here.version);
    if (stored?.meta.fittedAt === here.fittedAt) {
      // Stored but never made active (an earlier start stopped in between): it is the one in use.
      await o.versions.setActive(sensorId, here.version);
      continue;
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const retired = join(o.dataDir, 'retired');
    await mkdir(retired, { recursive: true });
    const kept = pathInside(retired, `${sensorId}-${stamp}`);
    await rename(dir, kept);
    o.log(
      `models: ${sensorId}: version ${here.version} is no longer in the database (the sensor was deleted on ` +
        `another instance); the model is kept in ${kept}`,
    );
    changed.push(sensorId);
  }
  return changed;
}
