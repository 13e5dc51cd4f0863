/**
 * `DELETE /api/sensors/:id` (M2, issue 18) on the real server over real socket.io: an admin deletes a streaming
 * sensor; its connection is closed with a reason it is told, its rings are freed, it leaves the list and the
 * dashboards are told; its alerts stay (for the record) and its model folders move to `DATA/retired/`.
 * Connecting again is a new registration. With `?purge=true` its alerts (and their media), scores and history
 * go too. Unknown ids answer 404, operators 403, a bad `purge` 400.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SERVER_CLOSED_EVENT, type Alert, type ServerClosed, type SensorStatus } from '@hark/protocol';
import { TestSensor } from '../support/sensor.js';
import { startServer, until, type TestServer } from '../support/server.js';

let s: TestServer;
let live: Socket;
const deletedEvents: string[] = [];
/** The blob of each stored alert's clip. */
const clips = new Map<number, string>();
beforeAll(async () => {
  s = await startServer();
  // A connection of its own: a sensor socket closed by the server closes the engine it shares (forceNew).
  live = io(`${s.url}/live`, { auth: { token: s.admin }, transports: ['websocket'], forceNew: true });
  await new Promise((r) => live.once('connect', () => r(null)));
  live.on('sensor:deleted', (ev: { sensorId: string }) => deletedEvents.push(ev.sensorId));
});
afterAll(async () => {
  live.close();
  await s.close();
});

const del = (id: string, query = '', token = s.admin) =>
  fetch(`${s.url}/api/sensors/${id}${query}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}` },
  });

/** A closed anomaly alert of `sensorId`, stored as the data path stores one, with a media folder. */
async function storedAlert(sensorId: string): Promise<number> {
  const t = Date.now() - 60_000;
  const a = await s.server.store.alerts.open({
    sensorId,
    kind: 'anomaly',
    start: t,
    peakScore: 2,
    peakAt: t,
    threshold: 1,
  });
  await s.server.store.alerts.update(a.id, { active: false, end: t + 5000 });
  clips.set(
    a.id,
    (
      await s.server.media.writeClip(
        a.id,
        Float32Array.from({ length: 1600 }, () => Math.random() - 0.5),
        16000,
      )
    ).sha256,
  );
  return a.id;
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

test('roles and bad input: operators 403, unknown ids 404, a bad purge 400', async () => {
  const operator = await s.token('operator');
  await s.server.store.sensors.upsert('kept-1', Date.now());
  expect((await del('kept-1', '', operator)).status).toBe(403);
  expect((await del('never-seen')).status).toBe(404);
  const bad = await del('kept-1', '?purge=yes');
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { message: string }).message).toMatch(/purge \('yes'\) must be 'true'/);
  expect((await s.api<SensorStatus>('/api/sensors/kept-1')).id).toBe('kept-1');
});

