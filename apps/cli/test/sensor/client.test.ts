import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeWav, readWav } from '@hark/dsp';
import {
  PushSource,
  readableSource,
  SensorClient,
  SensorError,
  wavSource,
  type ConnectionState,
  type DropInfo,
  type SensorClientOptions,
} from '../../src/sensor/index.js';
import { FakeSensorServer, GOOD_TOKEN, streamBytes, type FakeServerOptions } from './fake-server.js';
import { tempDir } from '../../../../test/support/temp.js';

const tmp = tempDir('sensor');

/** Deterministic noise with a tone, written as a 16-bit WAV; returns its path and raw sample bytes. */
function writeTestWav(name: string, seconds: number, sampleRate = 16000) {
  const samples = new Float32Array(Math.round(seconds * sampleRate));
  let x = 12345;
  for (let i = 0; i < samples.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    samples[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / sampleRate) + (x / 2 ** 32 - 0.5) * 0.2;
  }
  const wav = encodeWav(samples, sampleRate, 's16');
  const path = join(tmp, name);
  writeFileSync(path, wav);
  return { path, pcm: Buffer.from(wav.subarray(44)), samples: samples.length };
}

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

function client(server: FakeSensorServer, o: Partial<SensorClientOptions> = {}) {
  const c = new SensorClient({
    server: server.url,
    sensorId: 'pump-1',
    token: GOOD_TOKEN,
    backoff: { minMs: 20, maxMs: 100 },
    ...o,
  });
  clients.push(c);
  return c;
}

/** One 20 ms s16le mono chunk at 16 kHz whose samples all hold `i` (so a test can tell chunks apart). */
function marked(i: number): Uint8Array {
  const a = new Int16Array(320).fill(i);
  return new Uint8Array(a.buffer);
}
const markOf = (b: Buffer) => b.readInt16LE(0);
/** Waits for a condition (never asserts on timing): generous for a loaded machine. */
const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 20_000, interval: 5 });

