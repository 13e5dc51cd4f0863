/**
 * One sensor's end of namespace `/sensor`: which connection owns the sensor (a newer one replaces it), its
 * `hello` and `audio` messages through the {@link SensorStream}, and what comes out of them, handed on to
 * one {@link IngestSink}: the windows to score and the level readings.
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

export class SensorIngest {
  socketId: string | null = null;
  lastSeen: number | null = null;
  #kick: ((reason: string) => void) | null = null;
  #lastMeterAt = 0;

  constructor(
    readonly stream: SensorStream,
    private readonly sink: IngestSink,
    private readonly metrics: HarkMetrics,
  ) {}

  get connected(): boolean {
    return this.socketId !== null;
  }

  /** A connection took the sensor; an older connection of the same sensor is closed. */
  connect(socketId: string, kick: (reason: string) => void, now: number): void {
    if (this.socketId && this.socketId !== socketId) {
      const old = this.#kick;
      this.socketId = null;
      old?.('replaced by a new connection of the same sensor');
    }
    this.socketId = socketId;
    this.#kick = kick;
    this.lastSeen = now;
  }

  /** False when `socketId` no longer owns the sensor (nothing changed). */
  disconnect(socketId: string): boolean {
    if (this.socketId !== socketId) return false;
    this.socketId = null;
    this.#kick = null;
    this.stream.disconnect();
    return true;
  }

  /** The hello's ack, and the name and labels it gave (labels beyond the protocol's limits are ignored). */
  hello(
    socketId: string,
    msg: unknown,
  ): { ack: HelloAck; patch: { name?: string; labels?: Record<string, string> } | null } {
    if (this.socketId !== socketId)
      return { ack: { ok: false, code: 'BAD_MESSAGE', error: REPLACED }, patch: null };
    const ack = this.stream.hello(msg);
    if (!ack.ok) {
      this.metrics.ingestRejections.inc({ code: ack.code });
      return { ack, patch: null };
    }
    const m = msg as { name?: unknown; labels?: unknown };
    const patch: { name?: string; labels?: Record<string, string> } = {};
    if (typeof m.name === 'string' && m.name.trim()) patch.name = m.name.trim().slice(0, MAX_NAME_LENGTH);
    if (m.labels !== undefined && !labelsProblem(m.labels)) patch.labels = m.labels as Record<string, string>;
    return { ack, patch };
  }

  audio(socketId: string, msg: unknown, now: number): SensorAck {
    if (this.socketId !== socketId) return { ok: false, code: 'BAD_MESSAGE', error: REPLACED };
    const { ack, windows } = this.stream.audio(msg, now);
    if (!ack.ok) {
      this.metrics.ingestRejections.inc({ code: ack.code });
      return ack;
    }
    this.lastSeen = now;
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
