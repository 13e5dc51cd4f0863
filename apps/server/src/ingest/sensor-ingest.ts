/**
 * One sensor's end of namespace `/sensor`: which connection streams for the sensor (a second one waits, and
 * takes over only when its hello says `takeover: true`), its `hello` and `audio` messages through the
 * {@link SensorStream}, and what comes out of them, handed on to one {@link IngestSink}: the windows to score
 * and the level readings.
 */
import { labelsProblem, MAX_NAME_LENGTH, type HelloAck, type SensorAck } from '@hark/protocol';
import type { HarkMetrics } from '../metrics/hark.metrics.js';
import type { MeterReading } from './meter.js';
import type { ReadyWindow, SensorStream } from './sensor-stream.js';

/** Where ingest hands on: windows to score, level readings (silence), and what the sensor said of itself. */
export interface IngestSink {
  window(w: ReadyWindow): void;
  /** A level reading at stream time `t`, at most every `METER_INTERVAL_MS` of arrivals. */
  level(reading: MeterReading, t: number): void;
  /** Audio arrived (pending alert clips may now have their post-roll). */
  audio(): void;
}

/** Arrival time between two level readings handed on, ms. */
const METER_INTERVAL_MS = 500;

const REPLACED = 'this connection was replaced';

/** A connection of the sensor: how to close it, and the name of the token it authenticated with. */
interface Connection {
  kick: (reason: string) => void;
  token: string;
}

export class SensorIngest {
  /** The connection that streams for the sensor: the last whose hello was accepted, while connected. */
  socketId: string | null = null;
  lastSeen: number | null = null;
  /** Name of the token the streaming connection authenticated with. */
  token: string | null = null;
  /**
   * The connection stands but no audio came for the data timeout (marked by `Sensors`' tick): the sensor
   * counts as disconnected until its next accepted chunk.
   */
  stale = false;
  #since = 0;
  /** Every connection of the sensor, streaming or waiting for its hello. */
  readonly #connections = new Map<string, Connection>();
  #lastMeterAt = 0;

  constructor(
    readonly stream: SensorStream,
    private readonly sink: IngestSink,
    private readonly metrics: HarkMetrics,
  ) {
    // Windows that the DSP worker completes after `audio` has answered the chunk.
    stream.onWindows((windows) => {
      for (const w of windows) this.sink.window(w);
      this.sink.audio();
    });
  }

  get connected(): boolean {
    return this.socketId !== null;
  }

  /** Connected and sending audio (not {@link SensorIngest.stale}): what operators see as connected. */
  get streaming(): boolean {
    return this.socketId !== null && !this.stale;
  }

  /**
   * A connection of the sensor (authenticated with the token named `token`). It streams once its hello is
   * accepted; while another connection streams, that hello is refused with `SENSOR_BUSY` unless it says
   * `takeover: true`, until the other disconnects (socket.io ends a connection whose ping times out).
   */
  connect(socketId: string, kick: (reason: string) => void, token = ''): void {
    this.#connections.set(socketId, { kick, token });
  }

  /** False when `socketId` did not stream for the sensor (nothing changed). */
  disconnect(socketId: string): boolean {
    this.#connections.delete(socketId);
    if (this.socketId !== socketId) return false;
    this.socketId = null;
    this.token = null;
    this.stale = false;
    this.stream.disconnect();
    return true;
  }

  /** Closes every connection of the sensor, telling each `reason` (the sensor was deleted). */
  closeAll(reason: string): void {
    const kicks = [...this.#connections.values()].map((c) => c.kick);
    this.#connections.clear();
    if (this.socketId !== null) {
      this.socketId = null;
      this.token = null;
      this.stale = false;
      this.stream.disconnect();
    }
    for (const kick of kicks) kick(reason);
  }

  /**
   * The hello's ack, the name and labels it gave (labels beyond the protocol's limits are ignored), and,
   * when it took the sensor over from another connection, what to log.
   */
  hello(
    socketId: string,
    msg: unknown,
    now = Date.now(),
  ): {
    ack: HelloAck;
    patch: { name?: string; labels?: Record<string, string> } | null;
    tookOver?: string;
  } {
    const conn = this.#connections.get(socketId);
    if (!conn) return { ack: { ok: false, code: 'BAD_MESSAGE', error: REPLACED }, patch: null };
    let tookOver: string | undefined;
    if (this.socketId !== null && this.socketId !== socketId) {
      if ((msg as { takeover?: unknown } | null)?.takeover !== true) {
        this.metrics.ingestRejections.inc({ code: 'SENSOR_BUSY' });
        const error =
          `sensor ${this.stream.sensorId} streams on another connection (token '${this.token}', since ` +
          `${new Date(this.#since).toISOString()}); it is freed when that connection closes or its ping ` +
          'times out, or say hello with takeover: true';
        return { ack: { ok: false, code: 'SENSOR_BUSY', error }, patch: null };
      }
      const old = this.socketId;
      tookOver = `connection ${socketId} (token '${conn.token}') took over from connection ${old} (token '${this.token}')`;
      const kick = this.#connections.get(old)?.kick;
      this.disconnect(old);
      kick?.('taken over by another connection of the same sensor (takeover)');
    }
    const ack = this.stream.hello(msg);
    if (!ack.ok) {
      this.metrics.ingestRejections.inc({ code: ack.code });
      return { ack, patch: null, tookOver };
    }
    if (this.socketId !== socketId) {
      this.socketId = socketId;
      this.token = conn.token;
      this.#since = now;
    }
    this.lastSeen = now;
    const m = msg as { name?: unknown; labels?: unknown };
    const patch: { name?: string; labels?: Record<string, string> } = {};
    if (typeof m.name === 'string' && m.name.trim()) patch.name = m.name.trim().slice(0, MAX_NAME_LENGTH);
    if (m.labels !== undefined && !labelsProblem(m.labels)) patch.labels = m.labels as Record<string, string>;
    return { ack, patch, tookOver };
  }

  audio(socketId: string, msg: unknown, now: number): SensorAck {
    if (this.socketId !== socketId) {
      if (!this.#connections.has(socketId)) return { ok: false, code: 'BAD_MESSAGE', error: REPLACED };
      const error =
        this.socketId === null
          ? 'send hello {sampleRate, channels, format} before audio'
          : 'another connection streams for this sensor: say hello with takeover: true to take it over';
      return { ok: false, code: 'NO_HELLO', error };
    }
    const { ack, windows, seconds } = this.stream.audio(msg, now);
    if (!ack.ok) {
      this.metrics.ingestRejections.inc({ code: ack.code });
      return ack;
    }
    this.metrics.audioSeconds.inc({ sensor: this.stream.sensorId }, seconds);
    this.lastSeen = now;
    this.stale = false;
    for (const w of windows) this.sink.window(w);
    if (now - this.#lastMeterAt >= METER_INTERVAL_MS) {
      this.#lastMeterAt = now;
      const t = this.stream.streamTime;
      if (t !== null) this.sink.level(this.stream.meter(), t);
    }
    this.sink.audio();
    return ack;
  }
}
