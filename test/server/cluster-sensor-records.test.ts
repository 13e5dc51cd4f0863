/**
 * Sensor records across instances (issue 17): two `hark serve` instances on one PostgreSQL and one Redis. Each
 * instance caches the sensor records its data path reads per window (snooze, severity thresholds) and its
 * status shows (name, labels). A rename, new thresholds, a snooze or a delete made on B reaches the cache of A,
 * where the sensor streams, at once through a Redis notice, without any list or status read on A; a deleted
 * sensor's connection on A closes.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresOrWarn, startPostgres, type Postgres } from '../support/postgres.js';
import { redisOrWarn, startRedis, type TestRedis } from '../support/redis.js';
import { TestSensor } from '../support/sensor.js';
import { liveClient, sleep, startServer, type TestServer, until as waitUntil } from '../support/server.js';

const until = (what: string, ok: () => boolean | Promise<boolean>, ms = 10_000) => waitUntil(what, ok, ms);

let redis: TestRedis;
const enabled =
  redisOrWarn('cluster-sensor-records.test.ts') && postgresOrWarn('cluster-sensor-records.test.ts');

/** Instances subscribed to the `/live` channel of socket.io's adapter (where the notices travel). */
const liveSubscribers = () =>
  Number(
    spawnSync('redis-cli', ['-p', String(redis.port), 'PUBSUB', 'NUMSUB', 'socket.io#/live#'])
      .stdout.toString()
      .trim()
      .split('\n')[1],
  );

describe.runIf(enabled)('sensor records changed on one instance, seen on another', () => {
  let pg: Postgres;
  let A: TestServer;
  let B: TestServer;
  let sensor: TestSensor;

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    A = await startServer({ database: pg.url, redisUrl: redis.url, instance: 'A' });
    B = await startServer({ database: pg.url, redisUrl: redis.url, instance: 'B' }, A.admin);
    await until('both instances reach Redis', () =>
      [A, B].every((s) => s.server.cluster.health().redis === 'up'),
    );
    const token = (await A.server.tokens.create('sensor', 'records', ['rec-1'])).token;
    sensor = await TestSensor.open(A.url, token, 'rec-1', { name: 'first name' });
    await until('A stored the registration', () => A.server.store.sensors.cached('rec-1') !== null);
    // The notices need the adapters subscribed as well as connected.
    await until('both instances subscribed to the relay', () => liveSubscribers() === 2);
  }, 120_000);

  afterAll(async () => {
    sensor?.socket.close();
    for (const s of [A, B]) await s?.close();
    await Promise.all([redis?.stop(), pg?.stop()]);
  });

  const onA = () => A.server.store.sensors.cached('rec-1');

  test('a rename and new thresholds on B reach the record A scores with, at once', async () => {
    expect(onA()).toMatchObject({ name: 'first name', criticalPeak: null });
    await B.api('/api/sensors/rec-1', {
      method: 'PATCH',
      body: JSON.stringify({
        name: 'Pump 3',
        labels: { hall: '2' },
        severityThresholds: { criticalPeak: 3 },
      }),
    });
    await until('A has the new record', () => onA()?.name === 'Pump 3');
    expect(onA()).toMatchObject({ labels: { hall: '2' }, criticalPeak: 3, deletedAt: null });
    expect(A.logs.some((l) => /reading sensor rec-1 again failed/.test(l))).toBe(false);
  });

  test('a snooze on B, and its end, mute and unmute the sensor on A', async () => {
    const before = Date.now();
    await B.api('/api/sensors/rec-1/snooze', { method: 'POST', body: JSON.stringify({ seconds: 600 }) });
    await until('A has the snooze', () => (onA()?.snoozedUntil ?? 0) >= before + 600_000);
    await B.api('/api/sensors/rec-1/snooze', { method: 'DELETE' });
    await until('A has the snooze lifted', () => onA()?.snoozedUntil === null);
  });

  test('a change made while Redis was away reaches A when Redis returns', async () => {
    await redis.kill();
    try {
      await until('both instances see Redis gone', () =>
        [A, B].every((s) => s.server.cluster.health().redis === 'down'),
      );
      await B.api('/api/sensors/rec-1', {
        method: 'PATCH',
        body: JSON.stringify({ name: 'renamed offline' }),
      });
      await sleep(300);
      expect(onA()?.name).toBe('Pump 3'); // no notice without Redis
    } finally {
      await redis.restart();
    }
    await until('A read its records again', () => onA()?.name === 'renamed offline', 20_000);
    expect(sensor.socket.connected).toBe(true);
    // Both listen again before the next notice (the adapter's subscriber reconnects a moment after).
    await until('both instances subscribed to the relay again', () => liveSubscribers() === 2);
  });

  test('a delete on B closes the sensor on A and takes it off A and its dashboards', async () => {
    const dash = await liveClient(A.url, await A.token('operator'));
    const deleted = new Promise<{ sensorId: string }>((r) => dash.once('sensor:deleted', r));
    const closed = new Promise<string>((r) => sensor.socket.once('disconnect', r));
    await B.api('/api/sensors/rec-1', { method: 'DELETE' });
    expect(await Promise.race([closed, sleep(10_000).then(() => 'still connected')])).toBe(
      'io server disconnect',
    );
    expect(onA()?.deletedAt).not.toBeNull();
    expect(A.logs.some((l) => /sensor rec-1: deleted on instance B: closed here/.test(l))).toBe(true);
    expect(A.server.sensors.melHz('rec-1')).toBeNull();
    expect(await deleted).toEqual({ sensorId: 'rec-1' });
    dash.close();
  });
});
