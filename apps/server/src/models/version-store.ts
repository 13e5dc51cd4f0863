/**
 * Numbered model versions on disk: `DATA/model-versions/<sensorId>/<n>/` holds a whole model directory (as
 * `hark fit` writes it) plus `version.json`, what it was trained on and how it fared. The model in use stays
 * `DATA/models/<sensorId>/` (the watcher, the crash-safe swap and hand-placed models work as before); a copy
 * of its `version.json` there says which version it is. A version is written to a hidden staging directory
 * and renamed into place, so a half-written one never lists. The store keeps the newest `keep` versions of a
 * sensor, and never deletes the ones it is told are in use (active, shadow).
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelVersion, ShadowTrial } from '@hark/protocol';
import { pathInside } from '../paths.js';

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

/** `model.json`'s fields a version lists (read without loading the model). */
interface ModelJsonSummary {
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
  return JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as ModelJsonSummary;
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

export class VersionStore {
  readonly root: string;

  constructor(
    dataDir: string,
    /** Versions kept per sensor (besides those in use). */
    readonly keep: number,
  ) {
    this.root = join(dataDir, 'model-versions');
  }

  /** `DATA/model-versions/<sensorId>/<n>`. */
  dir(sensorId: string, version: number): string {
    return pathInside(this.root, sensorId, String(version));
  }

  /** Removes staging leftovers of a crash. */
  async start(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const sensor of await readdir(this.root)) {
      const dir = pathInside(this.root, sensor);
      for (const name of await readdir(dir).catch(() => [])) {
        if (name.startsWith('.staging-')) await rm(join(dir, name), { recursive: true, force: true });
      }
    }
  }

  /** Version numbers of a sensor, oldest first. */
  async numbers(sensorId: string): Promise<number[]> {
    const names = await readdir(pathInside(this.root, sensorId)).catch(() => [] as string[]);
    return names
      .filter((n) => /^[1-9]\d*$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Every readable version of a sensor, oldest first (a damaged one is skipped). */
  async list(sensorId: string): Promise<StoredVersion[]> {
    const out: StoredVersion[] = [];
    for (const n of await this.numbers(sensorId)) {
      const v = await this.get(sensorId, n);
      if (v) out.push(v);
    }
    return out;
  }

  async get(sensorId: string, version: number): Promise<StoredVersion | null> {
    const dir = this.dir(sensorId, version);
    const meta = await readVersionJson(dir);
    if (!meta) return null;
    try {
      return { meta, model: await readModelSummary(dir) };
    } catch {
      return null;
    }
  }

  /**
   * Copies the model directory `from` (or moves it, when `move`) in as the sensor's next version with `meta`
   * (its number filled in); returns the new `version.json`. The caller holds the sensor (one fit at a time).
   */
  async add(
    sensorId: string,
    from: string,
    meta: Omit<VersionJson, 'version' | 'sensorId' | 'fittedAt'>,
    move = false,
  ): Promise<VersionJson> {
    const version = ((await this.numbers(sensorId)).at(-1) ?? 0) + 1;
    const parent = pathInside(this.root, sensorId);
    await mkdir(parent, { recursive: true });
    const staging = join(parent, `.staging-${version}-${Date.now()}`);
    if (move) await rename(from, staging);
    else await cp(from, staging, { recursive: true });
    try {
      const model = await readModelSummary(staging);
      const full: VersionJson = { ...meta, sensorId, version, fittedAt: model.fitted.training.fittedAt };
      await writeVersionJson(staging, full);
      await rename(staging, this.dir(sensorId, version));
      return full;
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
  }

  /** Rewrites a version's `version.json` with `patch`. */
  async update(sensorId: string, version: number, patch: Partial<VersionJson>): Promise<VersionJson | null> {
    const dir = this.dir(sensorId, version);
    const meta = await readVersionJson(dir);
    if (!meta) return null;
    const next = { ...meta, ...patch };
    await writeVersionJson(dir, next);
    return next;
  }

  /** Deletes the oldest versions beyond `keep`, never one of `inUse`; returns the numbers deleted. */
  async prune(sensorId: string, inUse: readonly (number | null)[]): Promise<number[]> {
    const all = await this.numbers(sensorId);
    const spare = all.filter((n) => !inUse.includes(n));
    const keepSpare = Math.max(0, this.keep - (all.length - spare.length));
    const doomed = spare.slice(0, Math.max(0, spare.length - keepSpare));
    for (const n of doomed) await rm(this.dir(sensorId, n), { recursive: true, force: true });
    return doomed;
  }

  exists(sensorId: string, version: number): boolean {
    return existsSync(join(this.dir(sensorId, version), 'model.json'));
  }
}
