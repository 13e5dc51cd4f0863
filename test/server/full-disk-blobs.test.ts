/**
 * Blobs on a full disk: storing a clip or a model version in a SQLite database whose disk is full is a clear
 * error naming what was being stored, and works again once space returns; an instance whose blob cache is on a
 * full disk still serves alert media (straight from the database) and says which file it could not write;
 * fetching a model version there fails with an error naming the file and the fix. Nothing crashes.
 *
 * Mounting a tmpfs needs root: without it the test is skipped, visibly.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { AlertMediaStore } from '../../apps/server/src/alerts/alert-media.js';
import { VersionStore } from '../../apps/server/src/models/version-store.js';
import { BlobCache } from '../../apps/server/src/store/blob-cache.js';
import { HarkStore } from '../../apps/server/src/store/index.js';
import { tempDir } from '../support/server.js';
import { smallDisk } from '../support/tmpfs.js';

const disk = smallDisk('full-disk-blobs', '8m', 'full-disk blob tests');
const { mounted, mountPoint } = disk;

/** A model directory with what a version lists and a bank of `bytes` bytes. */
function model(dir: string, fittedAt: string, bytes: number): string {
  mkdirSync(dir, { recursive: true });
  const json = {
    config: { method: 'patchcore', backbone: 'mobilenetv2' },
    fitted: {
      calibration: { method: 'gamma', q: 0.99, threshold: 2, n: 5, mean: 1, std: 0.2 },
      training: { clips: 12, seconds: 60, windows: 100, calibrationClips: 5, fittedAt },
    },
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'method.bank.f32'), Buffer.alloc(bytes, 7));
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

describe.skipIf(!mounted)('blobs on a full disk', () => {
  const stores: HarkStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    disk.unmount();
  });

  test('a clip or a version stored in a database on a full disk is a clear error, and works once space returns', async () => {
    const dataDir = join(mountPoint, 'full');
    const store = new HarkStore(dataDir);
    stores.push(store);
    const alert = await store.alerts.open({
      sensorId: 'pump-1',
      kind: 'anomaly',
      start: 1000,
      peakScore: 2,
      peakAt: 1100,
      threshold: 1,
    });
    const media = new AlertMediaStore(dataDir, store);
    const versions = new VersionStore(
      tempDir('full-disk-versions'),
      10,
      store.modelVersions,
      new BlobCache(dataDir, store.blobs),
    );
    const bank = model(join(tempDir('full-disk-model'), 'm'), 't1', 2 << 20);
    disk.fill();
    await expect(media.writeClip(alert.id, new Float32Array(16000).fill(0.2), 16000)).rejects.toThrow(
      new RegExp(`cannot store alerts/${alert.id}/clip.wav: .*(disk is full|SQLITE_FULL)`),
    );
    await expect(versions.add('pump-1', bank, meta)).rejects.toThrow(/database or disk is full/);
    expect(await versions.numbers('pump-1')).toEqual([]);
    expect(await store.blobs.totals()).toEqual({ blobs: 0, bytes: 0 });
    disk.free();
    await media.writeClip(alert.id, new Float32Array(16000).fill(0.2), 16000);
    expect((await media.readClip(alert.id)).subarray(0, 4).toString()).toBe('RIFF');
    expect((await versions.add('pump-1', bank, meta)).version).toBe(1);
  });

  test('a cache on a full disk: media are served from the database, a version fetch names the file and the fix', async () => {
    const store = new HarkStore(tempDir('full-disk-db'));
    stores.push(store);
    const alert = await store.alerts.open({
      sensorId: 'pump-2',
      kind: 'anomaly',
      start: 1000,
      peakScore: 2,
      peakAt: 1100,
      threshold: 1,
    });
    const writer = new AlertMediaStore(tempDir('full-disk-a'), store);
    await writer.writeClip(alert.id, new Float32Array(16000).fill(0.3), 16000);
    const a = new VersionStore(
      tempDir('full-disk-a-data'),
      10,
      store.modelVersions,
      new BlobCache(tempDir('full-disk-a-cache'), store.blobs),
    );
    await a.add('pump-2', model(join(tempDir('full-disk-model'), 'm'), 't2', 1 << 20), meta);

    // Another instance whose data directory (and so its blob cache) is on the full disk.
    const onFull = join(mountPoint, 'instance-b');
    mkdirSync(onFull, { recursive: true });
    const logs: string[] = [];
    const reader = new AlertMediaStore(onFull, store, (l) => logs.push(l));
    const b = new VersionStore(onFull, 10, store.modelVersions, new BlobCache(onFull, store.blobs));
    disk.fill();
    try {
      expect((await reader.readClip(alert.id)).equals(await writer.readClip(alert.id))).toBe(true);
      expect(logs.join('\n')).toMatch(
        /blob cache: cannot (create the blob cache|write the blob cache file) .*ENOSPC.*; read from the database instead/,
      );
      await expect(b.materialise('pump-2', 1)).rejects.toThrow(
        /^cannot (create the blob cache|write the blob cache file) \S+: ENOSPC.*; free space on (its disk|the disk of \S+)$/,
      );
    } finally {
      disk.free();
    }
    expect((await b.materialise('pump-2', 1)).startsWith(onFull)).toBe(true);
  });
});
