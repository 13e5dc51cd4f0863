/**
 * Safe models on a running server: every model is a numbered version kept on disk (an older data
 * directory's single model becomes version 1), a new upload runs in shadow beside the active model on the
 * same live windows with its would-be alerts recorded, an admin promotes it and rolls back, `?activate=now`
 * skips the trial, a shadow can be discarded, and old versions are pruned but never the active or shadow one.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { trainingNeeds } from '@hark/detection';
import { writeSynthDataset } from '@hark/dsp';
import type { ModelStatus, ModelVersion } from '@hark/protocol';
import {
  runSensor,
  startServer,
  tempDir,
  type TestServer,
  untilValue,
  waitForConnected,
  waitForModel,
} from '../support/server.js';
import { synthPumpModel } from '../support/models.js';

const root = tempDir('versions-synth');
const train = () => join(root, 'synth_pump', 'train');
let s: TestServer;
let dataDir: string;
let handDir: string;
let sensorToken: string;

beforeAll(async () => {
  writeSynthDataset(root, {
    machines: ['pump'],
    trainClips: 12,
    testClips: 0,
    clipSeconds: 5,
    streamSeconds: 30,
  });
  handDir = await synthPumpModel();
  // A data directory from before versions: one model in DATA/models/pump-1/.
  dataDir = tempDir('versions-data');
  cpSync(handDir, join(dataDir, 'models', 'pump-1'), { recursive: true });
  s = await startServer({ dataDir, modelPollMs: 300, modelVersionsKept: 3, maxShadowModels: 1 });
  sensorToken = (await s.server.tokens.create('sensor', 'versions test', ['pump-1'])).token;
}, 300_000);

afterAll(async () => {
  await s?.close();
});

const versions = (id: string) => s.api<ModelVersion[]>(`/api/sensors/${id}/models`);
const model = (id: string) => s.api<ModelStatus>(`/api/sensors/${id}/model`);

async function upload(id: string, query = ''): Promise<Response> {
  const form = new FormData();
  for (const f of readdirSync(train()).sort())
    form.append('files', new Blob([readFileSync(join(train(), f))], { type: 'audio/wav' }), f);
  return fetch(`${s.url}/api/sensors/${id}/model${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.admin}` },
    body: form,
  });
}

/** Fits take minutes on a loaded machine: polls here wait up to 10 minutes. */
const until = <T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 600_000) =>
  untilValue(what, get, ok, ms);

