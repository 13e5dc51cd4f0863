/**
 * `SensorClient` with several servers (`hark sensor --server A,B`): failover on a lost server, on a refusal
 * by one of them and on a server that is down at the start; the backlog goes to the next server in order;
 * the run ends with exit code 2 only when every server refuses. Real socket.io servers (fake-server.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  failoverLine,
  parseServers,
  PushSource,
  SensorClient,
  SensorError,
  shuffled,
  type FailoverInfo,
  type SensorClientOptions,
} from '../../src/sensor/index.js';
import { checkSensorOptions, type SensorOptions } from '../../src/commands/sensor.js';
import { FakeSensorServer, GOOD_TOKEN, type FakeServerOptions } from './fake-server.js';

const servers: FakeSensorServer[] = [];
const clients: SensorClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.stop();
  for (const s of servers.splice(0)) await s.close();
});

async function startServer(o: FakeServerOptions = {}) {
  const s = await FakeSensorServer.start(o);
  servers.push(s);
  return s;
}

function client(list: string[], o: Partial<SensorClientOptions> = {}) {
  const c = new SensorClient({
    server: list,
    shuffleServers: false,
    sensorId: 'pump-1',
    token: GOOD_TOKEN,
    backoff: { minMs: 20, maxMs: 100 },
    ...o,
  });
  clients.push(c);
  return c;
}

const FORMAT = { sampleRate: 16000, channels: 1, format: 's16le' } as const;
const T0 = 1_700_000_000_000;
/** One 20 ms chunk whose samples all hold `i`. */
const marked = (i: number) => new Uint8Array(new Int16Array(320).fill(i).buffer);
const markOf = (b: Buffer) => b.readInt16LE(0);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 20_000, interval: 5 });

/** A source of `n` marked chunks, 20 ms apart from T0, pushed at once. */
function chunks(n: number) {
  const source = new PushSource(FORMAT);
  for (let i = 0; i < n; i++) source.push(marked(i), T0 + 20 * i);
  source.end();
  return source;
}

describe('SensorClient with several servers', () => {
  it('a server lost mid-stream: the next takes every chunk it did not acknowledge, in order, numbering kept', async () => {
    // A keeps chunks from seq 30 on without acknowledging them, then goes down.
    const a = await startServer({ audio: (msg) => (msg.seq >= 30 ? 'accept-silently' : undefined) });
    const b = await startServer();
    const c = client([a.url, b.url]);
    const failovers: FailoverInfo[] = [];
    c.on('failover', (f) => failovers.push(f));
    const done = c.run(chunks(100));
    await waitFor(() => expect(a.streamsOf('pump-1')[0]?.chunks.length).toBe(38)); // 30 acked + 8 in flight
    await a.down();
    const summary = await done;

    const [onA] = a.streamsOf('pump-1');
    const [onB] = b.streamsOf('pump-1');
    expect(onA.ackedNext).toBe(30);
    // B has chunk 30 onwards (what A did not acknowledge, though A had received 30-37), each once, in order.
    expect(onB.chunks.map((ch) => ch.seq)).toEqual(range(30, 100));
    expect(onB.chunks.map((ch) => markOf(ch.data))).toEqual(range(30, 100));
    expect(onB.chunks.map((ch) => ch.t)).toEqual(range(30, 100).map((i) => T0 + 20 * i));
    expect(onB.duplicates + onB.outOfOrder).toBe(0);
    // A new stream id on B (B anchors it at chunk 30's time); B's hello takes the sensor over.
    expect(onB.streamId).not.toBe(onA.streamId);
    expect(summary.streamIds).toEqual([onA.streamId, onB.streamId]);
    expect(b.hellos.map((h) => h.takeover)).toEqual([true]);
    expect(failovers).toHaveLength(1);
    // The backlog: the 8 chunks in flight on A and the 62 not sent yet.
    expect(failovers[0]).toMatchObject({
      from: a.url,
      to: b.url,
      backlogChunks: 70,
      resendFromSeq: 30,
      resendFromT: T0 + 20 * 30,
      delayMs: 0,
    });
    expect(failovers[0].backlogSeconds).toBeCloseTo(1.4, 9);
    expect(summary).toMatchObject({ chunksAcked: 100, reconnects: 1, dropped: { chunks: 0 } });
  });

  it('a server that refuses the token, or is down at the start, is passed over for the next', async () => {
    const refusing = await startServer({ token: 'another-token' });
    const down = await startServer();
    // Every server holds its port before one goes down: started after it, the next could be given the port it
    // freed, and the list would name one server twice.
    const b = await startServer();
    await down.down();
    const c = client([refusing.url, down.url, b.url]);
    const failovers: FailoverInfo[] = [];
    c.on('failover', (f) => failovers.push(f));
    const summary = await c.run(chunks(20));
    expect(b.streamsOf('pump-1')[0].chunks.map((ch) => markOf(ch.data))).toEqual(range(0, 20));
    expect(refusing.connections).toBe(0);
    expect(failovers.map((f) => [f.from, f.to])).toEqual([
      [refusing.url, down.url],
      [down.url, b.url],
    ]);
    expect(failovers[0].reason).toMatch(/server refused the connection: invalid token/);
    expect(summary.chunksAcked).toBe(20);
  });

  it('keeps buffering while no server answers, then sends the backlog in order to the first that does', async () => {
    const a = await startServer();
    const b = await startServer();
    await a.down();
    await b.down();
    const c = client([a.url, b.url]);
    const failovers: FailoverInfo[] = [];
    c.on('failover', (f) => failovers.push(f));
    const done = c.run(chunks(30));
    await waitFor(() => expect(failovers.length).toBeGreaterThanOrEqual(4));
    expect(c.stats()).toMatchObject({ chunksCaptured: 30, backlogChunks: 30, chunksAcked: 0 });
    // After both failed in a row, the next try waits for the backoff.
    expect(failovers[0].delayMs).toBe(0);
    expect(failovers[1].delayMs).toBeGreaterThan(0);
    await b.up();
    const summary = await done;
    expect(b.streamsOf('pump-1')[0].chunks.map((ch) => ch.seq)).toEqual(range(0, 30));
    expect(summary.dropped.chunks).toBe(0);
  });

  it('every server refusing the token ends the run with exit code 2, naming each refusal', async () => {
    const a = await startServer({ token: 'x' });
    const b = await startServer({ token: 'y' });
    const err = await client([a.url, b.url])
      .run(chunks(5))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SensorError);
    expect((err as SensorError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/^every server refused the connection: /);
    expect((err as Error).message).toContain(a.url);
    expect((err as Error).message).toContain(b.url);
  });

  it('a refusal that says when to retry (another instance holds the lease) is retried, with one server too', async () => {
    const lease = (attempt: number) =>
      attempt <= 2
        ? { message: 'sensor pump-1 is scored by hark-b', data: { code: 'SENSOR_LEASED', retryAfterMs: 30 } }
        : undefined;
    const one = await startServer({ refuse: lease });
    const summary = await client([one.url]).run(chunks(10));
    expect(one.handshakes).toBe(3);
    expect(one.streamsOf('pump-1')[0].chunks).toHaveLength(10);
    expect(summary.chunksAcked).toBe(10);
  });

  it('while every server refuses for a lease, it retries when they say, without growing the backoff', async () => {
    const lease = (attempt: number) =>
      attempt <= 4
        ? { message: 'sensor pump-1 is scored by hark-c', data: { code: 'SENSOR_LEASED', retryAfterMs: 30 } }
        : undefined;
    const a = await startServer({ refuse: lease });
    const b = await startServer({ refuse: lease });
    // An exponential backoff from 20 ms would wait 20, 40, 80, 160 ms (+-50 %) after each round.
    const c = client([a.url, b.url], { backoff: { minMs: 20, maxMs: 10_000, jitter: 0.5 } });
    const failovers: FailoverInfo[] = [];
    c.on('failover', (f) => failovers.push(f));
    const summary = await c.run(chunks(10));
    const roundEnds = failovers.filter((f) => f.delayMs > 0).map((f) => f.delayMs);
    expect(roundEnds).toHaveLength(4);
    for (const d of roundEnds) expect(d).toBeGreaterThanOrEqual(30);
    for (const d of roundEnds) expect(d).toBeLessThanOrEqual(40); // 30 + up to half the 20 ms step
    expect(summary.chunksAcked).toBe(10);
  });
});