describe('SensorClient', () => {
  it('streams a WAV at high speed: every chunk arrives in order, byte-identical, with whole frames', async () => {
    const server = await startServer();
    const wav = writeTestWav('tone.wav', 3);
    const c = client(server);
    const acks: number[] = [];
    c.on('ack', (a) => acks.push(a.seq));
    const summary = await c.run(await wavSource(wav.path, { speed: 1000 }));
    const [stream] = server.streamsOf('pump-1');
    expect(stream.hello).toMatchObject({ sampleRate: 16000, channels: 1, format: 's16le' });
    // The default chunk (DEFAULT_CHUNK_MS, 100 ms): 1600 frames of 2 bytes.
    expect(stream.chunks.map((ch) => ch.seq)).toEqual([...Array(30).keys()]);
    expect(stream.chunks.every((ch) => ch.data.length === 3200)).toBe(true);
    expect(streamBytes(stream).equals(wav.pcm)).toBe(true);
    expect(acks).toEqual([...Array(30).keys()]);
    expect(summary).toMatchObject({ stopped: false, chunksAcked: 30, chunksSent: 30, reconnects: 0 });
    expect(summary.secondsAcked).toBeCloseTo(3, 9);
    expect(summary.streamIds).toEqual([stream.streamId]);
    expect(summary.state).toEqual({ state: 'stopped' });
  });

  it('streams f32le: the samples readWav decodes, bit for bit', async () => {
    const server = await startServer();
    const wav = writeTestWav('f32.wav', 0.5);
    await client(server).run(await wavSource(wav.path, { speed: 1000, format: 'f32le' }));
    const [stream] = server.streamsOf('pump-1');
    expect(stream.hello.format).toBe('f32le');
    const bytes = streamBytes(stream);
    const got = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    expect(got).toEqual((await readWav(wav.path)).samples);
  });

  it('splits chunks larger than the maxChunkBytes of the hello into whole frames', async () => {
    const server = await startServer({ maxChunkBytes: 250 });
    const wav = writeTestWav('split.wav', 0.2);
    await client(server).run(await wavSource(wav.path, { speed: 1000 }));
    const [stream] = server.streamsOf('pump-1');
    expect(stream.chunks.every((ch) => ch.data.length <= 250 && ch.data.length % 2 === 0)).toBe(true);
    expect(streamBytes(stream).equals(wav.pcm)).toBe(true);
  });

  it('after a forced disconnect mid-stream it reconnects and sends the backlog in order, without loss', async () => {
    let cut = false;
    const server = await startServer({
      // Chunk 40 is kept but its ack never comes: the server drops the connection instead.
      audio: (msg) => (msg.seq === 40 && !cut ? ((cut = true), 'accept-and-disconnect') : undefined),
    });
    const wav = writeTestWav('cut.wav', 4);
    const c = client(server);
    const states: string[] = [];
    c.on('state', (s) => states.push(s.state));
    const summary = await c.run(await wavSource(wav.path, { speed: 1000, chunkMs: 20 }));
    const [stream] = server.streamsOf('pump-1');
    expect(server.connections).toBe(2);
    expect(server.streamsOf('pump-1')).toHaveLength(1);
    expect(stream.chunks.map((ch) => ch.seq)).toEqual([...Array(200).keys()]);
    expect(streamBytes(stream).equals(wav.pcm)).toBe(true);
    expect(stream.duplicates).toBe(0);
    expect(stream.outOfOrder).toBe(0);
    expect(summary.reconnects).toBe(1);
    expect(summary.chunksAcked).toBe(200);
    expect(states).toContain('reconnecting');
    expect(states.filter((s) => s === 'connected')).toHaveLength(2);
    // Resuming its own stream, it takes the sensor over (the server may still hold the old connection).
    expect(server.hellos.map((h) => h.takeover)).toEqual([undefined, true]);
  });

  it('closed on purpose by the server (server:closed), it reports the reason, reconnects and loses nothing', async () => {
    const message = 'sensor pump-1 was deleted by an admin (ana); connecting again registers it anew';
    let closed = false;
    const server = await startServer({
      audio: (msg, ctx) => {
        if (msg.seq !== 30 || closed) return undefined;
        closed = true;
        ctx.socket.emit('server:closed', { message });
        ctx.socket.disconnect(true);
        return 'accept-silently';
      },
    });
    const wav = writeTestWav('closed.wav', 2);
    const c = client(server);
    const reasons: string[] = [];
    c.on('state', (st: ConnectionState) => st.state === 'reconnecting' && reasons.push(st.reason));
    const summary = await c.run(await wavSource(wav.path, { speed: 1000, chunkMs: 20 }));
    expect(reasons).toEqual([message]);
    expect(summary.reconnects).toBe(1);
    const [stream] = server.streamsOf('pump-1');
    expect(streamBytes(stream).equals(wav.pcm)).toBe(true);
  });

  it('a hello refused with SENSOR_BUSY (another connection streams) is retried, without takeover', async () => {
    const server = await startServer({
      hello: (_h, { connection }) =>
        connection === 1
          ? { ok: false, code: 'SENSOR_BUSY', error: 'sensor pump-1 streams on another connection' }
          : undefined,
    });
    const wav = writeTestWav('busy.wav', 0.5);
    const summary = await client(server).run(await wavSource(wav.path, { speed: 1000, chunkMs: 20 }));
    expect(server.connections).toBe(2);
    expect(server.hellos.map((h) => h.takeover)).toEqual([undefined, undefined]);
    expect(streamBytes(server.streamsOf('pump-1')[0]).equals(wav.pcm)).toBe(true);
    expect(summary.chunksAcked).toBeGreaterThan(0);
  });

  it('resends chunks whose ack was lost; the server answers DUPLICATE_SEQ and the client moves on', async () => {
    let cut = false;
    const server = await startServer({
      nextSeqFrom: 'acked',
      audio: (msg) => (msg.seq === 25 && !cut ? ((cut = true), 'accept-and-disconnect') : undefined),
    });
    const wav = writeTestWav('dup.wav', 2);
    const dupes: number[] = [];
    const c = client(server);
    c.on('ack', (a) => a.duplicate && dupes.push(a.seq));
    const summary = await c.run(await wavSource(wav.path, { speed: 1000, chunkMs: 20 }));
    const [stream] = server.streamsOf('pump-1');
    expect(dupes).toEqual([25]);
    expect(stream.duplicates).toBe(1);
    expect(stream.chunks.map((ch) => ch.seq)).toEqual([...Array(100).keys()]);
    expect(streamBytes(stream).equals(wav.pcm)).toBe(true);
    expect(summary.chunksResent).toBeGreaterThanOrEqual(1);
  });

  it('while the server is down it buffers up to bufferSeconds, drops the oldest, and continues as a new stream', async () => {
    const server = await startServer();
    const c = client(server, { bufferSeconds: 0.2 }); // 10 chunks of 20 ms
    const source = new PushSource({ sampleRate: 16000, channels: 1, format: 's16le' });
    const drops: DropInfo[] = [];
    c.on('dropped', (d) => drops.push(d));
    const done = c.run(source);
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 10; i++) source.push(marked(i), t0 + 20 * i);
    await waitFor(() => expect(c.stats().chunksAcked).toBe(10));

    const reconnecting = new Promise<void>((resolve) =>
      c.on('state', (s: ConnectionState) => s.state === 'reconnecting' && resolve()),
    );
    await server.down();
    await reconnecting;
    for (let i = 10; i < 35; i++) source.push(marked(i), t0 + 20 * i);
    await waitFor(() => expect(c.stats().chunksCaptured).toBe(35));
    expect(c.stats().backlogChunks).toBe(10);
    expect(c.stats().dropped.chunks).toBe(15);
    expect(drops.reduce((n, d) => n + d.chunks, 0)).toBe(15);
    expect(drops.at(-1)).toMatchObject({ totalChunks: 15 });
    expect(drops.at(-1)!.totalSeconds).toBeCloseTo(0.3, 9);

    await server.up();
    source.end();
    const summary = await done;
    const [first, second] = server.streamsOf('pump-1');
    expect(first.chunks.map((ch) => markOf(ch.data))).toEqual([...Array(10).keys()]);
    // The 15 oldest buffered chunks (10-24) are gone; 25-34 arrive as a new stream numbered from 0.
    expect(second.streamId).not.toBe(first.streamId);
    expect(second.chunks.map((ch) => ch.seq)).toEqual([...Array(10).keys()]);
    expect(second.chunks.map((ch) => markOf(ch.data))).toEqual([...Array(10).keys()].map((i) => 25 + i));
    expect(second.chunks.map((ch) => ch.t)).toEqual([...Array(10).keys()].map((i) => t0 + 20 * (25 + i)));
    expect(summary.dropped.chunks).toBe(15);
    expect(summary.dropped.seconds).toBeCloseTo(0.3, 9);
    expect(summary.streamIds).toEqual([first.streamId, second.streamId]);
    expect(summary.chunksAcked).toBe(20);
  });

  it('when a connected server falls behind a live source, it drops the oldest and restarts the stream', async () => {
    // On the first connection the server keeps chunks from seq 2 on but never acknowledges them.
    const server = await startServer({
      audio: (msg, { connection }) => (connection === 1 && msg.seq >= 2 ? 'accept-silently' : undefined),
    });
    const c = client(server, { bufferSeconds: 0.2 });
    const source = new PushSource({ sampleRate: 16000, channels: 1, format: 's16le' });
    const done = c.run(source);
    source.push(marked(0));
    source.push(marked(1));
    await waitFor(() => expect(c.stats().chunksAcked).toBe(2));
    for (let i = 2; i < 20; i++) source.push(marked(i));
    source.end();
    const summary = await done;
    // 2-7 went out (8 in flight at most) but were not acknowledged; 2-9 were dropped to keep 10 chunks.
    expect(summary.dropped.chunks).toBe(8);
    const [first, second] = server.streamsOf('pump-1');
    // The first stream holds 0, 1 and whatever of 2-7 left before the client cut the connection.
    const firstMarks = first.chunks.map((ch) => markOf(ch.data));
    expect(firstMarks).toEqual([...Array(firstMarks.length).keys()]);
    expect(firstMarks.length).toBeGreaterThanOrEqual(2);
    expect(firstMarks.length).toBeLessThanOrEqual(8);
    expect(second.chunks.map((ch) => ch.seq)).toEqual([...Array(10).keys()]);
    expect(second.chunks.map((ch) => markOf(ch.data))).toEqual([...Array(10).keys()].map((i) => 10 + i));
    expect(summary.streamIds).toEqual([first.streamId, second.streamId]);
  });

  it('an ack that never comes makes it reconnect; the hello tells it the server has the chunk', async () => {
    let swallowed = false;
    const server = await startServer({
      audio: (msg) => (msg.seq === 5 && !swallowed ? ((swallowed = true), 'accept-silently') : undefined),
    });
    const wav = writeTestWav('lost-ack.wav', 1);
    const c = client(server, { ackTimeoutMs: 100 });
    const summary = await c.run(await wavSource(wav.path, { speed: 1000, chunkMs: 20 }));
    const [stream] = server.streamsOf('pump-1');
    expect(server.connections).toBe(2);
    expect(stream.chunks.map((ch) => ch.seq)).toEqual([...Array(50).keys()]);
    expect(streamBytes(stream).equals(wav.pcm)).toBe(true);
    expect(stream.duplicates).toBe(0);
    expect(summary.chunksAcked).toBe(50);
  });

  it('a refused connection (bad token) ends run() with the server message and exit code 2, without retrying', async () => {
    const server = await startServer();
    const c = client(server, { token: 'wrong' });
    const states: string[] = [];
    c.on('state', (s) => states.push(s.state));
    const err = await c
      .run(new PushSource({ sampleRate: 16000, channels: 1, format: 's16le' }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(SensorError);
    expect(err.message).toBe("server refused the connection: invalid token for sensor 'pump-1'");
    expect(err.exitCode).toBe(2);
    expect(states).toEqual(['connecting', 'stopped']);
    expect(server.connections).toBe(0);
  });

  it('a chunk rejected as malformed ends run() with the server message and exit code 1', async () => {
    const server = await startServer({
      audio: (msg) =>
        msg.seq === 3
          ? { ok: false, error: 'sample rate does not match the hello', code: 'BAD_FORMAT' }
          : undefined,
    });
    const wav = writeTestWav('bad.wav', 1);
    const err = await client(server)
      .run(await wavSource(wav.path, { speed: 1000, chunkMs: 20 }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(SensorError);
    expect(err.message).toBe('server rejected chunk 3: sample rate does not match the hello (BAD_FORMAT)');
    expect(err.exitCode).toBe(1);
  });

  it('reads a byte stream with partial frames across reads and sends whole frames only', async () => {
    const server = await startServer();
    // Stereo s16le: 4-byte frames. 100 ms at 8 kHz = 800 frames, fed in awkward pieces, plus 3 stray bytes.
    const pcm = new Uint8Array(800 * 4 + 3).map((_, i) => (i * 7) & 0xff);
    const sizes = [1, 2, 5, 3, 1000, 7, 641, 13];
    async function* pieces() {
      let off = 0;
      for (let k = 0; off < pcm.length; k++) {
        const n = sizes[k % sizes.length];
        yield pcm.subarray(off, off + n);
        off += n;
      }
    }
    const warnings: string[] = [];
    const source = readableSource(
      pieces(),
      { sampleRate: 8000, channels: 2, format: 's16le' },
      { chunkMs: 20, onWarning: (m) => warnings.push(m) },
    );
    await client(server).run(source);
    const [stream] = server.streamsOf('pump-1');
    expect(stream.hello).toMatchObject({ sampleRate: 8000, channels: 2 });
    expect(stream.chunks.map((ch) => ch.data.length)).toEqual([640, 640, 640, 640, 640]); // 160 frames = 20 ms
    expect(streamBytes(stream).equals(Buffer.from(pcm.subarray(0, 3200)))).toBe(true);
    expect(warnings).toEqual(['stream ended inside a frame: 3 byte(s) of a 4-byte frame were not sent']);
  });

  it('stamps WAV chunks with a virtual clock: start + samples / rate, whatever the speed', async () => {
    const server = await startServer();
    const wav = writeTestWav('clock.wav', 1, 8000);
    const start = 1_700_000_000_000;
    await client(server).run(await wavSource(wav.path, { speed: 50, startTime: start, chunkMs: 25 }));
    const [stream] = server.streamsOf('pump-1');
    expect(stream.chunks).toHaveLength(40);
    for (const [k, ch] of stream.chunks.entries()) expect(ch.t).toBeCloseTo(start + 25 * k, 6);
  });

  it('stop() ends a looping source cleanly: in-flight chunks acknowledged, run() resolves as stopped', async () => {
    const server = await startServer();
    const wav = writeTestWav('loop.wav', 0.5);
    const c = client(server);
    const done = c.run(await wavSource(wav.path, { speed: 100, loop: true, chunkMs: 20 }));
    await waitFor(() => expect(c.stats().chunksAcked).toBeGreaterThan(30)); // past the first repeat
    await c.stop();
    const summary = await done;
    expect(summary.stopped).toBe(true);
    expect(summary.inFlight).toBe(0);
    const [stream] = server.streamsOf('pump-1');
    expect(stream.chunks.length).toBe(summary.chunksAcked);
    const bytes = streamBytes(stream);
    for (let off = 0; off + wav.pcm.length <= bytes.length; off += wav.pcm.length)
      expect(bytes.subarray(off, off + wav.pcm.length).equals(wav.pcm)).toBe(true);
  });
});