describe('model versions on a running server', () => {
  test("an older data directory's single model is version 1, kept on disk with its training summary", async () => {
    const list = await versions('pump-1');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      sensorId: 'pump-1',
      version: 1,
      active: true,
      shadow: false,
      source: 'directory',
      by: null,
      method: 'patchcore',
      trainingClips: 12,
      flags: { short: false, alertsDuring: [] },
      trial: null,
    });
    expect(list[0].trainingSeconds).toBeGreaterThan(55);
    expect(list[0].trainingSeconds).toBeLessThanOrEqual(60);
    expect(list[0].calibration.clips).toBeGreaterThanOrEqual(5);
    expect(list[0].threshold).toBeGreaterThan(0);
    expect(existsSync(join(dataDir, 'model-versions', 'pump-1', '1', 'model.json'))).toBe(true);
    expect(await model('pump-1')).toMatchObject({ version: 1, shadowVersion: null, minTrainingClips: 6 });
  });

  test('an upload runs in shadow on the same live windows; its would-be alerts are recorded, not raised', async () => {
    const res = await upload('pump-1');
    expect(res.status).toBe(202);
    const m = await until(
      'the shadow',
      () => model('pump-1'),
      (x) => x.shadowVersion === 2 && x.state === 'ready',
    );
    expect(m.version).toBe(1);
    const [first, v1] = await versions('pump-1');
    let v2 = first;
    expect(v1).toMatchObject({ version: 1, active: true, shadow: false });
    expect(v2).toMatchObject({
      version: 2,
      active: false,
      shadow: true,
      source: 'upload',
      activatedAt: null,
    });
    // 12 clips are fewer than the calibration's share needs: accepted, flagged, with the reason.
    const needs = trainingNeeds({});
    expect(v2.flags.short).toBe(needs.recommendedClips > 12);
    expect(v2.warnings.join(' ')).toContain(`recommended ${needs.recommendedClips} clips`);
    expect(v2.trial).toMatchObject({ outcome: 'running', windows: 0, wouldBeAlerts: [] });

    const r = await runSensor([
      '--server',
      s.url,
      '--id',
      'pump-1',
      '--token',
      sensorToken,
      '--wav',
      join(root, 'synth_pump', 'stream.wav'),
      // At real time: the shadow takes the scorer's slack only, and a loaded machine has little at 4x.
      '--speed',
      '1',
    ]).done;
    expect(r.code, r.out).toBe(0);
    await s.server.sensors.scheduler.idle();
    [v2] = await versions('pump-1');
    const trial = v2.trial!;
    expect(trial.outcome).toBe('running');
    expect(trial.windows).toBeGreaterThan(0);
    expect(trial.windows + trial.skipped).toBeLessThanOrEqual(
      s.server.sensors.scheduler.stats('pump-1').scored,
    );
    // The synthetic stream holds anomalies: both models (fitted on the same sound) put them over 1.
    expect(trial.activeAlertCount, JSON.stringify(trial)).toBeGreaterThan(0);
    expect(trial.shadowAlertCount, JSON.stringify(trial)).toBeGreaterThan(0);
    expect(trial.wouldBeAlerts).toHaveLength(trial.shadowAlertCount);
    expect(trial.wouldBeAlerts[0].peakScore).toBeGreaterThanOrEqual(1);
    // The active model raised its alerts as usual.
    const raised = (await s.api<{ total: number }>('/api/alerts?sensorId=pump-1&kind=anomaly&limit=1')).total;
    expect(raised).toBeGreaterThan(0);
  }, 900_000);

  test('a second shadow beyond HARK_MAX_SHADOW_MODELS is refused before fitting, naming the way out', async () => {
    cpSync(handDir, join(dataDir, 'models', 'pump-2'), { recursive: true });
    await waitForModel(s, 'pump-2', 60_000);
    const res = await upload('pump-2');
    expect(res.status).toBe(409);
    expect(((await res.json()) as { message: string }).message).toMatch(/pump-1.*activate=now/);
    expect(await versions('pump-2')).toHaveLength(1);
  });

  test('an admin promotes the shadow, then rolls back to version 1; an operator may not', async () => {
    const operator = await s.token('operator');
    await expect(
      s.api('/api/sensors/pump-1/models/2/activate', { method: 'POST', token: operator }),
    ).rejects.toMatchObject({ status: 403 });
    await expect(s.api('/api/sensors/pump-1/models/99/activate', { method: 'POST' })).rejects.toMatchObject({
      status: 404,
    });
    const [v2, v1] = await versions('pump-1');
    const promoted = await s.api<ModelVersion>('/api/sensors/pump-1/models/2/activate', { method: 'POST' });
    expect(promoted).toMatchObject({
      version: 2,
      active: true,
      shadow: false,
      activatedBy: expect.any(String),
    });
    expect(promoted.trial).toMatchObject({ outcome: 'promoted', endedBy: expect.any(String) });
    expect(promoted.trial!.until).toBeGreaterThan(promoted.trial!.since);
    expect(await model('pump-1')).toMatchObject({ version: 2, shadowVersion: null, fittedAt: v2.fittedAt });
    expect(JSON.parse(readFileSync(join(dataDir, 'models', 'pump-1', 'version.json'), 'utf8')).version).toBe(
      2,
    );

    const back = await s.api<ModelVersion>('/api/sensors/pump-1/models/1/activate', { method: 'POST' });
    expect(back).toMatchObject({ version: 1, active: true });
    expect(await model('pump-1')).toMatchObject({ version: 1, fittedAt: v1.fittedAt, state: 'ready' });
    const list = await versions('pump-1');
    expect(list.map((v) => [v.version, v.active])).toEqual([
      [2, false],
      [1, true],
    ]);
    await expect(s.api('/api/sensors/pump-1/models/2/discard', { method: 'POST' })).rejects.toMatchObject({
      status: 409,
    });
  });

  test('?activate=now replaces the model at once; a later shadow can be discarded; old versions are pruned', async () => {
    const bad = await upload('pump-1', '?activate=later');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/activate \('later'\)/);

    expect((await upload('pump-1', '?activate=now')).status).toBe(202);
    await until(
      'version 3 active',
      () => model('pump-1'),
      (m) => m.version === 3 && m.state === 'ready',
    );
    expect((await model('pump-1')).shadowVersion).toBeNull();

    expect((await upload('pump-1')).status).toBe(202);
    await until(
      'version 4 in shadow',
      () => model('pump-1'),
      (m) => m.shadowVersion === 4 && m.state === 'ready',
    );
    // Kept: 3 versions (HARK_MODEL_VERSIONS_KEPT); the oldest spare one went first.
    expect((await versions('pump-1')).map((v) => v.version)).toEqual([4, 3, 2]);
    expect(existsSync(join(dataDir, 'model-versions', 'pump-1', '1'))).toBe(false);

    const discarded = await s.api<ModelVersion>('/api/sensors/pump-1/models/4/discard', { method: 'POST' });
    expect(discarded).toMatchObject({ version: 4, active: false, shadow: false });
    expect(discarded.trial?.outcome).toBe('discarded');
    expect(await model('pump-1')).toMatchObject({ version: 3, shadowVersion: null });
  }, 900_000);

  test('an enrolment during which an alert was open is flagged and runs in shadow despite ?activate=now', async () => {
    const run = runSensor([
      ...['--server', s.url, '--id', 'pump-1', '--token', sensorToken],
      ...['--wav', join(root, 'synth_pump', 'stream.wav'), '--loop', '--speed', '4'],
    ]);
    try {
      await waitForConnected(s, 'pump-1');
      // 20 s of a stream with an anomaly every few seconds: the active model alerts meanwhile.
      const started = await s.api<ModelStatus>('/api/sensors/pump-1/enroll?activate=now', {
        method: 'POST',
        body: JSON.stringify({ seconds: 20 }),
      });
      expect(started.state).toBe('recording');
      const m = await until(
        'the enrolment in shadow',
        () => model('pump-1'),
        (x) => x.shadowVersion === 5 && x.state === 'ready',
      );
      expect(m.version).toBe(3);
    } finally {
      run.child.kill('SIGINT');
      await run.done;
    }
    const [v5] = await versions('pump-1');
    expect(v5).toMatchObject({ version: 5, source: 'enrol', shadow: true, active: false });
    expect(v5.flags.alertsDuring.length).toBeGreaterThan(0);
    // 20 s is under the recommended length: flagged, with the reason.
    expect(v5.flags.short).toBe(true);
    expect(v5.warnings.join('\n')).toMatch(/less than the recommended \d+ s: .*false alarms/);
    expect(v5.warnings.join('\n')).toMatch(
      /alert\(s\) were open during the enrolment .* although \?activate=now/,
    );
  }, 900_000);

  test('a model replaced by hand becomes a new version; retention never deletes the active one', async () => {
    for (let i = 0; i < 3; i++) {
      rmSync(join(dataDir, 'models', 'pump-2'), { recursive: true });
      cpSync(handDir, join(dataDir, 'models', 'pump-2'), { recursive: true });
      await until(
        'a new version',
        () => versions('pump-2'),
        (l) => l[0]?.version === i + 2 && l[0].active,
      );
    }
    const list = await versions('pump-2');
    expect(list.map((v) => v.version)).toEqual([4, 3, 2]);
    expect(list[0].active).toBe(true);
    expect((await model('pump-2')).version).toBe(4);
  }, 120_000);

  test('after a restart the versions are there and the shadow trial goes on where it stopped', async () => {
    const before = await versions('pump-1');
    const shadow = before.find((v) => v.shadow)!;
    expect(shadow.version).toBe(5);
    const admin = s.admin;
    await s.close();
    s = await startServer({ dataDir, modelPollMs: 300, modelVersionsKept: 3, maxShadowModels: 1 }, admin);
    const after = await versions('pump-1');
    expect(after.map((v) => [v.version, v.active, v.shadow])).toEqual(
      before.map((v) => [v.version, v.active, v.shadow]),
    );
    const trial = after.find((v) => v.version === 5)!.trial!;
    expect(trial).toMatchObject({
      outcome: 'running',
      since: shadow.trial!.since,
      windows: shadow.trial!.windows,
      shadowAlertCount: shadow.trial!.shadowAlertCount,
    });
    expect(await model('pump-1')).toMatchObject({ version: 3, shadowVersion: 5 });
  }, 120_000);
});