describe('server lists', () => {
  it('splits and checks a comma-separated list, naming the bad value', () => {
    expect(parseServers('http://a:8080, http://b:8080')).toEqual(['http://a:8080', 'http://b:8080']);
    expect(parseServers('http://a:8080')).toEqual(['http://a:8080']);
    expect(() => parseServers('http://a:8080,,http://b:8080')).toThrow(
      "server list 'http://a:8080,,http://b:8080' has an empty entry",
    );
    expect(() => parseServers('http://a:8080,b:8080')).toThrow(
      "server 'b:8080' must be an http(s) or ws(s) URL",
    );
    expect(() => parseServers('http://a:8080,nope')).toThrow("server 'nope' is not a URL");
    expect(() => parseServers('http://a:8080,http://a:8080/')).toThrow(
      "server 'http://a:8080/' is listed twice",
    );
  });

  it('`hark sensor` refuses a bad --server list before opening anything', () => {
    const o = {
      server: 'http://a:8080,',
      id: 'p-1',
      wav: 'x.wav',
      speed: 1,
      format: 's16le',
    } as SensorOptions;
    expect(() => checkSensorOptions(o)).toThrow("--server: server list 'http://a:8080,' has an empty entry");
  });

  it('logs a failover as one line: from, to, why, backlog', () => {
    const f: FailoverInfo = {
      from: 'http://a:8080',
      to: 'http://b:8080',
      reason: 'transport close',
      backlogChunks: 12,
      backlogSeconds: 0.24,
      resendFromSeq: 30,
      resendFromT: T0,
      delayMs: 0,
    };
    expect(failoverLine(f)).toBe(
      'failover from http://a:8080 to http://b:8080 (transport close): backlog 12 chunks (0.24 s from seq 30)',
    );
    expect(
      failoverLine({ ...f, backlogChunks: 0, backlogSeconds: 0, resendFromSeq: null, delayMs: 1500 }),
    ).toBe(
      'failover from http://a:8080 to http://b:8080 (transport close): backlog 0 chunks (0.00 s), next try in 1.5 s',
    );
  });

  it('shuffles into a permutation', () => {
    const items = range(0, 10);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const s = shuffled(items);
      expect([...s].sort((x, y) => x - y)).toEqual(items);
      seen.add(s.join(','));
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});
