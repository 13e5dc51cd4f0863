/**
 * Numbered model versions, kept in the database for every instance (`store/model-version.repository.ts`): a
 * version's metadata (`version.json`'s fields), the summary of its `model.json`, and its files as
 * content-addressed blobs. On this instance a version is also a directory, `DATA/model-versions/<sensorId>/<n>/`
 * (a whole model directory as `hark fit` writes it, plus `version.json`), where the detector loads it: written
 * there by a fit here, or put there from the blob cache (`materialise`) when it was made on another instance.
 * The model in use stays `DATA/models/<sensorId>/` (the watcher, the crash-safe swap and hand-placed models
 * work as before); a copy of its `version.json` there says which version it is.
 *
 * A version is written to a hidden staging directory, stored in the database, then renamed into place, so a
 * half-written one never lists. The store keeps the newest `keep` versions of a sensor, and never deletes the
 * ones in use (active here or in the database, shadow). A data directory from before the database held
 * versions is imported once at start (`start`), nothing lost.
 */
import { existsSync } from 'node:fs';
import { copyFile, cp, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelVersion, ShadowTrial } from '@hark/protocol';
import { isSensorId } from '@hark/protocol';
import { pathInside } from '../paths.js';
import type { BlobCache } from '../store/blob-cache.js';
import type { AddOutcome, ModelVersionRepository } from '../store/model-version.repository.js';

/** `version.json`: the part of a `ModelVersion` that is not read from `model.json` or the registry. */
export interface VersionJson {
  sensorId: string;
  version: number;
  createdAt: number;
  source: ModelVersion['source'];
  by: string | null;
  /** `model.json`'s `fitted.training.fittedAt`: tells a copy of this version from another model. */
  fittedAt: string;
  flags: ModelVersion['flags'];
  warnings: string[];
  activatedAt: number | null;
  activatedBy: string | null;
  trial: ShadowTrial | null;
}

export const VERSION_FILE = 'version.json';

/** Written in `DATA/model-versions` once the versions found there were stored in the database. */
export const IMPORTED_MARKER = '.imported-to-database';

/** `model.json`'s fields a version lists (read without loading the model). */
export interface ModelJsonSummary {
  config: { method: string; backbone: string };
  fitted: {
    calibration: {
      method: string;
      q: number;
      threshold: number;
      n: number;
      mean: number;
      std: number;
      rate?: { perDay: number };
    };
    training: { clips: number; seconds: number; windows: number; calibrationClips: number; fittedAt: string };
  };
}

export async function readModelSummary(dir: string): Promise<ModelJsonSummary> {
  const m = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as ModelJsonSummary;
  // Only what a version lists: the method's arrays and the backbone's description stay in the files.
  return {
    config: { method: m.config.method, backbone: m.config.backbone },
    fitted: { calibration: m.fitted.calibration, training: m.fitted.training },
  };
}

export async function readVersionJson(dir: string): Promise<VersionJson | null> {
  try {
    return JSON.parse(await readFile(join(dir, VERSION_FILE), 'utf8')) as VersionJson;
  } catch {
    return null;
  }
}

export async function writeVersionJson(dir: string, v: VersionJson): Promise<void> {
  const tmp = join(dir, `.${VERSION_FILE}.tmp`);
  await writeFile(tmp, `${JSON.stringify(v, null, 1)}\n`);
  await rename(tmp, join(dir, VERSION_FILE));
}

/** A listed version: its `version.json` and the summary of its `model.json`. */
export interface StoredVersion {
  meta: VersionJson;
  model: ModelJsonSummary;
}

/** The files of a model directory that a version stores (not `version.json`, not hidden or temporary ones). */
async function modelFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter(
      (e) => e.isFile() && e.name !== VERSION_FILE && !e.name.startsWith('.') && !e.name.endsWith('.tmp'),
    )
    .map((e) => e.name)
    .sort();
}

export class VersionStore {
  readonly root: string;

  constructor(
    readonly dataDir: string,
    /** Versions kept per sensor (besides those in use). */
    readonly keep: number,
    private readonly db: ModelVersionRepository,
    private readonly cache: BlobCache,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.root = join(dataDir, 'model-versions');
  }

  /** `DATA/model-versions/<sensorId>/<n>`: where version n is on this instance's disk. */
  dir(sensorId: string, version: number): string {
    return pathInside(this.root, sensorId, String(version));
  }

