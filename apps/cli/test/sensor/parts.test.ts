import { Writable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSensorOptions, sensorToken, type SensorOptions } from '../../src/commands/sensor.js';
import {
  Backlog,
  backoffDelay,
  encodePcm,
  FrameChunker,
  LevelMeter,
  SensorClient,
  showStatus,
  statusLine,
  type SensorStats,
} from '../../src/sensor/index.js';
import { tempDir } from '../../../../test/support/temp.js';

const chunk = (bytes: number, t = 0) => ({ data: new Uint8Array(bytes), t });

describe('Backlog', () => {
  it('numbers chunks when first sent, keeps the numbers across a requeue, and forgets acknowledged ones', () => {
    const b = new Backlog(2, 1000, 1000);
    for (let i = 0; i < 4; i++) b.push(chunk(20, i));
    const [a, c] = [b.takeNext()!, b.takeNext()!];
    expect([a.seq, c.seq, b.inFlight, b.queued]).toEqual([0, 1, 2, 2]);
    expect(b.ack(a)).toBe(true);
    expect(b.ack(a)).toBe(false);
    b.requeue();
    expect([b.inFlight, b.queued, b.frames]).toEqual([0, 3, 30]);
    expect(b.takeNext()!.seq).toBe(1);
    expect(b.takeNext()!.seq).toBe(2);
  });

  it("resume() skips what the server has and follows the server's count", () => {
    const b = new Backlog(2, 1000, 1000);
    for (let i = 0; i < 5; i++) b.push(chunk(20, i));
    for (let i = 0; i < 4; i++) b.takeNext();
    expect(b.resume(2)).toEqual({ skipped: { chunks: 2, frames: 20 }, renumbered: false });
    expect([b.length, b.takeNext()!.seq, b.takeNext()!.seq, b.takeNext()!.seq]).toEqual([3, 2, 3, 4]);
    // A server that lost its state (expects 0 again) gets the rest numbered from 0.
    expect(b.resume(0).renumbered).toBe(true);
    expect([b.takeNext()!.seq, b.takeNext()!.seq, b.takeNext()!.seq]).toEqual([0, 1, 2]);
  });

  it('drops the oldest beyond maxFrames, and restartSequence() numbers what is left from 0', () => {
    const b = new Backlog(2, 1000, 30);
    b.push(chunk(20, 0));
    b.takeNext();
    b.push(chunk(20, 1));
    b.push(chunk(20, 2));
    expect(b.push(chunk(20, 3))).toEqual({ chunks: 1, frames: 10 });
    expect([b.length, b.frames, b.inFlight]).toEqual([3, 30, 0]);
    b.restartSequence();
    const e = b.takeNext()!;
    expect([e.seq, e.t]).toEqual([0, 1]);
  });

  it('splits an unnumbered chunk over maxBytes into whole frames with their own times', () => {
    const b = new Backlog(4, 1000, 1000);
    b.push(chunk(40, 100)); // 10 frames = 10 ms
    const pieces = [b.takeNext(12)!, b.takeNext(12)!, b.takeNext(12)!, b.takeNext(12)!];
    expect(pieces.map((p) => [p.seq, p.frames, p.t])).toEqual([
      [0, 3, 100],
      [1, 3, 103],
      [2, 3, 106],
      [3, 1, 109],
    ]);
    expect(b.takeNext(12)).toBeUndefined();
  });
});

describe('PCM helpers', () => {
  it('FrameChunker emits whole chunks and keeps partial frames between pushes', () => {
    const c = new FrameChunker(4, 2);
    expect(c.push(Uint8Array.of(1, 2, 3))).toEqual([]);
    expect(c.push(Uint8Array.of(4, 5, 6, 7, 8, 9))).toEqual([Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)]);
    const out = c.push(new Uint8Array(17).fill(7));
    expect(out.map((x) => x.length)).toEqual([8, 8]);
    expect(c.pendingBytes).toBe(2);
    c.push(Uint8Array.of(1, 2, 3));
    expect(c.flush()).toEqual({ chunk: Uint8Array.of(7, 7, 1, 2), partialBytes: 1 });
  });

  it('encodePcm: s16le rounds and clips, f32le is exact', () => {
    const s16 = encodePcm(Float32Array.of(0, 0.5, -1, 1.5, -2, 1 / 32768), 's16le');
    expect(Array.from(new Int16Array(s16.buffer))).toEqual([0, 16384, -32768, 32767, -32768, 1]);
    const f = Float32Array.of(0.1, -0.7);
    expect(new Float32Array(encodePcm(f, 'f32le').buffer)).toEqual(f);
  });

  it('LevelMeter: RMS and peak in dBFS over the last half second, and clipping', () => {
    const m = new LevelMeter({ sampleRate: 100, channels: 1, format: 's16le' });
    expect(m.read()).toBeNull();
    m.update(encodePcm(new Float32Array(50).fill(1), 's16le')); // 0.5 s at full scale: clipping
    m.update(encodePcm(new Float32Array(50).fill(0.1), 's16le'));
    const l = m.read()!;
    expect(l.seconds).toBe(0.5); // the first chunk left the window
    expect(l.rmsDbfs).toBeCloseTo(-20, 2);
    expect(l.peakDbfs).toBeCloseTo(-20, 2);
    expect(l.clipping).toBe(0);
    m.update(new Uint8Array(100));
    expect(m.read()!.rmsDbfs).toBe(-Infinity);
    const f = new LevelMeter({ sampleRate: 10, channels: 2, format: 'f32le' });
    f.update(encodePcm(Float32Array.of(1, 0.5, -1, 0), 'f32le'));
    expect(f.read()).toMatchObject({ peakDbfs: 0, clipping: 0.5 });
  });

  it('backoffDelay doubles from minMs up to maxMs, with jitter around it', () => {
    const o = { minMs: 500, maxMs: 30_000, jitter: 0.5 };
    expect([1, 2, 3, 8, 20].map((a) => backoffDelay(a, o, () => 0.5))).toEqual([
      500, 1000, 2000, 30_000, 30_000,
    ]);
    expect(backoffDelay(3, o, () => 0)).toBe(1000);
    expect(backoffDelay(3, o, () => 1)).toBe(3000);
  });
});

