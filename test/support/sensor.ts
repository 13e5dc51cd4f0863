/**
 * A sensor on `/sensor` as the protocol describes it (handshake, `hello`, `audio` with sequence numbers),
 * driven by the test rather than the `hark sensor` command: it can stream silence or noise as fast as the
 * server acknowledges (stream time is counted in samples, so this is not real time), or paced.
 */
import { io, type Socket } from 'socket.io-client';
import type { HelloAck, HelloMessage, SensorAck } from '@hark/protocol';

export const SENSOR_RATE = 16000;
/** 100 ms chunks, as `hark sensor` sends. */
export const CHUNK_FRAMES = 1600;

/** Connects to `/sensor`; rejects with the server's `connect_error` (bad token, binding refused). */
export function connectSensor(url: string, token: string, sensorId: string): Promise<Socket> {
  const c = io(`${url}/sensor`, {
    auth: { token, sensorId },
    transports: ['websocket'],
    reconnection: false,
  });
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('connect_error', (err) => {
      c.close();
      reject(err);
    });
  });
}

/** 16-bit mono PCM: `level` 0 is digital silence, else uniform noise of that peak (0-1). */
export function pcm(frames: number, level: number): Buffer {
  const samples = new Int16Array(frames);
  if (level > 0)
    for (let i = 0; i < frames; i++) samples[i] = Math.round((Math.random() * 2 - 1) * level * 32767);
  return Buffer.from(samples.buffer);
}

/** Longer than the server's 500 ms between level readings. */
const METER_PAUSE_MS = 550;

/** A sensor that said `hello` (16 kHz mono s16le) and streams with its own sequence numbers. */
export class TestSensor {
  seq = 0;

  private constructor(readonly socket: Socket) {}

  static async open(
    url: string,
    token: string,
    sensorId: string,
    hello: Partial<HelloMessage> = {},
  ): Promise<TestSensor> {
    const socket = await connectSensor(url, token, sensorId);
    const ack = (await socket.timeout(10_000).emitWithAck('hello', {
      sampleRate: SENSOR_RATE,
      channels: 1,
      format: 's16le',
      ...hello,
    })) as HelloAck;
    if (!ack.ok) {
      socket.close();
      throw new Error(`hello refused: ${ack.code} ${ack.error}`);
    }
    const sensor = new TestSensor(socket);
    sensor.seq = ack.nextSeq;
    return sensor;
  }

  /** Sends one chunk; throws on a refused ack (a test sensor sends only good chunks). */
  async send(data: Buffer): Promise<void> {
    const seq = this.seq++;
    const ack = (await this.socket.timeout(10_000).emitWithAck('audio', { seq, data })) as SensorAck;
    if (!ack.ok) throw new Error(`chunk ${seq} refused: ${ack.code} ${ack.error}`);
  }

  /** `seconds` of audio at `level` in 100 ms chunks; `paceMs` between chunks (0: as fast as acks come). */
  async stream(seconds: number, level: number, paceMs = 0): Promise<void> {
    for (let i = 0; i < Math.round(seconds * 10); i++) {
      await this.send(pcm(CHUNK_FRAMES, level));
      if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
    }
  }

  /**
   * Makes the server open and close one silence alert (its `silenceSeconds` must be under 1.2 s): silence,
   * then sound. The server meters levels at most every 500 ms of arrival time (`METER_INTERVAL_MS`), so each
   * phase ends with a chunk sent after that pause; about 1.2 s of wall time per alert.
   */
  async silenceAlert(): Promise<void> {
    for (const [seconds, level] of [
      [1.2, 0],
      [0.5, 0.3],
    ]) {
      await this.stream(seconds, level);
      await new Promise((r) => setTimeout(r, METER_PAUSE_MS));
      await this.stream(0.1, level);
    }
  }

  /**
   * Streams `samples` (mono, 16 kHz, looped) in real time, one 100 ms chunk per 100 ms of the wall clock
   * (late chunks are sent at once to catch up), until `stop()` is called on the returned handle. A refused
   * chunk ends the stream with that error in `done`.
   */
  realTime(samples: Float32Array): {
    stop(): void;
    /** Chunks acknowledged so far. */
    chunks(): number;
    done: Promise<{ chunks: number; seconds: number }>;
  } {
    let stopped = false;
    let chunks = 0;
    const started = Date.now();
    const done = (async () => {
      for (; !stopped; chunks++) {
        const from = (chunks * CHUNK_FRAMES) % (samples.length - CHUNK_FRAMES);
        const chunk = new Int16Array(CHUNK_FRAMES);
        for (let i = 0; i < CHUNK_FRAMES; i++)
          chunk[i] = Math.round(Math.max(-1, Math.min(1, samples[from + i])) * 32767);
        await this.send(Buffer.from(chunk.buffer));
        const wait = started + (chunks + 1) * 100 - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      return { chunks, seconds: chunks / 10 };
    })();
    return { stop: () => (stopped = true), chunks: () => chunks, done };
  }

  close(): void {
    this.socket.close();
  }
}
