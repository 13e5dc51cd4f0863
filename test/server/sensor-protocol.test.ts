/**
 * The `/sensor` namespace against bad input, over real socket.io with the real server: every rejection the
 * contract names gets a clear error, changes nothing, and never disturbs another sensor.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { HelloAck, SensorAck } from '@hark/protocol';
import { startServer, type TestServer } from '../support/server.js';

let s: TestServer;
let sensorToken: string;
let operatorToken: string;
const open: Socket[] = [];

beforeAll(async () => {
  s = await startServer({ maxChunkBytes: 64 * 1024 });
  // Bound to every id the tests below stream as (a sensor token streams only as its sensors).
  sensorToken = (
    await s.server.tokens.create('sensor', 'protocol test', [
      'a',
      'hello-test',
      'nohello',
      'seq',
      'bad-audio',
      'stereo',
      'good',
      'bad',
      'recon',
    ])
  ).token;
  operatorToken = (await s.server.tokens.create('operator', 'op')).token;
});
afterAll(async () => {
  for (const c of open) c.close();
  await s.close();
});

function connect(auth: Record<string, unknown>): Promise<Socket> {
  const c = io(`${s.url}/sensor`, { auth, transports: ['websocket'], reconnection: false });
  open.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('connect_error', reject);
  });
}

const hello = (c: Socket, m: unknown) => c.timeout(5000).emitWithAck('hello', m) as Promise<HelloAck>;
const audio = (c: Socket, m: unknown) => c.timeout(5000).emitWithAck('audio', m) as Promise<SensorAck>;
const s16 = (n: number, v = 1000) => Buffer.from(new Int16Array(n).fill(v).buffer);

async function ready(id: string, h: Record<string, unknown> = {}) {
  const c = await connect({ token: sensorToken, sensorId: id });
  expect(
    await hello(c, { sampleRate: 16000, channels: 1, format: 's16le', streamId: `${id}-1`, ...h }),
  ).toMatchObject({
    ok: true,
    nextSeq: 0,
  });
  return c;
}

describe('handshake', () => {
  test.each([
    ['no token', { sensorId: 'a' }, /missing token/],
    ['a bad token', { token: 'hark_nope', sensorId: 'a' }, /invalid or revoked token/],
    ['an operator token', { token: '', sensorId: 'a' }, /cannot stream audio|missing token/],
    ['a bad sensor id', { token: 'x', sensorId: 'a b/c' }, /sensorId must be/],
  ])('refuses %s with a message', async (_what, auth, message) => {
    const a = { ...auth } as Record<string, unknown>;
    if (_what === 'an operator token') a.token = operatorToken;
    await expect(connect(a)).rejects.toThrow(message);
  });

  test('a revoked token is refused', async () => {
    const t = await s.server.tokens.create('sensor', 'short-lived');
    await s.server.tokens.revoke(t.id);
    await expect(connect({ token: t.token, sensorId: 'rev' })).rejects.toThrow(/invalid or revoked/);
  });
});

describe('hello', () => {
  test.each([
    [{ sampleRate: 16000, channels: 1, format: 'mp3' }, 'BAD_FORMAT'],
    [{ sampleRate: 4000, channels: 1, format: 's16le' }, 'BAD_SAMPLE_RATE'],
    [{ sampleRate: 192000, channels: 1, format: 's16le' }, 'BAD_SAMPLE_RATE'],
    [{ sampleRate: 16000, channels: 0, format: 's16le' }, 'BAD_CHANNELS'],
    ['hello', 'BAD_MESSAGE'],
  ])('%j is rejected with %s', async (msg, code) => {
    const c = await connect({ token: sensorToken, sensorId: 'hello-test' });
    const ack = await hello(c, msg);
    expect(ack).toMatchObject({ ok: false, code });
    expect((ack as { error: string }).error.length).toBeGreaterThan(10);
  });
});

describe('audio', () => {
  test('before hello: NO_HELLO', async () => {
    const c = await connect({ token: sensorToken, sensorId: 'nohello' });
    expect(await audio(c, { seq: 0, data: s16(160) })).toMatchObject({ ok: false, code: 'NO_HELLO' });
  });

  test('in order chunks are acked with their seq; duplicates and gaps are named and change nothing', async () => {
    const c = await ready('seq');
    expect(await audio(c, { seq: 0, data: s16(160) })).toEqual({ ok: true, seq: 0 });
    expect(await audio(c, { seq: 1, data: s16(160) })).toEqual({ ok: true, seq: 1 });
    const dup = await audio(c, { seq: 1, data: s16(160) });
    expect(dup).toMatchObject({ ok: false, code: 'DUPLICATE_SEQ', expected: 2 });
    expect((dup as { error: string }).error).toMatch(/already/);
    const gap = await audio(c, { seq: 5, data: s16(160) });
    expect(gap).toMatchObject({ ok: false, code: 'OUT_OF_ORDER_SEQ', expected: 2 });
    expect(await audio(c, { seq: 2, data: s16(160) })).toEqual({ ok: true, seq: 2 });
  });

  test('partial samples, oversize chunks, malformed messages', async () => {
    const c = await ready('bad-audio');
    expect(await audio(c, { seq: 0, data: Buffer.alloc(3) })).toMatchObject({
      ok: false,
      code: 'PARTIAL_SAMPLE',
    });
    expect(await audio(c, { seq: 0, data: Buffer.alloc(64 * 1024 + 2) })).toMatchObject({
      ok: false,
      code: 'TOO_LARGE',
    });
    expect(await audio(c, { seq: 0, data: 'not bytes' })).toMatchObject({ ok: false, code: 'BAD_MESSAGE' });
    expect(await audio(c, { seq: -1, data: s16(10) })).toMatchObject({ ok: false, code: 'BAD_MESSAGE' });
    expect(await audio(c, null)).toMatchObject({ ok: false, code: 'BAD_MESSAGE' });
    // None of it changed the stream: seq 0 is still expected.
    expect(await audio(c, { seq: 0, data: s16(160) })).toEqual({ ok: true, seq: 0 });
  });

  test('a stereo f32 stream at 48 kHz is accepted; NaN samples are not', async () => {
    const c = await ready('stereo', { sampleRate: 48000, channels: 2, format: 'f32le' });
    const ok = new Float32Array(960).fill(0.1);
    expect(await audio(c, { seq: 0, data: Buffer.from(ok.buffer) })).toEqual({ ok: true, seq: 0 });
    const bad = new Float32Array(960).fill(Number.NaN);
    expect(await audio(c, { seq: 1, data: Buffer.from(bad.buffer) })).toMatchObject({
      ok: false,
      code: 'BAD_MESSAGE',
    });
  });

  test('a misbehaving sensor does not disturb another one', async () => {
    const good = await ready('good');
    const bad = await ready('bad');
    const flood = Array.from({ length: 50 }, (_, i) =>
      audio(bad, { seq: i % 3 ? 999 : 0, data: Buffer.alloc(i % 2 ? 3 : 5) }),
    );
    for (let i = 0; i < 50; i++)
      expect(await audio(good, { seq: i, data: s16(320) })).toEqual({ ok: true, seq: i });
    await Promise.all(flood);
    const st = await s.api<{ connected: boolean; lastSeen: number }>('/api/sensors/good');
    expect(st.connected).toBe(true);
  });

  test('a reconnect of the same stream continues its sequence; a resent chunk is a duplicate', async () => {
    const a = await ready('recon', { streamId: 'recon-run' });
    expect(await audio(a, { seq: 0, data: s16(160) })).toEqual({ ok: true, seq: 0 });
    expect(await audio(a, { seq: 1, data: s16(160) })).toEqual({ ok: true, seq: 1 });
    a.close();
    const b = await connect({ token: sensorToken, sensorId: 'recon' });
    // As the `hark sensor` client does on a reconnect: the server may not have seen `a` go yet.
    expect(
      await hello(b, {
        sampleRate: 16000,
        channels: 1,
        format: 's16le',
        streamId: 'recon-run',
        takeover: true,
      }),
    ).toMatchObject({
      ok: true,
      nextSeq: 2,
    });
    expect(await audio(b, { seq: 1, data: s16(160) })).toMatchObject({ ok: false, code: 'DUPLICATE_SEQ' });
    expect(await audio(b, { seq: 2, data: s16(160) })).toEqual({ ok: true, seq: 2 });
  });
});

describe('silence', () => {
  test('a dead microphone opens a silence alert, and sound closes it', async () => {
    const q = await startServer({ silenceSeconds: 2 });
    try {
      const token = (await q.server.tokens.create('sensor', 'mic')).token;
      const c = io(`${q.url}/sensor`, { auth: { token, sensorId: 'mic-1' }, transports: ['websocket'] });
      open.push(c);
      await new Promise<void>((r) => c.once('connect', () => r()));
      expect(await hello(c, { sampleRate: 16000, channels: 1, format: 's16le' })).toMatchObject({ ok: true });
      let seq = 0;
      // 0.1 s chunks paced at 5x real time: the meter is read about every 0.5 s of wall-clock time.
      const send = async (seconds: number, level: number) => {
        for (let i = 0; i < seconds * 10; i++) {
          const x = new Int16Array(1600).map(() => Math.round((Math.random() * 2 - 1) * level));
          expect(await audio(c, { seq: seq++, data: Buffer.from(x.buffer) })).toMatchObject({ ok: true });
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      // The meter is read at a pace of the wall clock: keep sending until a reading has seen the change (a
      // loaded machine may take a few readings' time), then check.
      const alerts = () =>
        q.api<{ items: { kind: string; active: boolean }[] }>('/api/alerts?sensorId=mic-1');
      await send(1, 3000);
      await send(4, 0);
      for (let i = 0; i < 10 && (await alerts()).items.length === 0; i++) await send(0.5, 0);
      expect((await alerts()).items).toEqual([expect.objectContaining({ kind: 'silence', active: true })]);
      const st = await q.api<{ silent: boolean }>('/api/sensors/mic-1');
      expect(st.silent).toBe(true);
      await send(2, 3000);
      for (let i = 0; i < 10 && (await alerts()).items.some((a) => a.active); i++) await send(0.5, 3000);
      expect((await alerts()).items).toEqual([expect.objectContaining({ kind: 'silence', active: false })]);
    } finally {
      await q.close();
    }
  }, 60_000);
});

describe('sensor tokens are bound to their sensors', () => {
  const f = { sampleRate: 16000, channels: 1, format: 's16le' };
  const sensorAs = (token: string, sensorId: string) => connect({ token, sensorId });

  test("another sensor's token cannot stream as pump-1; the token bound to it can", async () => {
    const own = await s.api<{ token: string; sensors: string[] }>('/api/tokens', {
      method: 'POST',
      body: JSON.stringify({ role: 'sensor', name: 'pump-1 box', sensors: ['pump-1'] }),
    });
    expect(own.sensors).toEqual(['pump-1']);
    const other = await s.server.tokens.create('sensor', 'pump-2 box');
    expect(other.sensors).toBeNull();
    // Unbound: bound to the first id it streams as, and kept so.
    const c2 = await sensorAs(other.token, 'pump-2');
    expect(await hello(c2, f)).toMatchObject({ ok: true });
    const listed = await s.api<{ id: number; sensors: string[] | null }[]>('/api/tokens');
    expect(listed.find((t) => t.id === other.id)?.sensors).toEqual(['pump-2']);
    await expect(sensorAs(other.token, 'pump-1')).rejects.toThrow(
      "token 'pump-2 box' is bound to sensor pump-2: it cannot stream as 'pump-1'",
    );
    await expect(sensorAs(own.token, 'pump-3')).rejects.toThrow(
      /bound to sensor pump-1: it cannot stream as 'pump-3'/,
    );
    const c1 = await sensorAs(own.token, 'pump-1');
    expect(await hello(c1, { ...f, name: 'Pump One', labels: { site: 'north' } })).toMatchObject({
      ok: true,
    });
    expect(await audio(c1, { seq: 0, data: s16(160) })).toEqual({ ok: true, seq: 0 });
    // Other roles take no binding.
    await expect(
      s.api('/api/tokens', {
        method: 'POST',
        body: JSON.stringify({ role: 'operator', name: 'x', sensors: ['pump-1'] }),
      }),
    ).rejects.toMatchObject({ status: 400 });
  });

  test('a second connection waits for the first (SENSOR_BUSY) or takes over with takeover: true, logged', async () => {
    const { token } = await s.server.tokens.create('sensor', 'fan box', ['fan-1']);
    const first = await sensorAs(token, 'fan-1');
    expect(await hello(first, { ...f, streamId: 'run-1' })).toMatchObject({ ok: true, nextSeq: 0 });
    expect(await audio(first, { seq: 0, data: s16(160) })).toEqual({ ok: true, seq: 0 });

    const second = await sensorAs(token, 'fan-1');
    const busy = await hello(second, { ...f, streamId: 'run-2' });
    expect(busy).toMatchObject({ ok: false, code: 'SENSOR_BUSY' });
    expect((busy as { error: string }).error).toMatch(
      /sensor fan-1 streams on another connection \(token 'fan box'/,
    );
    expect(await audio(second, { seq: 0, data: s16(160) })).toMatchObject({ ok: false, code: 'NO_HELLO' });
    // The first streams on, undisturbed.
    expect(await audio(first, { seq: 1, data: s16(160) })).toEqual({ ok: true, seq: 1 });

    const gone = new Promise<void>((r) => first.once('disconnect', () => r()));
    expect(await hello(second, { ...f, streamId: 'run-1', takeover: true })).toMatchObject({
      ok: true,
      nextSeq: 2,
    });
    await gone;
    expect(await audio(second, { seq: 2, data: s16(160) })).toEqual({ ok: true, seq: 2 });
    expect(s.logs.join('\n')).toMatch(
      /sensor fan-1: connection \S+ \(token 'fan box'\) took over from connection \S+ \(token 'fan box'\)/,
    );

    // Once the streaming connection has gone, the next one needs no takeover.
    const third = await sensorAs(token, 'fan-1');
    const closed = new Promise<void>((r) => second.once('disconnect', () => r()));
    second.close();
    await closed;
    await expect
      .poll(async () => ((await hello(third, { ...f, streamId: 'run-3' })) as { ok: boolean }).ok)
      .toBe(true);
  });

  test('name and labels come from the first hello only; later an admin changes them', async () => {
    const { token } = await s.server.tokens.create('sensor', 'valve box', ['valve-1']);
    const a = await sensorAs(token, 'valve-1');
    expect(await hello(a, { ...f, name: 'Valve One', labels: { site: 'north' } })).toMatchObject({
      ok: true,
    });
    const closed = new Promise<void>((r) => a.once('disconnect', () => r()));
    a.close();
    await closed;
    const b = await sensorAs(token, 'valve-1');
    await expect
      .poll(
        async () => ((await hello(b, { ...f, name: 'Evil', labels: { site: 'x' } })) as { ok: boolean }).ok,
      )
      .toBe(true);
    expect(await s.api('/api/sensors/valve-1')).toMatchObject({
      name: 'Valve One',
      labels: { site: 'north' },
    });
    await s.api('/api/sensors/valve-1', {
      method: 'PATCH',
      body: JSON.stringify({ name: 'Valve 1 (east)' }),
    });
    expect(await s.api('/api/sensors/valve-1')).toMatchObject({ name: 'Valve 1 (east)' });
  });
});