test('a streaming sensor deleted: told why and disconnected, freed, unlisted; alerts kept, models retired', async () => {
  const sensor = await TestSensor.open(s.url, s.admin, 'del-1', { name: 'Pump one', streamId: 'a' });
  await sensor.stream(1, 0.2);
  const alertId = await storedAlert('del-1');
  const versions = join(s.server.config.dataDir, 'model-versions', 'del-1', '1');
  mkdirSync(versions, { recursive: true });
  writeFileSync(join(versions, 'version.json'), '{}');
  await until('the rings hold audio', async () => (await metric('hark_sensor_ring_bytes')) > 0);
  expect(await metric('hark_sensor_ring_bytes')).toBeGreaterThan(0);
  const told = new Promise<ServerClosed>((r) => sensor.socket.once(SERVER_CLOSED_EVENT, r));
  const gone = new Promise<string>((r) => sensor.socket.once('disconnect', r));

  expect((await del('del-1')).status).toBe(204);
  expect((await told).message).toMatch(
    /^sensor del-1 was deleted by an admin \(first admin\); connecting again registers it anew$/,
  );
  expect(await gone).toBe('io server disconnect');
  expect(
    (await fetch(`${s.url}/api/sensors/del-1`, { headers: { authorization: `Bearer ${s.admin}` } })).status,
  ).toBe(404);
  expect((await s.api<SensorStatus[]>('/api/sensors')).map((x) => x.id)).not.toContain('del-1');
  expect((await del('del-1')).status).toBe(404);
  await until('sensor:deleted told to the dashboard', () => deletedEvents.includes('del-1'));
  // Rings freed: the stream holds nothing now (the tick publishes the gauge every second; a loaded machine
  // may run it late, so the gauge is polled, not read once after a second).
  await until('the rings freed', async () => (await metric('hark_sensor_ring_bytes')) === 0);
  // The record stays: the alert, with its media and the sensor's name.
  const alert = await s.api<Alert>(`/api/alerts/${alertId}`);
  expect(alert.sensorId).toBe('del-1');
  expect((await s.server.store.sensors.get('del-1'))?.name).toBe('Pump one');
  expect(await s.server.media.hasClip(alertId)).toBe(true);
  expect(await s.server.store.blobs.has(clips.get(alertId)!)).toBe(true);
  // The model versions left the registry's folders for DATA/retired/del-1-<time>/.
  expect(existsSync(join(s.server.config.dataDir, 'model-versions', 'del-1'))).toBe(false);
  const retired = readdirSync(join(s.server.config.dataDir, 'retired'));
  expect(retired).toHaveLength(1);
  expect(retired[0]).toMatch(/^del-1-\d{4}-\d{2}-\d{2}T/);
  expect(
    existsSync(join(s.server.config.dataDir, 'retired', retired[0], 'model-versions', '1', 'version.json')),
  ).toBe(true);
  expect(s.logs.join('\n')).toMatch(
    /sensor del-1: deleted by first admin; its alerts, scores and history are kept, its model in .*retired/,
  );

  // A message still in flight from the closed connection is answered and does not bring the sensor back.
  expect(
    s.server.sensors.audio('del-1', sensor.socket.id ?? 'gone', { seq: 99, data: Buffer.alloc(3200) }),
  ).toEqual({
    ok: false,
    code: 'BAD_MESSAGE',
    error: 'this connection was closed: its sensor was deleted; connect again to register it anew',
  });
  expect(
    s.server.sensors.hello('del-1', 'gone', { sampleRate: 16000, channels: 1, format: 's16le' }),
  ).toMatchObject({
    ok: false,
    code: 'BAD_MESSAGE',
  });
  expect((await s.api<SensorStatus[]>('/api/sensors')).map((x) => x.id)).not.toContain('del-1');

  // It connects again: a new registration (the hello's name applies; the first-seen time is new).
  const before = Date.now();
  const again = await TestSensor.open(s.url, s.admin, 'del-1', { name: 'Pump one (new)', streamId: 'a' });
  expect(again.seq).toBe(0);
  await again.stream(0.5, 0.2);
  const status = await s.api<SensorStatus>('/api/sensors/del-1');
  expect(status.name).toBe('Pump one (new)');
  expect(status.connected).toBe(true);
  expect((await s.server.store.sensors.get('del-1'))!.firstSeen).toBeGreaterThanOrEqual(before);
  // Its old alerts are still the id's.
  expect((await s.api<Alert>(`/api/alerts/${alertId}`)).id).toBe(alertId);
  again.close();
});

test('?purge=true removes its alerts with their media, scores and history too', async () => {
  const sensor = await TestSensor.open(s.url, s.admin, 'del-2');
  await sensor.stream(0.5, 0.2);
  const alertId = await storedAlert('del-2');
  await s.server.store.scores.append('del-2', Date.now() - 1000, 0.5);
  await s.server.store.scores.flush();
  expect((await del('del-2', '?purge=true')).status).toBe(204);
  const res = await fetch(`${s.url}/api/alerts/${alertId}`, {
    headers: { authorization: `Bearer ${s.admin}` },
  });
  expect(res.status).toBe(404);
  expect(await s.server.store.sensors.get('del-2')).toBeNull();
  expect(await s.server.store.scores.range('del-2', { from: 0, to: Date.now(), limit: 100 })).toEqual([]);
  // The clip's blob is swept with it, and this instance's cached copy.
  expect(await s.server.media.hasClip(alertId)).toBe(false);
  expect(await s.server.store.blobs.has(clips.get(alertId)!)).toBe(false);
  expect(s.logs.join('\n')).toMatch(/sensor del-2: deleted with its data by first admin \(1 alerts/);
  sensor.close();
});
