/**
 * A full disk ends nothing. The real server runs on a small tmpfs as its data directory; the disk is filled
 * to the last byte; then dashboards and sensors connect with tokens due for their `last_used_at` write, a
 * new sensor registers and streams until a silence alert opens and closes. The server stays up, says
 * `degraded` on /api/health, counts `hark_storage_errors_total`, and writes what waited once space is freed.
 * A restart on the full disk starts read-only and turns writable by itself.
 *
 * Mounting a tmpfs needs root: without it the test is skipped, visibly.
 */
import { mkdirSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import { afterAll, describe, expect, test } from 'vitest';
import type { Alert, HelloAck, Page, SensorAck, SensorStatus } from '@hark/server';
import { liveClient, sleep, startServer, type TestServer, untilValue } from '../support/server.js';
import { smallDisk } from '../support/tmpfs.js';

/** Room for the server's files at start, and small enough to fill in a moment. */
const DISK = '8m';
const disk = smallDisk('full-disk', DISK, 'full-disk tests');
const { mounted, dataDir } = disk;

/** Errors that would end a plain `hark serve` process. */
const fatal: unknown[] = [];
const onFatal = (err: unknown) => fatal.push(err);

async function health(s: TestServer) {
  const res = await fetch(`${s.url}/api/health`);
  expect(res.status).toBe(200);
  return (await res.json()) as {
    status: string;
    storage: { writable: boolean; readOnly: boolean; waitingWrites: Record<string, number> };
  };
}

function sensor(url: string, token: string, sensorId: string): Promise<Socket> {
  const c = io(`${url}/sensor`, {
    auth: { token, sensorId },
    transports: ['websocket'],
    reconnection: false,
  });
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('connect_error', reject);
  });
}

/** Streams `seconds` of 16 kHz audio at `level` (0 = silence) in 100 ms chunks, paced in real time. */
async function stream(c: Socket, seq: { n: number }, seconds: number, level: number) {
  for (let i = 0; i < seconds * 10; i++) {
    const pcm = new Int16Array(1600).map(() => Math.round((Math.random() * 2 - 1) * level * 32767));
    const ack = (await c
      .timeout(10_000)
      .emitWithAck('audio', { seq: seq.n++, data: Buffer.from(pcm.buffer) })) as SensorAck;
    expect(ack).toMatchObject({ ok: true });
    await sleep(100);
  }
}

describe.skipIf(!mounted)('a full disk', () => {
  let s: TestServer | null = null;
  const sockets: Socket[] = [];

  afterAll(async () => {
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
    for (const c of sockets) c.close();
    await s?.close();
    disk.unmount();
  });

  test('costs no crash, reports degraded, counts the errors and writes what waited once space returns', async () => {
    process.on('uncaughtException', onFatal);
    process.on('unhandledRejection', onFatal);
    mkdirSync(dataDir);
    s = await startServer({ dataDir, silenceSeconds: 1, clipPostSeconds: 0.5 });
    const operator = await s.token('operator', 'ana');
    const { token: sensorToken } = await s.api<{ token: string }>('/api/tokens', {
      method: 'POST',
      body: JSON.stringify({ role: 'sensor', name: 'mic-1', sensors: ['pump-9'] }),
    });
    const unbound = await s.token('sensor', 'mic-2');
    expect((await health(s)).status).toBe('ok');

    disk.fill();

    // A token not bound to a sensor yet cannot be bound now: refused, clearly (the binding is no bookkeeping).
    await expect(sensor(s.url, unbound, 'pump-8')).rejects.toThrow(
      /token 'mic-2' is not bound to a sensor yet and the binding to 'pump-8' cannot be stored \(database or disk is full\)/,
    );
    // Both tokens are due for their first `last_used_at` write, and `pump-9` is new: every write fails.
    const dash = await liveClient(s.url, operator);
    sockets.push(dash);
    const c = await sensor(s.url, sensorToken, 'pump-9');
    sockets.push(c);
    const ack = (await c.timeout(10_000).emitWithAck('hello', {
      sampleRate: 16000,
      channels: 1,
      format: 's16le',
      name: 'Pump 9',
    })) as HelloAck;
    expect(ack).toMatchObject({ ok: true, nextSeq: 0 });
    const seq = { n: 0 };
    await stream(c, seq, 2.5, 0); // silence: an alert opens after 1 s
    await stream(c, seq, 1.5, 0.3); // sound: it closes

    const h = await health(s);
    expect(h).toMatchObject({ status: 'degraded', storage: { writable: false, readOnly: false } });
    expect(h.storage.waitingWrites.alerts).toBeGreaterThanOrEqual(2);
    expect(h.storage.waitingWrites.sensors).toBe(1);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    for (const op of ['token', 'sensor', 'alert'])
      expect(metrics).toMatch(new RegExp(`hark_storage_errors_total\\{op="${op}"\\} [1-9]`));
    expect(s.logs.join('\n')).toMatch(/STORAGE ERROR: alert write failed \(alert: SQLITE_FULL/);
    // Reads still answer; a write by an operator is refused with 503 and changes nothing.
    const st = await s.api<SensorStatus>('/api/sensors/pump-9', { token: operator });
    expect(st).toMatchObject({ connected: true });
    expect((await s.api<Page<Alert>>('/api/alerts?sensorId=pump-9')).total).toBe(0);
    await expect(
      s.api('/api/tokens', { method: 'POST', body: JSON.stringify({ role: 'operator', name: 'bob' }) }),
    ).rejects.toMatchObject({ status: 503 });

    disk.free();
    await untilValue(
      'health ok',
      () => health(s as TestServer),
      (v) => v.status === 'ok',
    );
    const page = await s.api<Page<Alert>>('/api/alerts?sensorId=pump-9&kind=silence');
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({ sensorId: 'pump-9', active: false });
    expect(page.items[0].end).toBeGreaterThan(page.items[0].start);
    expect(await s.api<SensorStatus>('/api/sensors/pump-9')).toMatchObject({ name: 'Pump 9' });
    expect(s.logs.join('\n')).toMatch(/storage: writes resumed after/);
    // The sensor streams on, untroubled.
    await stream(c, seq, 0.3, 0.3);
    expect(fatal).toEqual([]);
  }, 180_000);

  test('a restart on the full disk starts read-only, serves what is stored, and turns writable by itself', async () => {
    const admin = (s as TestServer).admin;
    for (const c of sockets.splice(0)) c.close();
    await s?.close();
    s = null;
    disk.fill();
    s = await startServer({ dataDir }, admin);
    expect(s.logs.join('\n')).toMatch(/STORAGE ERROR: started READ-ONLY: .*hark\.db takes no writes/);
    expect(await health(s)).toMatchObject({
      status: 'degraded',
      storage: { writable: false, readOnly: true },
    });
    expect((await s.api<Page<Alert>>('/api/alerts?sensorId=pump-9')).total).toBe(1);
    await expect(s.token('operator', 'bob')).rejects.toMatchObject({ status: 503 });

    disk.free();
    await untilValue(
      'health ok',
      () => health(s as TestServer),
      (v) => v.status === 'ok',
    );
    expect((await health(s)).storage.readOnly).toBe(false);
    expect(await s.token('operator', 'bob')).toMatch(/^hark_/);
    expect(fatal).toEqual([]);
  }, 180_000);
});
