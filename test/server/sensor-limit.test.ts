/**
 * The number of known sensors is bounded (M2, issue 18), over real socket.io with the real server: past
 * `maxSensors` a new sensor id is refused at the handshake with the code `TOO_MANY_SENSORS` and a message naming
 * the limit and its setting, while known ids keep connecting.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startServer, type TestServer } from '../support/server.js';

let s: TestServer;
const open: Socket[] = [];
beforeAll(async () => {
  s = await startServer({ maxSensors: 2 });
});
afterAll(async () => {
  for (const c of open) c.close();
  await s.close();
});

function connect(sensorId: string): Promise<Socket> {
  const c = io(`${s.url}/sensor`, {
    auth: { token: s.admin, sensorId },
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
  for (const id of ['lim-1', 'lim-2']) expect(await hello(await connect(id), id)).toMatchObject({ ok: true });
  const err = (await connect('lim-3').catch((e: unknown) => e)) as Error & { data?: { code?: string } };
  expect(err.data?.code).toBe('TOO_MANY_SENSORS');
  expect(err.message).toBe(
    "the server knows 2 sensors, its limit (HARK_MAX_SENSORS = 2): 'lim-3' is a new one; stream as a known id, or raise the limit (each sensor costs memory)",
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
  expect(sensors.map((x) => x.id).sort()).toEqual(['lim-1', 'lim-2']);
});