  /**
   * Removes staging leftovers of a crash, and the first time on a data directory stores the versions it
   * holds (and which one each sensor uses) in the database.
   */
  async start(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const sensor of await this.#localSensors()) {
      const dir = pathInside(this.root, sensor);
      for (const name of await readdir(dir).catch(() => [])) {
        if (name.startsWith('.staging-')) await rm(join(dir, name), { recursive: true, force: true });
      }
    }
    const marker = join(this.root, IMPORTED_MARKER);
    if (existsSync(marker)) return;
    await this.#importLocal();
    await writeFile(marker, `${new Date().toISOString()}\n`);
  }

  /** True once the versions on this disk were stored in the database (`start`). */
  get imported(): boolean {
    return existsSync(join(this.root, IMPORTED_MARKER));
  }

  /** Version numbers of a sensor, oldest first. */
  numbers(sensorId: string): Promise<number[]> {
    return this.db.numbers(sensorId);
  }

  /** Sensors with kept versions. */
  sensorIds(): Promise<string[]> {
    return this.db.sensorIds();
  }

  /** Every version of a sensor, oldest first. */
  async list(sensorId: string): Promise<StoredVersion[]> {
    return (await this.db.list(sensorId)).map((v) => ({
      meta: v.meta as VersionJson,
      model: v.summary as ModelJsonSummary,
    }));
  }

  async get(sensorId: string, version: number): Promise<StoredVersion | null> {
    const v = await this.db.get(sensorId, version);
    return v ? { meta: v.meta as VersionJson, model: v.summary as ModelJsonSummary } : null;
  }

  async exists(sensorId: string, version: number): Promise<boolean> {
    return (await this.db.get(sensorId, version)) !== null;
  }

  /**
   * Copies the model directory `from` (or moves it, when `move`) in as the sensor's next version with `meta`
   * (its number filled in), stored in the database; returns the new `version.json`. The caller holds the
   * sensor (one fit at a time); a number taken meanwhile by another instance moves this one to the next.
   */
  async add(
    sensorId: string,
    from: string,
    meta: Omit<VersionJson, 'version' | 'sensorId' | 'fittedAt'>,
    move = false,
  ): Promise<VersionJson> {
    const parent = pathInside(this.root, sensorId);
    await mkdir(parent, { recursive: true });
    const staging = join(parent, `.staging-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
    if (move) await rename(from, staging);
    else await cp(from, staging, { recursive: true });
    try {
      const model = await readModelSummary(staging);
      let version = await this.#next(sensorId);
      for (;;) {
        const full: VersionJson = { ...meta, sensorId, version, fittedAt: model.fitted.training.fittedAt };
        await writeVersionJson(staging, full);
        if ((await this.#publish(staging, full, model)) !== 'taken') {
          await this.#clearLocal(sensorId, version);
          await rename(staging, this.dir(sensorId, version));
          return full;
        }
        version = Math.max(version + 1, await this.#next(sensorId));
      }
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
  }

  /** Rewrites a version's metadata with `patch` (in the database, and in its directory here if any). */
  async update(sensorId: string, version: number, patch: Partial<VersionJson>): Promise<VersionJson | null> {
    const v = await this.db.get(sensorId, version);
    if (!v) return null;
    const next = { ...(v.meta as VersionJson), ...patch };
    await this.db.setMeta(sensorId, version, next);
    const dir = this.dir(sensorId, version);
    if ((await readVersionJson(dir))?.fittedAt === next.fittedAt) await writeVersionJson(dir, next);
    return next;
  }

  /**
   * Deletes the oldest versions beyond `keep`, never one of `inUse` nor the one the database says is active;
   * returns the numbers deleted. Their blobs go too unless another version names them.
   */
  async prune(sensorId: string, inUse: readonly (number | null)[]): Promise<number[]> {
    const all = await this.numbers(sensorId);
    const used = [...inUse, await this.db.activeOf(sensorId)];
    const spare = all.filter((n) => !used.includes(n));
    const keepSpare = Math.max(0, this.keep - (all.length - spare.length));
    const doomed = spare.slice(0, Math.max(0, spare.length - keepSpare));
    await this.cache.forget(await this.db.remove(sensorId, doomed));
    for (const n of doomed) await rm(this.dir(sensorId, n), { recursive: true, force: true });
    return doomed;
  }

  /** Forgets every version of a deleted sensor in the database (its blobs too, when nothing else names them). */
  async removeSensor(sensorId: string): Promise<void> {
    await this.cache.forget(await this.db.remove(sensorId));
  }

  /** Makes `version` the sensor's model on every instance. */
  setActive(sensorId: string, version: number): Promise<void> {
    return this.db.setActive(sensorId, version);
  }

  /** The version each sensor uses, as the database says. */
  active(): Promise<{ sensorId: string; version: number; changedAt: number }[]> {
    return this.db.active();
  }

  /**
   * The directory of `version` on this disk, put there first from the blob cache (fetched from the database
   * when needed, each file checked against its hash) when it is absent or another model.
   */
  async materialise(sensorId: string, version: number): Promise<string> {
    const v = await this.db.get(sensorId, version);
    if (!v) throw new Error(`sensor ${sensorId} has no model version ${version} in the database`);
    const meta = v.meta as VersionJson;
    const files = await this.db.files(sensorId, version);
    const dir = this.dir(sensorId, version);
    if (await this.#holds(dir, meta, files)) return dir;
    const parent = pathInside(this.root, sensorId);
    await mkdir(parent, { recursive: true });
    const staging = join(parent, `.staging-${version}-${Date.now()}`);
    await mkdir(staging);
    try {
      for (const f of files) {
        const cached = await this.cache.file(f.sha256);
        const to = pathInside(staging, f.name);
        // A hard link shares the cache's bytes (both are written once, never in place); a copy where the
        // file system has no links.
        await link(cached, to).catch(() => copyFile(cached, to));
      }
      await writeVersionJson(staging, meta);
      await this.#clearLocal(sensorId, version);
      await rename(staging, dir);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    this.log(`models: ${sensorId}: version ${version} fetched from the database (${files.length} file(s))`);
    return dir;
  }

  /** Whether `dir` holds the version: the same fit, and every file at its size. */
  async #holds(dir: string, meta: VersionJson, files: { name: string; size: number }[]): Promise<boolean> {
    if ((await readVersionJson(dir))?.fittedAt !== meta.fittedAt) return false;
    for (const f of files) {
      const s = await stat(join(dir, f.name)).catch(() => null);
      if (s?.size !== f.size) return false;
    }
    return true;
  }

  /** A local directory in the way of version n (another fit under that number) is moved aside, kept. */
  async #clearLocal(sensorId: string, version: number): Promise<void> {
    const dir = this.dir(sensorId, version);
    if (!existsSync(dir)) return;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const kept = pathInside(join(this.dataDir, 'retired'), `${sensorId}-version-${version}-${stamp}`);
    await mkdir(join(this.dataDir, 'retired'), { recursive: true });
    await rename(dir, kept);
    this.log(`models: ${sensorId}: a local version ${version} is not the database's; kept in ${kept}`);
  }

  /** The next free number: above every version in the database and on this disk. */
  async #next(sensorId: string): Promise<number> {
    const stored = (await this.db.numbers(sensorId)).at(-1) ?? 0;
    const local = (await this.#localNumbers(sensorId)).at(-1) ?? 0;
    return Math.max(stored, local) + 1;
  }

  /** Stores the version in `dir` (its files as blobs) in the database. */
  #publish(dir: string, meta: VersionJson, model: ModelJsonSummary): Promise<AddOutcome> {
    return modelFiles(dir).then(async (names) => {
      const files = [];
      for (const name of names) files.push({ name, bytes: await readFile(join(dir, name)) });
      return this.db.add(
        { sensorId: meta.sensorId, version: meta.version, meta, summary: model, createdAt: meta.createdAt },
        files,
        (m) => (m as VersionJson).fittedAt === meta.fittedAt,
      );
    });
  }

  async #localSensors(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && isSensorId(e.name)).map((e) => e.name);
  }

  async #localNumbers(sensorId: string): Promise<number[]> {
    const names = await readdir(pathInside(this.root, sensorId)).catch(() => [] as string[]);
    return names
      .filter((n) => /^[1-9]\d*$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /**
   * The upgrade: every version on this disk goes to the database (idempotent: one already there with the same
   * fit is left; a number another fit holds there moves this one to the next free number), and a sensor's
   * model in use becomes its active version unless the database names one already.
   */
  async #importLocal(): Promise<void> {
    let count = 0;
    for (const sensorId of await this.#localSensors()) {
      for (const n of await this.#localNumbers(sensorId)) {
        const dir = this.dir(sensorId, n);
        const meta = await readVersionJson(dir);
        const model = await readModelSummary(dir).catch(() => null);
        if (!meta || !model) {
          this.log(`models: ${dir} is not a readable version (version.json, model.json): left as it is`);
          continue;
        }
        let version = n;
        let full: VersionJson = { ...meta, sensorId, version };
        let outcome = await this.#publish(dir, full, model);
        while (outcome === 'taken') {
          version = Math.max(version + 1, await this.#next(sensorId));
          full = { ...meta, sensorId, version };
          outcome = await this.#publish(dir, full, model);
        }
        if (outcome === 'added') count++;
        if (version !== n) {
          await rename(dir, this.dir(sensorId, version));
          await writeVersionJson(this.dir(sensorId, version), full);
          const active = pathInside(this.dataDir, 'models', sensorId);
          const inUse = await readVersionJson(active);
          if (inUse?.version === n && inUse.fittedAt === meta.fittedAt) await writeVersionJson(active, full);
          this.log(
            `models: ${sensorId}: local version ${n} is stored as version ${version} (${n} was taken)`,
          );
        }
      }
      const inUse = await readVersionJson(pathInside(this.dataDir, 'models', sensorId));
      if (inUse?.sensorId !== sensorId || (await this.db.activeOf(sensorId)) !== null) continue;
      const stored = await this.db.get(sensorId, inUse.version);
      if ((stored?.meta as VersionJson | undefined)?.fittedAt === inUse.fittedAt)
        await this.db.setActive(sensorId, inUse.version);
    }
    if (count) this.log(`models: ${count} model version(s) on disk stored in the database`);
  }
}
