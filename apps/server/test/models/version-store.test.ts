/**
 * Model versions kept in the database with their files as blobs, and on each instance's disk: numbering,
 * pruning, the upgrade of a data directory that kept them on disk only (idempotent, nothing lost), a version
 * fetched by hash on another instance (another data directory, the same database), and the models in use
 * brought in line with the database there (`pullModels`).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pullModels } from '../../src/models/model-sync.js';
import { IMPORTED_MARKER, VersionStore } from '../../src/models/version-store.js';
import { BlobCache } from '../../src/store/blob-cache.js';
import type { HarkStore } from '../../src/store/index.js';
import { tempDir, tempStore } from '../store/helpers.js';

/** A model directory whose `model.json` has what a version lists. */
function model(dir: string, fittedAt: string, bank = 'x'): string {
  mkdirSync(dir, { recursive: true });
  const json = {
    config: { method: 'patchcore', backbone: 'mobilenetv2', mel: { nMels: 64 } },
    fitted: {
      calibration: { method: 'gamma', q: 0.99, threshold: 2, n: 5, mean: 1, std: 0.2 },
      training: { clips: 12, seconds: 60, windows: 100, calibrationClips: 5, fittedAt },
    },
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'method.bank.f32'), bank);
  return dir;
}

const meta = {
  createdAt: 1,
  source: 'upload' as const,
  by: 'admin',
  flags: { short: false, alertsDuring: [] },
  warnings: [],
  activatedAt: null,
  activatedBy: null,
  trial: null,
};

/** An instance's version store: its own data directory over `store`'s database. */
function instance(store: HarkStore, data = tempDir(), keep = 10, logs: string[] = []) {
  const cache = new BlobCache(data, store.blobs);
  return {
    data,
    cache,
    versions: new VersionStore(data, keep, store.modelVersions, cache, (l) => logs.push(l)),
  };
}