describe('status display', () => {
  const stats: SensorStats = {
    state: {
      state: 'reconnecting',
      attempt: 3,
      delayMs: 4000,
      retryAt: 10_000 + 3_200,
      reason: 'transport close',
    },
    streamId: 's',
    format: { sampleRate: 16000, channels: 1, format: 's16le' },
    chunksCaptured: 100,
    secondsCaptured: 2,
    chunksSent: 90,
    chunksResent: 0,
    chunksAcked: 80,
    secondsAcked: 1.6,
    backlogChunks: 20,
    backlogSeconds: 0.4,
    inFlight: 0,
    dropped: { chunks: 0, seconds: 0 },
    reconnects: 0,
    level: { rmsDbfs: -23.45, peakDbfs: -0.01, clipping: 0.012, seconds: 0.5 },
  };

  it('statusLine shows state, backlog, level, clipping, chunks and seconds', () => {
    expect(statusLine(stats, 10_000)).toBe(
      'reconnecting in 4s (transport close) | backlog 0.4 s | level -23.4 dBFS rms, -0.0 peak | CLIPPING 1.2% | chunks 90 sent / 80 acked | 1.6 s streamed',
    );
  });

  it('on a terminal it redraws one line and ends with the summary', () => {
    let text = '';
    const out = new Writable({ write: (c, _e, cb) => ((text += c), cb()) });
    const client = new SensorClient({ server: 'http://localhost:1', sensorId: 'a', token: 't' });
    const display = showStatus(client, { out, tty: true });
    client.emit('state', { state: 'connecting', attempt: 1, server: 'http://localhost:1' });
    expect(text).toBe('\r\x1b[2Kidle | level - | chunks 0 sent / 0 acked | 0.0 s streamed');
    display.close({ ...client.stats(), stopped: true, streamIds: [] });
    expect(
      text.endsWith(
        '\r\x1b[2Kstopped: streamed 0.00 s in 0 chunks, 0 sent (0 resent), 0 reconnects, dropped 0 chunks (0.00 s)\n',
      ),
    ).toBe(true);
  });
});

describe('checkSensorOptions', () => {
  const o = (extra: Partial<SensorOptions>): SensorOptions => ({
    server: 'http://x',
    id: 'pump-1',
    token: 't',
    speed: 1,
    format: 's16le',
    chunkMs: 20,
    bufferSeconds: 60,
    maxInFlight: 8,
    ...extra,
  });

  it('needs exactly one source and options that fit it', () => {
    expect(checkSensorOptions(o({ wav: 'a.wav', loop: true, speed: 3 }))).toBe('wav');
    expect(checkSensorOptions(o({ stdin: true, rate: 8000 }))).toBe('stdin');
    expect(checkSensorOptions(o({ alsa: 'default' }))).toBe('alsa');
    expect(() => checkSensorOptions(o({}))).toThrow('choose a source: --wav FILE, --alsa DEVICE or --stdin');
    expect(() => checkSensorOptions(o({ wav: 'a', stdin: true }))).toThrow(
      'choose one source, not --wav and --stdin',
    );
    expect(() => checkSensorOptions(o({ stdin: true }))).toThrow(
      '--stdin needs --rate N (the sample rate in Hz); --format defaults to s16le',
    );
    expect(() => checkSensorOptions(o({ alsa: 'default', loop: true }))).toThrow(
      '--loop and --speed apply to --wav only',
    );
    expect(() => checkSensorOptions(o({ wav: 'a', rate: 8000 }))).toThrow(
      /a WAV file streams at its own rate/,
    );
    expect(() => checkSensorOptions(o({ wav: 'a', id: 'bad id' }))).toThrow(
      "--id 'bad id' must be 1-64 characters",
    );
  });
});

describe('sensorToken', () => {
  it('reads --token-file (first line), else --token / HARK_TOKEN, and names the fix when neither is given', () => {
    const dir = tempDir('token-file');
    const file = join(dir, 'token');
    writeFileSync(file, 'hark_s_abc\n');
    expect(sensorToken({ tokenFile: file, token: 'from-env' })).toBe('hark_s_abc');
    expect(sensorToken({ token: 'from-env' })).toBe('from-env');
    expect(() => sensorToken({})).toThrow('give the sensor token: --token-file FILE or HARK_TOKEN');
    writeFileSync(file, '\n');
    expect(() => sensorToken({ tokenFile: file })).toThrow(`--token-file '${file}' is empty`);
    expect(() => sensorToken({ tokenFile: join(dir, 'missing') })).toThrow(
      /--token-file '.*missing' cannot be read/,
    );
  });
});
