/**
 * Models per sensor on the running server: a model directory placed by hand is picked up without a restart,
 * enrolment records the live stream and fits in the background with progress events, a refit swaps the
 * model while the sensor keeps being scored, and a false alarm taught to the bank stops the same sound from
 * alerting again (and reverting it brings the alert back).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Socket } from 'socket.io-client';
import { writeSynthDataset } from '@hark/dsp';
import { getNumThreads, requestedThreads } from '@hark/native';
import type { Alert, FitProgressEvent, ModelStatus, Page } from '@hark/protocol';
import {
  liveClient,
  runSensor,
  SCORE_EVERY_WINDOW,
  sleep,
  startServer,
  tempDir,
  until,
  waitForConnected,
  waitForModel,
  type TestServer,
} from '../support/server.js';
import { placeSynthPumpModel } from '../support/models.js';

const root = tempDir('models-synth');
let s: TestServer;
let live: Socket;
let sensorToken: string;
const progress: FitProgressEvent[] = [];
const stream = () => join(root, 'synth_pump', 'stream.wav');

beforeAll(async () => {
  writeSynthDataset(root, {
    machines: ['pump'],
    trainClips: 12,
    testClips: 0,
    clipSeconds: 5,
    streamSeconds: 30,
  });
  s = await startServer({ modelPollMs: 500, ...SCORE_EVERY_WINDOW });
  sensorToken = (await s.server.tokens.create('sensor', 'models test', ['enrol-1', 'refit-1', 'teach-1']))
    .token;
  live = await liveClient(s.url, await s.token('operator'));
  live.on('model:progress', (p: FitProgressEvent) => progress.push(p));
}, 120_000);

afterAll(async () => {
  live?.close();
  await s?.close();
});

async function streamOnce(sensorId: string, speed = 4) {
  const r = await runSensor([
    '--server',
    s.url,
    '--id',
    sensorId,
    '--token',
    sensorToken,
    '--wav',
    stream(),
    '--speed',
    String(speed),
  ]).done;
  expect(r.code, r.out).toBe(0);
  await s.server.sensors.scheduler.idle();
}

const scored = async (sensorId: string) =>
  (await s.api<{ windowsScored: number }>(`/api/sensors/${sensorId}`)).windowsScored;

const anomalyAlerts = async (sensorId: string) =>
  (await s.api<Page<Alert>>(`/api/alerts?sensorId=${sensorId}&kind=anomaly&limit=100`)).items;

describe('models on a running server', () => {
  test('a model directory written by hark fit and placed in DATA/models is picked up without a restart', async () => {
    expect((await s.api<ModelStatus>('/api/sensors/hand-1/model')).state).toBe('none');
    await placeSynthPumpModel(s.server.config.dataDir, 'hand-1');
    const m = await waitForModel(s, 'hand-1', 30_000);
    expect(m).toMatchObject({
      state: 'ready',
      source: 'directory',
      method: 'patchcore',
      backbone: 'mobilenetv2',
    });
  }, 300_000);

  test('enrolment records the live stream, fits with progress events, and the sensor starts scoring', async () => {
    const run = runSensor([
      '--server',
      s.url,
      '--id',
      'enrol-1',
      '--token',
      sensorToken,
      '--wav',
      stream(),
      '--loop',
      '--speed',
      '4',
    ]);
    try {
      await waitForConnected(s, 'enrol-1');
      const started = await s.api<ModelStatus>('/api/sensors/enrol-1/enroll', {
        method: 'POST',
        body: JSON.stringify({ seconds: 20 }),
      });
      expect(started.state).toBe('recording');
      await expect(
        s.api('/api/sensors/enrol-1/enroll', { method: 'POST', body: JSON.stringify({ seconds: 20 }) }),
      ).rejects.toMatchObject({ status: 409 });
      const m = await waitForModel(s, 'enrol-1', 300_000);
      expect(m).toMatchObject({ source: 'enrol', trainingClips: 8 });
      expect(m.trainingSeconds).toBeCloseTo(20, 0);
      const stages = new Set(progress.filter((p) => p.sensorId === 'enrol-1').map((p) => p.stage));
      for (const st of ['recording', 'embed', 'fit', 'calibrate', 'done']) expect(stages).toContain(st);
      // The fit worker loaded the addon too, whose thread count is one per process: it kept the server's.
      expect(getNumThreads()).toBe(requestedThreads() ?? Math.max(1, availableParallelism() - 1));
      const before = (await s.api<{ windowsScored: number }>('/api/sensors/enrol-1')).windowsScored;
      await until('enrol-1 scored more windows', async () => (await scored('enrol-1')) > before);
      expect((await s.api<{ state: string }>('/api/sensors/enrol-1')).state).toBe('scoring');
    } finally {
      run.child.kill('SIGINT');
      await run.done;
    }
  }, 600_000);

  test('a refit replaces the model atomically while the sensor keeps being scored', async () => {
    // The first model is the run's shared fit (the refit below is what is tested).
    await placeSynthPumpModel(s.server.config.dataDir, 'refit-1');
    const first = await waitForModel(s, 'refit-1', 60_000);
    const run = runSensor([
      '--server',
      s.url,
      '--id',
      'refit-1',
      '--token',
      sensorToken,
      '--wav',
      stream(),
      '--loop',
    ]);
    try {
      await waitForConnected(s, 'refit-1');
      await until('refit-1 scored', async () => (await scored('refit-1')) >= 2);
      const form = new FormData();
      const train = join(root, 'synth_pump', 'train');
      for (const f of readdirSync(train).sort())
        form.append('files', new Blob([readFileSync(join(train, f))], { type: 'audio/wav' }), f);
      const res = await fetch(`${s.url}/api/sensors/refit-1/model?activate=now`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.admin}` },
        body: form,
      });
      expect(res.status).toBe(202);
      expect(((await res.json()) as ModelStatus).state).toBe('fitting');
      // While the new model is fitted, the old one keeps scoring the live stream.
      const during: number[] = [];
      for (;;) {
        const st = await s.api<{ windowsScored: number; model: ModelStatus }>('/api/sensors/refit-1');
        if (st.model.state !== 'fitting') break;
        expect(st.model.fittedAt).toBe(first.fittedAt);
        during.push(st.windowsScored);
        await sleep(500);
      }
      expect(during.length).toBeGreaterThan(2);
      expect(during.at(-1)!).toBeGreaterThan(during[0]);
      const after = await waitForModel(s, 'refit-1');
      expect(after.fittedAt).not.toBe(first.fittedAt);
      const before = await scored('refit-1');
      await until('refit-1 scored with the new model', async () => (await scored('refit-1')) > before);
      const st = await s.api<{ windowsDropped: number }>('/api/sensors/refit-1');
      expect(st.windowsDropped).toBe(0);
    } finally {
      run.child.kill('SIGINT');
      await run.done;
    }
  }, 600_000);

  test('enrolment of a sensor that is not streaming is refused with a reason', async () => {
    await expect(
      s.api('/api/sensors/nobody/enroll', { method: 'POST', body: JSON.stringify({ seconds: 20 }) }),
    ).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/not connected/) });
  });

  test('a false alarm taught to the bank does not alert again; reverting it brings the alert back', async () => {
    // The model is the run's shared fit: teaching and reverting are what is tested.
    await placeSynthPumpModel(s.server.config.dataDir, 'teach-1');
    await waitForModel(s, 'teach-1', 60_000);
    await streamOnce('teach-1');
    const first = await anomalyAlerts('teach-1');
    expect(first.length).toBeGreaterThan(0);
    const target = first.reduce((a, b) => (a.start < b.start ? a : b));
    await sleep(500);
    const bank0 = (await s.api<ModelStatus>('/api/sensors/teach-1/model')).bankSize!;
    const taught = await s.api<Alert>(`/api/alerts/${target.id}/false-alarm`, {
      method: 'POST',
      body: JSON.stringify({ teach: true, text: 'compressor start-up, normal' }),
    });
    expect(taught.feedback).toMatchObject({ taught: true, revertedAt: null });
    const m1 = await s.api<ModelStatus>('/api/sensors/teach-1/model');
    expect(m1.feedbackWindows).toBeGreaterThanOrEqual(2);
    expect(m1.bankSize).toBeGreaterThan(bank0);

    // The same recording again: the taught sound no longer opens an alert; the other anomalies still do.
    const offset = (a: Alert, t0: number) => (a.start - t0) / 1000;
    const t0First = (await s.api<{ streamStartedAt: number }>('/api/sensors/teach-1')).streamStartedAt;
    const targetAt = offset(target, t0First);
    const seen = new Set(first.map((a) => a.id));
    await streamOnce('teach-1');
    const t0Second = (await s.api<{ streamStartedAt: number }>('/api/sensors/teach-1')).streamStartedAt;
    const second = (await anomalyAlerts('teach-1')).filter((a) => !seen.has(a.id));
    const near = (a: Alert, t0: number) => Math.abs(offset(a, t0) - targetAt) < 2;
    expect(second.some((a) => near(a, t0Second))).toBe(false);
    expect(second.length).toBeGreaterThan(0);

    // Revert: the bank is back to the fitted one and the sound alerts again.
    const fb = await s.api<{ id: number }[]>('/api/sensors/teach-1/feedback');
    await s.api(`/api/sensors/teach-1/feedback/${fb[0].id}`, { method: 'DELETE' });
    expect((await s.api<ModelStatus>('/api/sensors/teach-1/model')).bankSize).toBe(bank0);
    for (const a of second) seen.add(a.id);
    await streamOnce('teach-1');
    const t0Third = (await s.api<{ streamStartedAt: number }>('/api/sensors/teach-1')).streamStartedAt;
    const third = (await anomalyAlerts('teach-1')).filter((a) => !seen.has(a.id));
    expect(third.some((a) => near(a, t0Third))).toBe(true);
  }, 600_000);
});
