import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VersionStore } from '../../src/models/version-store.js';
import { tempDir } from '../store/helpers.js';

/** A model directory whose `model.json` has what a version lists. */
function model(dir: string, fittedAt: string): string {
  mkdirSync(dir, { recursive: true });
  const json = {
    config: { method: 'patchcore', backbone: 'mobilenetv2' },
    fitted: {
      calibration: { method: 'gamma', q: 0.99, threshold: 2, n: 5, mean: 1, std: 0.2 },
      training: { clips: 12, seconds: 60, windows: 100, calibrationClips: 5, fittedAt },
    },
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'method.bank.f32'), 'x');
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

describe('model versions kept on disk', () => {
  it('numbers versions from 1, copies or moves the model in, and lists them with their summaries', async () => {
    const data = tempDir();
    const store = new VersionStore(data, 10);
    await store.start();
    const a = model(join(data, 'a'), '2026-01-01T00:00:00.000Z');
    const v1 = await store.add('pump-1', a, meta);
    expect(v1).toMatchObject({ sensorId: 'pump-1', version: 1, fittedAt: '2026-01-01T00:00:00.000Z' });
    expect(existsSync(a)).toBe(true);
    const b = model(join(data, 'b'), '2026-01-02T00:00:00.000Z');
    expect((await store.add('pump-1', b, meta, true)).version).toBe(2);
    expect(existsSync(b)).toBe(false);
    const list = await store.list('pump-1');
    expect(list.map((v) => v.meta.version)).toEqual([1, 2]);
    expect(list[1].model.fitted.training.clips).toBe(12);
    expect(readdirSync(join(data, 'model-versions', 'pump-1')).sort()).toEqual(['1', '2']);
    expect(await store.list('nobody')).toEqual([]);
  });

  it('keeps the newest `keep` versions, never one in use, and never reuses a number', async () => {
    const data = tempDir();
    const store = new VersionStore(data, 3);
    for (let i = 1; i <= 5; i++) await store.add('fan-1', model(join(data, `m${i}`), `t${i}`), meta);
    // Version 1 is active, 2 the shadow: the spare ones are 3-5, of which one fits in `keep` 3.
    expect(await store.prune('fan-1', [1, 2])).toEqual([3, 4]);
    expect(await store.numbers('fan-1')).toEqual([1, 2, 5]);
    expect(await store.prune('fan-1', [5, null])).toEqual([]);
    expect((await store.add('fan-1', model(join(data, 'm6'), 't6'), meta)).version).toBe(6);
    expect(await store.prune('fan-1', [6, null])).toEqual([1]);
    expect(await store.numbers('fan-1')).toEqual([2, 5, 6]);
  });

  it('removes a half-written version left by a crash and skips a damaged one', async () => {
    const data = tempDir();
    const store = new VersionStore(data, 10);
    await store.add('pump-1', model(join(data, 'a'), 't1'), meta);
    mkdirSync(join(data, 'model-versions', 'pump-1', '.staging-2-123'), { recursive: true });
    mkdirSync(join(data, 'model-versions', 'pump-1', '7'), { recursive: true });
    await store.start();
    expect(readdirSync(join(data, 'model-versions', 'pump-1')).sort()).toEqual(['1', '7']);
    expect((await store.list('pump-1')).map((v) => v.meta.version)).toEqual([1]);
    expect(await store.update('pump-1', 1, { warnings: ['w'] })).toMatchObject({ warnings: ['w'] });
    expect((await store.get('pump-1', 1))?.meta.warnings).toEqual(['w']);
  });
});
