import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  modelSignature,
  recoverSwaps,
  stagingDir,
  stampDir,
  swapIn,
} from '../../src/models/model-versions.js';
import { tempDir } from '../store/helpers.js';

/** A model directory holding `model.json` with `text`. */
function model(dir: string, text: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), text);
  return dir;
}

describe('model versions on disk', () => {
  it('swaps a staged model in place of the current one, leaving nothing behind', async () => {
    const models = tempDir();
    model(join(models, 'pump-1'), 'v1');
    const staging = await stagingDir(models, 'pump-1');
    expect(staging.startsWith(join(models, '.staging-pump-1-'))).toBe(true);
    model(staging, 'v2');
    await swapIn(models, 'pump-1', staging);
    expect(readFileSync(join(models, 'pump-1', 'model.json'), 'utf8')).toBe('v2');
    expect(readdirSync(models)).toEqual(['pump-1']);

    const first = await stagingDir(models, 'fan-2');
    model(first, 'v1');
    await swapIn(models, 'fan-2', first);
    expect(readFileSync(join(models, 'fan-2', 'model.json'), 'utf8')).toBe('v1');
  });

  it('repairs a swap a crash cut between its two renames, and removes staging leftovers', async () => {
    const models = tempDir();
    model(join(models, '.old-pump-1-1700000000000'), 'v1'); // moved aside, new one never arrived
    model(join(models, 'fan-2'), 'v2');
    model(join(models, '.old-fan-2-1700000000000'), 'v1'); // new one arrived: the old one goes
    model(join(models, '.staging-fan-2-1700000000001-abcdef'), 'half');
    await recoverSwaps(models);
    expect(readdirSync(models).sort()).toEqual(['fan-2', 'pump-1']);
    expect(readFileSync(join(models, 'pump-1', 'model.json'), 'utf8')).toBe('v1');
    expect(readFileSync(join(models, 'fan-2', 'model.json'), 'utf8')).toBe('v2');
  });

  it("signs a model directory by its files, so the watcher sees one replaced by hand; '' without a model", async () => {
    const models = tempDir();
    const dir = model(join(models, 'pump-1'), 'v1');
    const a = await modelSignature(dir);
    expect(a).toMatch(/^model\.json:2:/);
    expect(await modelSignature(dir)).toBe(a);
    writeFileSync(join(dir, 'model.json'), 'v2');
    utimesSync(join(dir, 'model.json'), new Date(2030, 0, 1), new Date(2030, 0, 1));
    expect(await modelSignature(dir)).not.toBe(a);
    writeFileSync(join(dir, 'bank.f32'), '');
    expect(await modelSignature(dir)).toMatch(/^bank\.f32:0:.*\|model\.json:2:/);
    expect(await modelSignature(join(models, 'none'))).toBe('');
    mkdirSync(join(models, 'empty'));
    expect(await modelSignature(join(models, 'empty'))).toBe('');
  });

  it('keeps enrolment and upload audio in time-stamped folders', async () => {
    const data = tempDir();
    const dir = await stampDir(data, 'enrol', 'pump-1');
    expect(dir.startsWith(join(data, 'enrol', 'pump-1', ''))).toBe(true);
    expect(dir.slice(dir.lastIndexOf('/') + 1)).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/);
    expect(existsSync(dir)).toBe(true);
  });
});
