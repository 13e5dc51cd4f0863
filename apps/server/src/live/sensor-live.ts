/**
 * What dashboards see of one sensor: its spectrogram columns with their anomaly (through the
 * {@link ColumnEmitter}) and its scores, sent to the {@link LiveHub} as windows are scored or dropped.
 */
import type { ColumnsEvent, ScoreEvent } from '@hark/protocol';
import type { ReadyWindow, SensorStream } from '../ingest/sensor-stream.js';
import { melHz } from '../ingest/timing.js';
import type { WindowResult } from '../scoring/window-scorer.js';
import { ColumnEmitter } from './column-emitter.js';
import type { LiveHub } from './live-hub.js';

export class SensorLive {
  readonly emitter: ColumnEmitter;
  /** End (stream ms) of the latest window scored or dropped: columns before it have their anomaly map. */
  processedUpTo = -Infinity;

  constructor(
    readonly sensorId: string,
    private readonly stream: SensorStream,
    private readonly hub: LiveHub,
    /** Where the emitted columns are also recorded (the spectrogram history), if anywhere. */
    private readonly record: ((ev: ColumnsEvent) => void) | null = null,
  ) {
    this.emitter = new ColumnEmitter({ sensorId, source: stream });
  }

  /** A scored window: its columns with the anomaly map, and its score (normalised: threshold 1). */
  scored(w: ReadyWindow, r: Pick<WindowResult, 'normalised' | 'raw' | 'map'>): void {
    this.processedUpTo = Math.max(this.processedUpTo, w.t1);
    this.#send(this.emitter.scored(w, r.map));
    const score: ScoreEvent = {
      sensorId: this.sensorId,
      t: w.t1,
      score: r.normalised,
      threshold: 1,
      rawScore: r.raw,
      arrivedAt: w.arrivedAt,
    };
    this.hub.score(score);
  }

  /** A window that was not scored: its columns go out with `scored: false`. */
  dropped(w: ReadyWindow): void {
    this.#send(this.emitter.dropped(w));
  }

  /** Recent columns for a new subscriber. */
  backfill(seconds: number): ColumnsEvent[] {
    const hz = melHz(this.stream.mel);
    return this.emitter.backfill(seconds).map((ev) => ({ ...ev, melHz: hz }));
  }

  #send(events: ColumnsEvent[]): void {
    for (const ev of events)
      this.processedUpTo = Math.max(this.processedUpTo, ev.t0 + ev.nColumns * ev.hopSeconds * 1000);
    if (events.length === 0) return;
    if (this.record) for (const ev of events) this.record(ev);
    const hz = melHz(this.stream.mel);
    for (const ev of events) this.hub.columns({ ...ev, melHz: hz });
  }
}
