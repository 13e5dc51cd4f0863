/**
 * Live burn-in on a running server (issue 13, item 1), end to end with the real `hark sensor`: an uploaded
 * model collects its first `--burn-in-windows` (100) scored windows, waits while an alert in them is open and
 * unlabelled, leaves out the span an operator marks as a fault, applies the factor (every score the dashboards
 * get is divided by it: score / rawScore = 1 / (threshold x factor)), records it in the database and shows it on
 * REST, and an admin's revert brings the fitted threshold back; a restart collects again.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Socket } from 'socket.io-client';
import { writeSynthDataset } from '@hark/dsp';
import type { Alert, ModelBurnIn, ModelVersion, Page, ScoreEvent, SensorStatus } from '@hark/protocol';
import {
  fitFromFolder,
  liveClient,
  runSensor,
  SCORE_EVERY_WINDOW,
  startServer,
  tempDir,
  until,
  type TestServer,
} from '../support/server.js';

const SENSOR = 'burn-1';
const root = tempDir('burn-in-synth');
let s: TestServer;
let live: Socket;
let sensorToken: string;
let threshold: number;
const scores: ScoreEvent[] = [];

beforeAll(async () => {
  // 70 s of pump with one 2 s anomaly at 20 s: inside the first 100 windows (50 s at the 0.5 s hop).
  writeSynthDataset(root, {
    machines: ['pump'],
    trainClips: 12,
    testClips: 0,
    clipSeconds: 5,
    streamSeconds: 70,
    firstAnomalySeconds: 20,
    anomalyEverySeconds: 60,
  });
  s = await startServer({ burnInWindows: 100, ...SCORE_EVERY_WINDOW });
  sensorToken = (await s.server.tokens.create('sensor', 'burn-in test', [SENSOR])).token;
  threshold = (await fitFromFolder(s, SENSOR, join(root, 'synth_pump', 'train'))).threshold!;
  live = await liveClient(s.url, await s.token('operator'));
  live.on('score', (e: ScoreEvent) => scores.push(e));
  await live.emitWithAck('subscribe', { sensorId: SENSOR });
}, 600_000);

afterAll(async () => {
  live?.close();
  await s?.close();
});

async function streamOnce(): Promise<ScoreEvent[]> {
  const from = scores.length;
  const r = await runSensor([
    '--server',
    s.url,
    '--id',
    SENSOR,
    '--token',
    sensorToken,
    '--wav',
    join(root, 'synth_pump', 'stream.wav'),
    '--speed',
    '4',
  ]).done;
  expect(r.code, r.out).toBe(0);
  await s.server.sensors.scheduler.idle();
  await new Promise((res) => setTimeout(res, 500)); // the last scores on their way to the dashboard
  return scores.slice(from);
}

/** score / rawScore of each window: 1 / the threshold it was normalised by. */
const scales = (xs: ScoreEvent[]) => xs.filter((e) => e.rawScore > 0).map((e) => e.score / e.rawScore);

const burnIn = () => s.api<ModelBurnIn>(`/api/sensors/${SENSOR}/models/1/burn-in`);

