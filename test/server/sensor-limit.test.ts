/**
 * The number of known sensors is bounded (M2, issue 18), over real socket.io with the real server: past
 * `maxSensors` a new sensor id is refused at the handshake with the code `TOO_MANY_SENSORS` and a message naming
 * the limit and its setting, while known ids keep connecting; one sensor token is bound to at most
 * `maxSensorsPerToken` ids. A sensor's rings are taken on its first audio (not by a status query) and given
 * back after `sensorIdleFreeSeconds` without audio; it streams on as before when it comes back.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startServer, type TestServer, until } from '../support/server.js';

let s: TestServer;
const open: Socket[] = [];
beforeAll(async () => {
  s = await startServer({ maxSensors: 3, maxSensorsPerToken: 2, sensorIdleFreeSeconds: 2 });
});
afterAll(async () => {
  for (const c of open) c.close();
  await s.close();
});

function connect(sensorId: string, token = s.admin): Promise<Socket> {
  const c = io(`${s.url}/sensor`, {
    auth: { token, sensorId },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  open.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('connect_error', reject);
  });
}

async function hello(c: Socket, id: string) {
  return c.timeout(5000).emitWithAck('hello', {
    sampleRate: 16000,
    channels: 1,
    format: 's16le',
    streamId: `${id}-1`,
  }) as Promise<{ ok: boolean }>;
}

test('a new sensor id past the limit is refused with TOO_MANY_SENSORS; known ids still connect', async () => {
  for (const id of ['lim-1', 'lim-2', 'lim-3'])
    expect(await hello(await connect(id), id)).toMatchObject({ ok: true });
  const err = (await connect('lim-4').catch((e: unknown) => e)) as Error & { data?: { code?: string } };
  expect(err.data?.code).toBe('TOO_MANY_SENSORS');
  expect(err.message).toBe(
    "the server knows 3 sensors, its limit (HARK_MAX_SENSORS = 3): 'lim-4' is a new one; stream as a known id, delete one (DELETE /api/sensors/:id), or raise the limit (each streaming sensor holds about 5 MB of rings besides its model, about 10 MB for a default one fitted on a minute of sound)",
  );
  open.at(-1)?.close();
  // A known id reconnects (after its first connection has gone).
  open[0].close();
  await new Promise((r) => setTimeout(r, 200));
  expect(await hello(await connect('lim-1'), 'lim-1')).toMatchObject({ ok: true });
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  expect(metrics).toMatch(/hark_ingest_rejections_total\{code="TOO_MANY_SENSORS"\} 1/);
  // Not listed: the refused id left nothing behind.
  const sensors = await s.api<{ id: string }[]>('/api/sensors');
  expect(sensors.map((x) => x.id).sort()).toEqual(['lim-1', 'lim-2', 'lim-3']);
  for (const c of open.splice(0)) c.close();
});

test('one sensor token is bound to at most HARK_MAX_SENSORS_PER_TOKEN ids, refused at creation naming the limit', async () => {
  const res = await fetch(`${s.url}/api/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'sensor', name: 'gateway', sensors: ['g-1', 'g-2', 'g-3'] }),
  });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { message: string }).message).toContain(
    'sensors lists 3 ids, more than one token may stream as (HARK_MAX_SENSORS_PER_TOKEN = 2): split them over several tokens, or raise the limit',
  );
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} is not in /metrics`);
  return Number(m[1]);
}

test('rings are taken on first audio, freed after --sensor-idle-free, and taken again when the sensor comes back', async () => {
  // Known, listed and asked about: no rings.
  await s.api('/api/sensors');
  await s.api('/api/sensors/lim-2');
  await until('the status tick', async () => (await metric('hark_sensors_known')) === 3);
  expect(await metric('hark_sensor_ring_bytes')).toBe(0);
  const chunk = (seq: number) => ({ seq, data: Buffer.alloc(3200) }); // 100 ms of 16 kHz s16 silence
  let c = await connect('lim-2');
  expect(await hello(c, 'lim-2')).toMatchObject({ ok: true, nextSeq: 0 });
  for (let seq = 0; seq < 3; seq++)
    expect(await c.timeout(5000).emitWithAck('audio', chunk(seq))).toEqual({ ok: true, seq });
  await until('rings held', async () => (await metric('hark_sensor_ring_bytes')) > 4e6);
  c.close();
  await until('rings freed', async () => (await metric('hark_sensor_ring_bytes')) === 0);
  expect(s.logs.join('\n')).toMatch(
    /sensor lim-2: no audio for \d+ s \(--sensor-idle-free 2 s\): its rings \(4\.9 MB\) are freed until it streams again/,
  );
  // It comes back with the same stream: the sequence carries on, and audio takes the rings again.
  c = await connect('lim-2');
  expect(await hello(c, 'lim-2')).toMatchObject({ ok: true, nextSeq: 3 });
  expect(await c.timeout(5000).emitWithAck('audio', chunk(2))).toMatchObject({
    ok: false,
    code: 'DUPLICATE_SEQ',
  });
  expect(await c.timeout(5000).emitWithAck('audio', chunk(3))).toEqual({ ok: true, seq: 3 });
  await until('rings held again', async () => (await metric('hark_sensor_ring_bytes')) > 4e6);
  const status = await s.api<{ connected: boolean }>('/api/sensors/lim-2');
  expect(status.connected).toBe(true);
  c.close();
});
