/**
 * A live burn-in across instances: two `hark serve` on one PostgreSQL and one Redis (`--burn-in-windows 100`).
 * The sensor streams to A, where its uploaded version burns in; the record is in the shared database, so B
 * answers it on REST and takes the factor at once through the burn-in notice; an admin's revert on B reaches
 * A's data path the same way, and a restart on B makes A collect again. Any alert the stream raised is labelled
 * on B: A's full collection, waiting for it, looks again by itself (the label comes after the stream ended).
 * Skipped, visibly, where PostgreSQL or Redis is not installed.
 */
import { join } from 'node:path';
import { writeSynthDataset } from '@hark/dsp';
import type { Alert, ModelBurnIn, Page } from '@hark/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresOrWarn, startPostgres, type Postgres } from '../support/postgres.js';
import { redisOrWarn, startRedis, type TestRedis } from '../support/redis.js';
import {
  fitFromFolder,
  runSensor,
  SCORE_EVERY_WINDOW,
  startServer,
  tempDir,
  until,
  type TestServer,
} from '../support/server.js';

const SENSOR = 'bc-1';
const enabled = redisOrWarn('cluster-burn-in.test.ts') && postgresOrWarn('cluster-burn-in.test.ts');

describe.runIf(enabled)('a live burn-in on one instance, seen and reverted on another', () => {
  let pg: Postgres;
  let redis: TestRedis;
  let A: TestServer;
  let B: TestServer;
  let root: string;

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    const options = { database: pg.url, redisUrl: redis.url, burnInWindows: 100, ...SCORE_EVERY_WINDOW };
    A = await startServer({ ...options, instance: 'A' });
    B = await startServer({ ...options, instance: 'B' }, A.admin);
    await until('both instances reach Redis', () =>
      [A, B].every((s) => s.server.cluster.health().redis === 'up'),
    );
    root = tempDir('cluster-burn-in-synth');
    writeSynthDataset(root, {
      machines: ['pump'],
      trainClips: 12,
      testClips: 0,
      clipSeconds: 5,
      streamSeconds: 60,
      firstAnomalySeconds: 100, // none: normal sound only
    });
    await fitFromFolder(A, SENSOR, join(root, 'synth_pump', 'train'));
    await until('B loaded the model too', () => B.server.models.detector(SENSOR) !== null, 120_000);
  }, 900_000);

  afterAll(async () => {
    for (const s of [A, B]) await s?.close();
    await Promise.all([redis?.stop(), pg?.stop()]);
  });

  const onB = () => B.api<ModelBurnIn>(`/api/sensors/${SENSOR}/models/1/burn-in`);

  test('applied on A, seen on B; reverted and restarted on B, followed by A', async () => {
    // The new version's burn-in is started as A loads it (off the fit's path): B reads it from the database.
    await until('the burn-in is recorded', () =>
      onB().then(
        () => true,
        () => false,
      ),
    );
    expect(await onB()).toMatchObject({ state: 'collecting', target: 100 });
    const token = (await A.server.tokens.create('sensor', 'burn-in box', [SENSOR])).token;
    const r = await runSensor([
      '--server',
      A.url,
      '--id',
      SENSOR,
      '--token',
      token,
      '--wav',
      join(root, 'synth_pump', 'stream.wav'),
      '--speed',
      '4',
    ]).done;
    expect(r.code, r.out).toBe(0);
    await A.server.sensors.scheduler.idle();
    for (const a of (await B.api<Page<Alert>>(`/api/alerts?sensorId=${SENSOR}&limit=100`)).items)
      await B.api(`/api/alerts/${a.id}/annotations`, {
        method: 'POST',
        body: JSON.stringify({ label: 'false alarm', text: 'normal' }),
      });
    await until('the burn-in is applied', async () => (await onB()).state === 'applied', 60_000);
    const applied = await onB();
    expect(applied.windows).toBe(100);
    expect(A.server.burnIn.factor(SENSOR)).toBe(applied.factor);
    await until('B took the factor from the notice', () => B.server.burnIn.factor(SENSOR) === applied.factor);

    await B.api(`/api/sensors/${SENSOR}/models/1/burn-in/revert`, { method: 'POST' });
    await until('A scores against the fitted threshold again', () => A.server.burnIn.factor(SENSOR) === 1);
    expect(A.logs.some((l) => /instance B changed the burn-in of sensor bc-1/.test(l))).toBe(true);

    await B.api(`/api/sensors/${SENSOR}/models/1/burn-in/restart`, { method: 'POST' });
    await until(
      'A collects again',
      async () => (await A.server.burnIn.get(SENSOR, 1)).state === 'collecting',
    );
    expect(await A.server.store.burnIns.get(SENSOR, 1)).toMatchObject({
      startedBy: 'first admin',
      windows: 0,
    });
  }, 600_000);
});
