/**
 * Two hark servers on one real PostgreSQL 15, each with its own data directory and no shared volume (and no
 * Redis: the database alone carries models and media): a model fitted from an upload on A is fetched by hash
 * on B when a sensor connects there, and B scores with it; the sensor deleted on B is retired on A too; an
 * alert clip recorded on A downloads from B, byte for byte, through B's blob cache, and a purge sweeps its
 * blob. Skipped, visibly, where PostgreSQL is not installed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolveDetectorConfig, trainingNeeds } from '@hark/detection';
import { writeSynthDataset } from '@hark/dsp';
import type { Alert, ModelStatus, Page, ScoreEvent } from '@hark/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresOrWarn, startPostgres, type Postgres } from '../support/postgres.js';
import { TestSensor } from '../support/sensor.js';
import {
  fitFromFolder,
  liveClient,
  startServer,
  tempDir,
  type TestServer,
  untilValue,
} from '../support/server.js';

const enabled = postgresOrWarn('blobs-cluster.test.ts (two instances, no shared volume)');

/** The blobs in an instance's cache (none before its first fill). */
const cachedOn = (s: TestServer): string[] => {
  const dir = join(s.server.config.dataDir, 'cache', 'blobs');
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe.runIf(enabled)('two instances on one PostgreSQL, separate data directories', () => {
  let pg: Postgres;
  let a: TestServer;
  let b: TestServer;
  const open: { close(): void }[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    // The poll is an hour away: B gets the model when the sensor connects to it (its claim pulls).
    const options = { database: pg.url, modelPollMs: 3_600_000, silenceSeconds: 1, clipPostSeconds: 0.5 };
    a = await startServer({ ...options, dataDir: tempDir('blobs-a') });
    b = await startServer({ ...options, dataDir: tempDir('blobs-b') }, a.admin);
  }, 120_000);

  afterAll(async () => {
    for (const c of open) c.close();
    await a?.close();
    await b?.close();
    await pg?.stop();
  });

  it('a model fitted on A is fetched by hash on B when its sensor connects there, and B scores with it', async () => {
    const root = tempDir('blobs-synth');
    const config = resolveDetectorConfig({});
    writeSynthDataset(root, {
      machines: ['pump'],
      trainClips: trainingNeeds(config, 5).minClips,
      testClips: 0,
      clipSeconds: 5,
      streamSeconds: 10,
    });
    const fitted = await fitFromFolder(a, 'bl-1', join(root, 'synth_pump', 'train'));
    expect(fitted).toMatchObject({ state: 'ready', version: 1 });
    // B has never seen the sensor: nothing of it on B's disk.
    const bModels = join(b.server.config.dataDir, 'models');
    expect(existsSync(join(bModels, 'bl-1'))).toBe(false);
    expect(cachedOn(b)).toEqual([]);

    const dash = await liveClient(b.url, await b.token('operator'));
    open.push(dash);
    const scores: ScoreEvent[] = [];
    dash.on('score', (e: ScoreEvent) => {
      if (e.sensorId === 'bl-1') scores.push(e);
    });
    await dash.emitWithAck('subscribe', { sensorId: '*' });
    const token = (await b.server.tokens.create('sensor', 'bl-1', ['bl-1'])).token;
    const sensor = await TestSensor.open(b.url, token, 'bl-1');
    open.push(sensor);
    // Fetched before the first window: B's model is A's, version for version.
    const onB = await b.api<ModelStatus>('/api/sensors/bl-1/model');
    expect(onB).toMatchObject({
      state: 'ready',
      version: 1,
      fittedAt: fitted.fittedAt,
      threshold: fitted.threshold,
    });
    expect(b.logs.join('\n')).toMatch(/models: bl-1: version 1 fetched from the database \(\d+ file\(s\)\)/);
    const files = await b.server.store.modelVersions.files('bl-1', 1);
    expect(files.map((f) => f.name)).toContain('model.json');
    expect(cachedOn(b).sort()).toEqual(files.map((f) => f.sha256).sort());

    await sensor.stream(4, 0.3);
    await b.server.sensors.scheduler.idle();
    await untilValue(
      'B scores bl-1',
      () => scores.length,
      (n) => n > 0,
    );
    expect(scores.every((s) => Number.isFinite(s.score))).toBe(true);
    sensor.close();

    // Deleted on B (kept, not purged): B keeps its versions under DATA/retired/, the database forgets them,
    // and A retires its copy at its next look (a notice would say so at once with Redis).
    const del = await fetch(`${b.url}/api/sensors/bl-1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${b.admin}` },
    });
    expect(del.status).toBe(204);
    const retiredOnB = readdirSync(join(b.server.config.dataDir, 'retired'));
    expect(
      existsSync(
        join(b.server.config.dataDir, 'retired', retiredOnB[0], 'model-versions', '1', 'model.json'),
      ),
    ).toBe(true);
    expect(await a.server.store.modelVersions.numbers('bl-1')).toEqual([]);
    await a.server.models.poll();
    expect((await a.api<ModelStatus>('/api/sensors/bl-1/model').catch(() => null))?.state ?? 'none').toBe(
      'none',
    );
    expect(a.logs.join('\n')).toMatch(/bl-1: version 1 is no longer in the database .*kept in .*retired/);
  }, 900_000);

  it('an alert clip recorded on A downloads from B, byte for byte, through B’s cache', async () => {
    const token = (await a.server.tokens.create('sensor', 'bl-2', ['bl-2'])).token;
    const sensor = await TestSensor.open(a.url, token, 'bl-2');
    open.push(sensor);
    await sensor.stream(2, 0.3);
    await sensor.silenceAlert();
    const operator = await a.token('operator');
    const alert = await untilValue(
      'a silence alert with its clip, stored on A',
      async () => (await a.api<Page<Alert>>('/api/alerts?sensorId=bl-2', { token: operator })).items[0],
      (x) => x?.clip.available === true,
    );
    sensor.close();
    const get = async (s: TestServer, path: string) => {
      const res = await fetch(`${s.url}/api/alerts/${alert.id}/${path}`, {
        headers: { authorization: `Bearer ${operator}` },
      });
      expect(res.status, `${path} from ${s === a ? 'A' : 'B'}`).toBe(200);
      return Buffer.from(await res.arrayBuffer());
    };
    const fromA = await get(a, 'audio');
    expect(fromA.subarray(0, 4).toString('latin1')).toBe('RIFF');
    const before = new Set(cachedOn(b));
    const fromB = await get(b, 'audio');
    expect(fromB.equals(fromA)).toBe(true);
    const clip = await b.server.store.alertMedia.get(alert.id, 'clip.wav');
    expect(before.has(clip!.sha256)).toBe(false);
    expect(cachedOn(b)).toContain(clip!.sha256);
    // Byte ranges (the <audio> element seeks) and the pictures work the same on B.
    const range = await fetch(`${b.url}/api/alerts/${alert.id}/audio`, {
      headers: { authorization: `Bearer ${operator}`, range: 'bytes=0-99' },
    });
    expect(range.status).toBe(206);
    expect(Buffer.from(await range.arrayBuffer()).equals(fromA.subarray(0, 100))).toBe(true);
    expect((await get(b, 'picture?kind=overlay')).equals(await get(a, 'picture?kind=overlay'))).toBe(true);
    // Purged on A: the clip's blob leaves the database, and B (its copy forgotten only on A) answers 404 too.
    const del = await fetch(`${a.url}/api/sensors/bl-2?purge=true`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${a.admin}` },
    });
    expect(del.status).toBe(204);
    expect(await b.server.store.blobs.has(clip!.sha256)).toBe(false);
    const after = await fetch(`${b.url}/api/alerts/${alert.id}/audio`, {
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(after.status).toBe(404);
  }, 300_000);
});