describe('model versions', () => {
  it('numbers versions from 1, copies or moves the model in, stores them, lists them with their summaries', async () => {
    const { store } = tempStore();
    const { data, versions } = instance(store);
    await versions.start();
    const a = model(join(data, 'a'), '2026-01-01T00:00:00.000Z');
    const v1 = await versions.add('pump-1', a, meta);
    expect(v1).toMatchObject({ sensorId: 'pump-1', version: 1, fittedAt: '2026-01-01T00:00:00.000Z' });
    expect(existsSync(a)).toBe(true);
    const b = model(join(data, 'b'), '2026-01-02T00:00:00.000Z', 'y');
    expect((await versions.add('pump-1', b, meta, true)).version).toBe(2);
    expect(existsSync(b)).toBe(false);
    const list = await versions.list('pump-1');
    expect(list.map((v) => v.meta.version)).toEqual([1, 2]);
    expect(list[1].model).toEqual({
      config: { method: 'patchcore', backbone: 'mobilenetv2' },
      fitted: {
        calibration: { method: 'gamma', q: 0.99, threshold: 2, n: 5, mean: 1, std: 0.2 },
        training: {
          clips: 12,
          seconds: 60,
          windows: 100,
          calibrationClips: 5,
          fittedAt: '2026-01-02T00:00:00.000Z',
        },
      },
    });
    expect(readdirSync(join(data, 'model-versions', 'pump-1')).sort()).toEqual(['1', '2']);
    expect(await store.modelVersions.files('pump-1', 2)).toMatchObject([
      { name: 'method.bank.f32', size: 1 },
      { name: 'model.json' },
    ]);
    expect(await versions.list('nobody')).toEqual([]);
  });

  it('keeps the newest `keep` versions, never one in use nor the active one, never reuses a number; their blobs go', async () => {
    const { store } = tempStore();
    const { data, versions } = instance(store, tempDir(), 3);
    for (let i = 1; i <= 5; i++)
      await versions.add('fan-1', model(join(data, `m${i}`), `t${i}`, `bank ${i}`), meta);
    const blobs = (await store.blobs.totals()).blobs;
    // Version 1 is active, 2 the shadow: the spare ones are 3-5, of which one fits in `keep` 3.
    expect(await versions.prune('fan-1', [1, 2])).toEqual([3, 4]);
    expect(await versions.numbers('fan-1')).toEqual([1, 2, 5]);
    expect((await store.blobs.totals()).blobs).toBe(blobs - 4); // two banks and two model.json
    expect(existsSync(versions.dir('fan-1', 3))).toBe(false);
    expect(await versions.prune('fan-1', [5, null])).toEqual([]);
    expect((await versions.add('fan-1', model(join(data, 'm6'), 't6'), meta)).version).toBe(6);
    // The database names 2 active (set by another instance): kept too.
    await versions.setActive('fan-1', 2);
    expect(await versions.prune('fan-1', [6, null])).toEqual([1]);
    expect(await versions.numbers('fan-1')).toEqual([2, 5, 6]);
  });

  it('removes a half-written version left by a crash, skips a damaged one, updates metadata in both places', async () => {
    const { store } = tempStore();
    const logs: string[] = [];
    const { data, versions } = instance(store, tempDir(), 10, logs);
    await versions.add('pump-1', model(join(data, 'a'), 't1'), meta);
    mkdirSync(join(data, 'model-versions', 'pump-1', '.staging-2-123'), { recursive: true });
    mkdirSync(join(data, 'model-versions', 'pump-1', '7'), { recursive: true });
    await versions.start();
    expect(readdirSync(join(data, 'model-versions', 'pump-1')).sort()).toEqual(['1', '7']);
    expect(logs.join('\n')).toMatch(/pump-1\/7 is not a readable version/);
    expect((await versions.list('pump-1')).map((v) => v.meta.version)).toEqual([1]);
    expect(await versions.update('pump-1', 1, { warnings: ['w'] })).toMatchObject({ warnings: ['w'] });
    expect((await versions.get('pump-1', 1))?.meta.warnings).toEqual(['w']);
    expect(
      JSON.parse(readFileSync(join(versions.dir('pump-1', 1), 'version.json'), 'utf8')).warnings,
    ).toEqual(['w']);
  });

  it('upgrades a data directory that kept versions on disk only: stored once, the model in use made active', async () => {
    const { store } = tempStore();
    const data = tempDir();
    // Written by the previous hark: versions 1 and 2 on disk, 2 in use.
    for (const v of [1, 2]) {
      const dir = model(join(data, 'model-versions', 'pump-1', String(v)), `t${v}`, `bank ${v}`);
      writeFileSync(
        join(dir, 'version.json'),
        JSON.stringify({ ...meta, sensorId: 'pump-1', version: v, fittedAt: `t${v}` }),
      );
    }
    const inUse = model(join(data, 'models', 'pump-1'), 't2', 'bank 2');
    writeFileSync(
      join(inUse, 'version.json'),
      JSON.stringify({ ...meta, sensorId: 'pump-1', version: 2, fittedAt: 't2' }),
    );
    const logs: string[] = [];
    const { versions } = instance(store, data, 10, logs);
    await versions.start();
    expect(logs).toContain('models: 2 model version(s) on disk stored in the database');
    expect(await versions.numbers('pump-1')).toEqual([1, 2]);
    expect(await versions.active()).toMatchObject([{ sensorId: 'pump-1', version: 2 }]);
    expect(existsSync(join(data, 'model-versions', IMPORTED_MARKER))).toBe(true);
    const rows = async () => (await store.database.db.selectFrom('model_files').selectAll().execute()).length;
    const before = [await rows(), (await store.blobs.totals()).blobs];
    // Again (the marker lost, say): nothing is added twice.
    rmSync(join(data, 'model-versions', IMPORTED_MARKER));
    const again = instance(store, data);
    await again.versions.start();
    expect([await rows(), (await store.blobs.totals()).blobs]).toEqual(before);
    expect(await again.versions.numbers('pump-1')).toEqual([1, 2]);
  });

  it('a local version whose number another fit holds in the database is stored under the next number', async () => {
    const { store } = tempStore();
    const a = instance(store);
    await a.versions.add('pump-1', model(join(a.data, 'm'), 'from A'), meta);
    const data = tempDir();
    const dir = model(join(data, 'model-versions', 'pump-1', '1'), 'from B', 'b');
    writeFileSync(
      join(dir, 'version.json'),
      JSON.stringify({ ...meta, sensorId: 'pump-1', version: 1, fittedAt: 'from B' }),
    );
    const logs: string[] = [];
    const b = instance(store, data, 10, logs);
    await b.versions.start();
    expect(logs).toContain('models: pump-1: local version 1 is stored as version 2 (1 was taken)');
    expect((await b.versions.list('pump-1')).map((v) => [v.meta.version, v.meta.fittedAt])).toEqual([
      [1, 'from A'],
      [2, 'from B'],
    ]);
    expect(readFileSync(join(b.versions.dir('pump-1', 2), 'method.bank.f32'), 'utf8')).toBe('b');
  });

  it('another instance fetches a version by hash through its cache, and installs the active one before scoring', async () => {
    const { store } = tempStore();
    const a = instance(store);
    await a.versions.start();
    const v = await a.versions.add('pump-1', model(join(a.data, 'm'), 't1', 'the bank'), meta);
    await a.versions.setActive('pump-1', v.version);

    const logs: string[] = [];
    const b = instance(store, tempDir(), 10, logs);
    await b.versions.start();
    const modelsDir = join(b.data, 'models');
    mkdirSync(modelsDir, { recursive: true });
    const sync = {
      modelsDir,
      dataDir: b.data,
      versions: b.versions,
      busy: () => false,
      seen: new Map<string, string>(),
      log: (l: string) => logs.push(l),
    };
    // A fetch that fails (a chunk missing in the database) installs nothing and is tried again at the next pull.
    const bankBlob = (await store.modelVersions.files('pump-1', 1)).find(
      (f) => f.name === 'method.bank.f32',
    )!;
    await store.database.db.deleteFrom('blob_chunks').where('sha256', '=', bankBlob.sha256).execute();
    expect(await pullModels(sync)).toEqual([]);
    expect(logs.join('\n')).toMatch(/pump-1: version 1 could not be fetched: blob [0-9a-f]{64} is damaged/);
    expect(existsSync(join(modelsDir, 'pump-1'))).toBe(false);
    await store.blobs.put(Buffer.from('the bank')); // written again: the missing chunk comes back
    expect(await pullModels(sync)).toEqual(['pump-1']);
    expect(readFileSync(join(modelsDir, 'pump-1', 'method.bank.f32'), 'utf8')).toBe('the bank');
    expect(JSON.parse(readFileSync(join(modelsDir, 'pump-1', 'version.json'), 'utf8'))).toMatchObject({
      version: 1,
      fittedAt: 't1',
    });
    const files = await store.modelVersions.files('pump-1', 1);
    expect((await b.cache.list()).sort()).toEqual(files.map((f) => f.sha256).sort());
    // In line, and its folder reported unchanged (the watcher's kernel reports): not read again, so a
    // `version.json` changed behind the watcher's back waits for a report (or the watcher's full look); once
    // reported, the folder is read and the database's version installed again.
    const versionJson = join(modelsDir, 'pump-1', 'version.json');
    const installed = JSON.parse(readFileSync(versionJson, 'utf8')) as Record<string, unknown>;
    writeFileSync(versionJson, JSON.stringify({ ...installed, fittedAt: 'by hand' }));
    expect(await pullModels({ ...sync, mayHaveChanged: () => false })).toEqual([]);
    expect(JSON.parse(readFileSync(versionJson, 'utf8'))).toMatchObject({ fittedAt: 'by hand' });
    expect(await pullModels({ ...sync, mayHaveChanged: () => true })).toEqual(['pump-1']);
    expect(JSON.parse(readFileSync(versionJson, 'utf8'))).toMatchObject({ fittedAt: 't1' });
    // In line now: nothing to do; removed by hand here, it stays removed until the database names another.
    expect(await pullModels(sync)).toEqual([]);
    rmSync(join(modelsDir, 'pump-1'), { recursive: true });
    expect(await pullModels(sync)).toEqual([]);
    expect(existsSync(join(modelsDir, 'pump-1'))).toBe(false);
    // A damaged copy in B's cache is fetched again when the version is put on disk again.
    writeFileSync(b.cache.path(files[0].sha256), 'damaged');
    rmSync(b.versions.dir('pump-1', 1), { recursive: true });
    await b.versions.materialise('pump-1', 1);
    expect(readFileSync(join(b.versions.dir('pump-1', 1), files[0].name)).length).toBe(files[0].size);

    // A activates version 2: B installs it at its next pull.
    const v2 = await a.versions.add('pump-1', model(join(a.data, 'm2'), 't2', 'bank two'), meta);
    await a.versions.setActive('pump-1', v2.version);
    expect(await pullModels(sync)).toEqual(['pump-1']);
    expect(readFileSync(join(modelsDir, 'pump-1', 'method.bank.f32'), 'utf8')).toBe('bank two');
    // A busy sensor (fitting here) is left alone.
    await a.versions.setActive('pump-1', 1);
    expect(await pullModels({ ...sync, busy: () => true })).toEqual([]);
    await a.versions.setActive('pump-1', 2);

    // The sensor deleted on A: B retires its copy (kept, not deleted) at its next pull.
    await a.versions.removeSensor('pump-1');
    expect(await store.blobs.totals()).toEqual({ blobs: 0, bytes: 0 });
    expect(await pullModels(sync)).toEqual(['pump-1']);
    expect(existsSync(join(modelsDir, 'pump-1'))).toBe(false);
    expect(logs.join('\n')).toMatch(/pump-1: version 2 is no longer in the database .* kept in .*retired/);
    // A folder placed by hand (no version.json) is the watcher's to keep as a new version.
    model(join(modelsDir, 'fan-2'), 'by hand');
    expect(await pullModels(sync)).toEqual([]);
    expect(existsSync(join(modelsDir, 'fan-2', 'model.json'))).toBe(true);
  });
});
