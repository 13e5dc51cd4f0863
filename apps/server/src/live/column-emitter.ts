/**
 * Decides which spectrogram columns go to the dashboards and with which anomaly. Columns are sent once,
 * when a window covering them has been scored (or dropped): when window k (frames [s, s + W)) is done, the
 * columns not yet emitted up to s + W take their anomaly from that window's map, the newest opinion about
 * them. Columns skipped by no window (a segment's tail) go out unscored with the next window. Results that
 * arrive late (an older window finishing after a newer one) emit nothing. The anomaly is written back into
 * the sensor's column ring, so a new subscriber's backfill shows the same picture.
 */
import type { ColumnsEvent } from '@hark/protocol';
import { columnsEvent } from './quantise.js';
import type { ColumnRing } from '../ingest/rings.js';
import type { ColumnRead } from '../ingest/sensor-stream.js';

/** What the emitter reads: a `SensorStream`. */
export interface ColumnSource {
  columns(fromFrame: number, toFrame: number): ColumnRead;
  readonly columnStore: ColumnRing;
}

export interface ColumnEmitterOptions {
  sensorId: string;
  source: ColumnSource;
}

/** The frames of a window (`ReadyWindow` fits). */
export interface WindowFrames {
  startFrame: number;
  endFrame: number;
}

/** Columns whose stamps differ from the hop by more than this (ms) belong to different segments. */
const GAP_TOLERANCE_MS = 1e-3;

export class ColumnEmitter {
  readonly sensorId: string;
  private readonly source: ColumnSource;
  private upTo = 0;

  constructor(options: ColumnEmitterOptions) {
    this.sensorId = options.sensorId;
    this.source = options.source;
    this.upTo = options.source.columnStore.start;
  }

  /** Absolute frame one past the last column emitted. */
  get emittedUpTo(): number {
    return this.upTo;
  }

  /** Window `w` was scored; `map` is its normalised `[nMels, windowFrames]` map. Returns the events to send. */
  scored(w: WindowFrames, map: Float32Array): ColumnsEvent[] {
    return this.emit(w, map);
  }

  /** Window `w` was dropped: its new columns go out with `scored: false` and zero anomaly. */
  dropped(w: WindowFrames): ColumnsEvent[] {
    return this.emit(w, null);
  }

  /**
   * The emitted columns of the last `seconds` (for a new subscriber), with the anomaly they were sent with,
   * split into runs of one segment and one `scored` value.
   */
  backfill(seconds: number): ColumnsEvent[] {
    const ring = this.source.columnStore;
    const to = Math.min(this.upTo, ring.end);
    const probe = this.source.columns(Math.max(to - 1, ring.start), to);
    const frames = Math.ceil(seconds / probe.hopSeconds || 0);
    return this.events(Math.max(to - frames, ring.start), to);
  }

  private emit(w: WindowFrames, map: Float32Array | null): ColumnsEvent[] {
    const ring = this.source.columnStore;
    const from = Math.max(this.upTo, ring.start);
    const to = Math.min(w.endFrame, ring.end);
    if (to <= from) return [];
    const width = w.endFrame - w.startFrame;
    for (let f = from; f < to; f++) {
      const inWindow = f >= w.startFrame;
      ring.setAnomaly(f, inWindow ? map : null, f - w.startFrame, width, inWindow && map !== null);
    }
    this.upTo = to;
    return this.events(from, to);
  }

  /** Events for frames [from, to) from the ring, split where the segment or the scored flag changes. */
  private events(from: number, to: number): ColumnsEvent[] {
    if (to <= from) return [];
    const c = this.source.columns(from, to);
    const n = c.toFrame - c.fromFrame;
    const hopMs = c.hopSeconds * 1000;
    const out: ColumnsEvent[] = [];
    let a = 0;
    for (let i = 1; i <= n; i++) {
      const split =
        i === n ||
        c.scored[i] !== c.scored[a] ||
        Math.abs(c.times[i] - c.times[i - 1] - hopMs) > GAP_TOLERANCE_MS;
      if (!split) continue;
      const m = c.nMels;
      // The ring holds the columns in the events' encoding; unscored columns' anomaly bytes are 0.
      out.push(
        columnsEvent({
          sensorId: this.sensorId,
          t0: c.times[a],
          hopSeconds: c.hopSeconds,
          nMels: m,
          spectrogram: a === 0 && i === n ? c.spectrogram : c.spectrogram.slice(a * m, i * m),
          anomaly: a === 0 && i === n ? c.anomaly : c.anomaly.slice(a * m, i * m),
          dbRange: c.dbRange,
          anomalyScale: c.anomalyScale,
          scored: c.scored[a] === 1,
        }),
      );
      a = i;
    }
    return out;
  }
}