describe('live burn-in', () => {
  test('an uploaded version burns in: waits for the open alert, leaves out the fault, applies, reverts', async () => {
    // Started as the server loads the new version (just after the fit reports it ready).
    await until('the burn-in is recorded', () =>
      burnIn().then(
        () => true,
        () => false,
      ),
    );
    expect(await burnIn()).toMatchObject({ state: 'collecting', target: 100, windows: 0, startedBy: null });
    const first = await streamOnce();
    expect(first.length).toBeGreaterThan(100);
    // Nothing applied while collecting: every score is in units of the fitted threshold.
    for (const k of scales(first)) expect(k).toBeCloseTo(1 / threshold, 6);
    const alerts = (await s.api<Page<Alert>>(`/api/alerts?sensorId=${SENSOR}&kind=anomaly&limit=100`)).items;
    expect(alerts.length, 'the anomaly at 20 s raised an alert').toBeGreaterThan(0);
    // Full, but an alert inside it is open and unlabelled: the burn-in waits for the operator.
    await until('the full burn-in waits for the alert', async () =>
      /waiting for alert/.test((await burnIn()).reason ?? ''),
    );
    expect(await burnIn()).toMatchObject({ state: 'collecting', windows: 100 });
    expect(s.server.burnIn.factor(SENSOR)).toBe(1);

    // The operator's verdicts: the strongest alert is the fault, any other a false alarm.
    const strongest = alerts.reduce((a, b) => (b.peakScore > a.peakScore ? b : a));
    for (const a of alerts)
      await s.api(`/api/alerts/${a.id}/annotations`, {
        method: 'POST',
        body: JSON.stringify({
          label: a.id === strongest.id ? 'true fault' : 'false alarm',
          text: 'checked',
        }),
      });
    await until('the burn-in is applied', async () => (await burnIn()).state === 'applied');
    const applied = await burnIn();
    expect(applied.excluded, 'the fault span was left out').toBeGreaterThan(0);
    expect(applied.windows + applied.excluded).toBeLessThanOrEqual(100);
    expect(applied.factor).not.toBe(1);
    expect(applied.factor).toBeGreaterThanOrEqual(0.5);
    expect(applied.factor).toBeLessThanOrEqual(2);
    expect(applied.fit).toMatchObject({ perDay: 1, alertWindows: 2 });
    // In the database, for every instance, with the series a later fault mark would be refitted from.
    const stored = (await s.server.store.burnIns.get(SENSOR, 1)) as ModelBurnIn;
    expect(stored).toMatchObject({ state: 'applied', factor: applied.factor, excluded: applied.excluded });
    // The sensor's status carries it too.
    expect((await s.api<SensorStatus>(`/api/sensors/${SENSOR}`)).burnIn).toEqual({
      version: 1,
      state: 'applied',
      windows: applied.windows,
      target: 100,
      factor: applied.factor,
    });
    const series = (await s.server.store.burnIns.series(SENSOR, 1))!;
    expect(series.filter((p) => p !== null)).toHaveLength(100);

    // The threshold is the fitted one times the factor: every score the dashboards get is divided by it.
    const second = await streamOnce();
    for (const k of scales(second)) expect(k).toBeCloseTo(1 / (threshold * applied.factor!), 6);

    // The model page's list of versions carries it.
    const versions = await s.api<ModelVersion[]>(`/api/sensors/${SENSOR}/models`);
    expect(versions.find((v) => v.version === 1)?.burnIn).toMatchObject({ state: 'applied' });

    // An admin's revert: the fitted threshold again, recorded who and when; operators may only look.
    const operator = await s.token('operator', 'olga');
    await expect(
      s.api(`/api/sensors/${SENSOR}/models/1/burn-in/revert`, { method: 'POST', token: operator }),
    ).rejects.toMatchObject({ status: 403 });
    const admin = await s.token('admin', 'ana');
    const reverted = await s.api<ModelBurnIn>(`/api/sensors/${SENSOR}/models/1/burn-in/revert`, {
      method: 'POST',
      token: admin,
    });
    expect(reverted).toMatchObject({ state: 'reverted', revertedBy: 'ana' });
    await expect(
      s.api(`/api/sensors/${SENSOR}/models/1/burn-in/revert`, { method: 'POST', token: admin }),
    ).rejects.toMatchObject({ status: 409 });
    expect((await s.server.store.burnIns.get(SENSOR, 1))!.revertedAt).toBeGreaterThan(applied.appliedAt!);
    const third = await streamOnce();
    for (const k of scales(third)) expect(k).toBeCloseTo(1 / threshold, 6);

    // A restart collects again from the next windows, on the fitted threshold meanwhile.
    const restarted = await s.api<ModelBurnIn>(`/api/sensors/${SENSOR}/models/1/burn-in/restart`, {
      method: 'POST',
      token: admin,
    });
    expect(restarted).toMatchObject({ state: 'collecting', windows: 0, startedBy: 'ana', factor: null });
  }, 600_000);
});
