/**
 * A sensor's connection state is true within 10 s (issue 14 item 1): a `hark sensor` process that stops
 * (SIGSTOP: its socket stays open, nothing answers) reads `disconnected` through the socket.io heartbeat, and a
 * connection that stands but sends no audio reads `disconnected` through the ingest's data timeout, then
 * `connected` again when audio resumes. Real server, real socket.io, the real `hark sensor` command.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { encodeWav } from '@hark/dsp';
import type { HelloAck, SensorAck, SensorStatus } from '@hark/protocol';
import {
  liveClient,
  runSensor,
  startServer,
  tempDir,
  waitForConnected,
  type TestServer,
} from '../support/server.js';

/** The contract of issue 14: a dropped sensor shows as disconnected within this. */
const DISCONNECT_DEADLINE_MS = 10_000;

/** Polls the sensor's REST status until `ok`; returns the ms it took, or throws after `timeoutMs`. */
async function waitForStatus(
  s: TestServer,
  id: string,
  ok: (st: SensorStatus) => boolean,
  timeoutMs: number,
): Promise<{ ms: number; status: SensorStatus }> {
  const t0 = Date.now();
  for (;;) {
    const status = await s.api<SensorStatus>(`/api/sensors/${id}`);
    if (ok(status)) return { ms: Date.now() - t0, status };
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`sensor ${id} still ${status.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a stopped sensor reads disconnected within 10 s (socket.io heartbeat)', () => {
  let s: TestServer;
  let sensor: ReturnType<typeof runSensor> | null = null;

  beforeAll(async () => {
    // The default heartbeat; a data timeout far beyond the deadline, so only the heartbeat can pass the test.
    s = await startServer({ dataTimeoutSeconds: 600 });
  });
  afterAll(async () => {
    sensor?.child.kill('SIGKILL');
    await sensor?.done;
    await s?.close();
  });

  test('SIGSTOP of hark sensor: disconnected well before the deadline, with stateSince and lastSeen', async () => {
    const dir = tempDir('presence');
    const wav = join(dir, 'tone.wav');
    const samples = new Float32Array(16000 * 2).map(
      (_, i) => 0.2 * Math.sin((2 * Math.PI * 440 * i) / 16000),
    );
    writeFileSync(wav, encodeWav(samples, 16000));
    const token = await s.token('sensor', 'presence-box');
    sensor = runSensor(['--server', s.url, '--id', 'stopper', '--token', token, '--wav', wav, '--loop']);
    await waitForConnected(s, 'stopper');
    const live = await liveClient(s.url, s.admin);
    const pushed: SensorStatus[] = [];
    live.on('sensor:status', (st: SensorStatus) => {
      if (st.id === 'stopper') pushed.push(st);
    });
    try {
      const before = await s.api<SensorStatus>('/api/sensors/stopper');
      expect(before).toMatchObject({ connected: true });
      expect(before.stateSince).toBeTypeOf('number');
      const stoppedAt = Date.now();
      sensor.child.kill('SIGSTOP');
      const { ms, status } = await waitForStatus(s, 'stopper', (st) => !st.connected, DISCONNECT_DEADLINE_MS);
      expect(status.state).toBe('disconnected');
      expect(ms).toBeLessThan(DISCONNECT_DEADLINE_MS);
      // "since" is when it was marked; "last seen" is the last audio, before the stop.
      expect(status.stateSince).toBeGreaterThanOrEqual(stoppedAt);
      expect(status.lastSeen).toBeLessThanOrEqual(stoppedAt + 500);
      // The dashboards were told, not only the REST API.
      await expect.poll(() => pushed.some((st) => st.state === 'disconnected'), { timeout: 2000 }).toBe(true);
    } finally {
      live.close();
      sensor.child.kill('SIGCONT');
    }
  }, 60_000);
});

describe('a connection that sends no audio reads disconnected (data timeout), and connected when it resumes', () => {
  let s: TestServer;
  let c: Socket | null = null;

  beforeAll(async () => {
    // A heartbeat that cannot fire during the test: only the data timeout can pass it.
    s = await startServer({ dataTimeoutSeconds: 2, pingIntervalSeconds: 120, pingTimeoutSeconds: 120 });
  });
  afterAll(async () => {
    c?.close();
    await s?.close();
  });

  test('no audio for the data timeout: disconnected; the next chunk: connected', async () => {
    const token = await s.token('sensor', 'quiet-box');
    c = io(`${s.url}/sensor`, {
      auth: { token, sensorId: 'quiet' },
      transports: ['websocket'],
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      c!.once('connect', () => resolve());
      c!.once('connect_error', reject);
    });
    const hello = (await c.timeout(5000).emitWithAck('hello', {
      sampleRate: 16000,
      channels: 1,
      format: 's16le',
      streamId: 'quiet-1',
    })) as HelloAck;
    expect(hello.ok).toBe(true);
    let seq = 0;
    const send = async () =>
      (await c!.timeout(5000).emitWithAck('audio', {
        seq: seq++,
        data: Buffer.from(new Int16Array(1600).fill(500).buffer),
      })) as SensorAck;
    expect(await send()).toMatchObject({ ok: true });
    await waitForStatus(s, 'quiet', (st) => st.connected, 5000);
    const { status } = await waitForStatus(s, 'quiet', (st) => !st.connected, DISCONNECT_DEADLINE_MS);
    expect(status.state).toBe('disconnected');
    expect(c.connected).toBe(true);
    expect(s.logs.join('\n')).toMatch(/sensor quiet: no audio for \d+\.\d s \(--data-timeout 2 s\)/);
    expect(await send()).toMatchObject({ ok: true });
    const back = await waitForStatus(s, 'quiet', (st) => st.connected, 5000);
    expect(back.status.state).not.toBe('disconnected');
  }, 60_000);
});
