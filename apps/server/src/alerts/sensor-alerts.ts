/**
 * One sensor's alerts: the anomaly tracker (hysteresis over scored windows) and the silence tracker (over the
 * level meter), the over-threshold windows kept for feedback, and the clips written once their post-roll has
 * arrived. What they decide goes to the {@link AlertService}.
 */
import { concatSamples, type MelParams } from '@hark/dsp';
import type { MeterReading } from '../ingest/meter.js';
import type { ReadyWindow, SensorStream } from '../ingest/sensor-stream.js';
import type { WindowResult } from '../scoring/window-scorer.js';
import { alertPicture } from './alert-picture.js';
import { AlertTracker, SilenceTracker, type AlertTrackerEvent } from './alert-tracker.js';
import type { AlertService } from './alert.service.js';

export interface SensorAlertsOptions {
  sensorId: string;
  stream: SensorStream;
  alerts: AlertService;
  /** Windows over the threshold that open an alert, and under it that close one. */
  openWindows: number;
  closeWindows: number;
  /** Audio kept around an alert, s. */
  clipPreSeconds: number;
  clipPostSeconds: number;
  /** Whether the sensor is snoozed now (no new alerts). */
  snoozed: () => boolean;
  /** End (stream ms) of the latest window scored or dropped: a clip waits until its post-roll is scored. */
  processedUpTo: () => number;
  /** An alert opened or closed (the sensor's status changed). */
  onChange: () => void;
  log: (line: string) => void;
}

/**
 * What feedback needs of one over-threshold window: its log-mel window. The method's patch embeddings are
 * computed again from it when the alert is taught (`Detector.embedWindows`, the same rows bit for bit), so
 * they are neither held while the alert is open nor written when it closes: with the default model they were
 * 97 kB a window (16 x 16 patches of 97 values), 3.1 times the window's 32 kB.
 */
type KeptWindow = Float32Array;

interface PendingClip {
  alertId: number;
  from: number;
  to: number;
}

/** Over-threshold windows of one alert kept for feedback (32 kB each with the default model). */
const MAX_FEEDBACK_WINDOWS = 40;
/** Longest alert clip kept (s), pre- and post-roll included. */
const MAX_CLIP_SECONDS = 60;

export class SensorAlerts {
  readonly tracker: AlertTracker;
  readonly silence = new SilenceTracker();
  anomalyAlertId: number | null = null;
  silenceAlertId: number | null = null;
  /** The over-threshold windows of the active anomaly alert (for feedback). */
  #alertWindows: KeptWindow[] = [];
  /** Over-threshold windows just before an alert opens (they belong to it once it does). */
  #recentOver: KeptWindow[] = [];
  #pendingClips: PendingClip[] = [];
  /**
   * Per kind: the peak the current occurrence must reach to hold its alert's peak (0 for a new alert; the
   * earlier occurrences' peak for a repeat folded into one). Only the strongest occurrence keeps the clip,
   * picture and feedback windows, so they match the alert's peak and boxes.
   */
  #toBeat = { anomaly: 0, silence: 0 };
  /** While true, a closing alert's signal was lost (disconnect), not seen to clear: no auto-resolve. */
  #signalLost = false;
  /** Whether the tracker's anomaly alert is open (as of the events handed on so far). */
  #anomalyOpen = false;
  /**
   * The alert events handed to the service, one after another: an event's writes start once the one before
   * it has ended (an update needs the id its opening got).
   */
  #chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: SensorAlertsOptions) {
    this.tracker = new AlertTracker({
      mel: o.stream.mel,
      openWindows: o.openWindows,
      closeWindows: o.closeWindows,
    });
  }

  /** Whether the alert rule waits for the sensor's next window to decide (`AlertTracker.confirming`). */
  get confirming(): boolean {
    return this.tracker.confirming;
  }

  /** Whether a window of this score would begin a run over the threshold (`AlertTracker.wouldBegin`). */
  wouldBegin(score: number): boolean {
    this.tracker.suppressed = this.o.snoozed();
    return this.tracker.wouldBegin(score);
  }

  /** The sensor's active alert (anomaly first), or null. */
  get activeAlertId(): number | null {
    const id = this.anomalyAlertId ?? this.silenceAlertId;
    return id === null ? null : this.o.alerts.storedId(id);
  }

  /** Stream ms when the condition alerting now began (the earliest active alert's start), or null. */
  get activeSince(): number | null {
    const starts: number[] = [];
    if (this.anomalyAlertId !== null && this.tracker.open) starts.push(this.tracker.open.start);
    if (this.silenceAlertId !== null && this.silence.open) starts.push(this.silence.open.start);
    return starts.length ? Math.min(...starts) : null;
  }

  /** The stream's analysis parameters changed (a new model). */
  reconfigure(mel: MelParams): void {
    this.tracker.reconfigure(mel);
  }

  scored(w: ReadyWindow, r: WindowResult): void {
    this.tracker.suppressed = this.o.snoozed();
    const { normalised: score, map, localMap, tone } = r;
    const events = this.tracker.observe({ t0: w.t0, t1: w.t1, score, map, localMap, tone });
    if (r.normalised >= 1) {
      const kept = w.data.slice();
      if (this.#anomalyOpen && this.#alertWindows.length < MAX_FEEDBACK_WINDOWS)
        this.#alertWindows.push(kept);
      else if (!this.#anomalyOpen) this.#recentOver = [...this.#recentOver, kept].slice(-this.o.openWindows);
    } else if (!this.#anomalyOpen) this.#recentOver = [];
    this.#handle(events);
    // The clips wait for nothing on the chain but the events before them (their ids).
    void this.#after(async () => void this.flushClips(false));
  }

  /** Resolves once the alert events handed on so far are written (or their failure logged). */
  settled(): Promise<void> {
    return this.#chain;
  }

  #after(step: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(step).catch((err: unknown) => {
      this.o.log(`sensor ${this.o.sensorId}: alert bookkeeping failed: ${(err as Error).message}`);
    });
    return this.#chain;
  }

  /** A window dropped under overload: the tracker counts it as neither over nor under. */
  dropped(): void {
    this.#handle(this.tracker.dropped());
  }

  /** A level meter reading at stream time `t` (silence alerts). */
  level(reading: MeterReading, t: number): void {
    this.#handle(this.silence.observe(reading, t));
  }

  /** The sensor disconnected: what is open closes at the last audio, and pending clips are written. */
  disconnected(): void {
    const t = this.o.stream.streamTime;
    this.#signalLost = true;
    try {
      this.#handle(this.tracker.close());
      if (t !== null) this.#handle(this.silence.close(t));
    } finally {
      this.#signalLost = false;
    }
    void this.#after(async () => void this.flushClips(true));
  }

  /** Writes the clips whose post-roll has arrived (or all of them, with what there is, when `force`). */
  flushClips(force: boolean): Promise<void> {
    if (this.#pendingClips.length === 0) return Promise.resolve();
    return this.#flushClips(force);
  }

  /**
   * Hands the tracker's events on: what the kept windows need is decided now, in the order of the windows;
   * the writes follow on the chain.
   */
  #handle(events: AlertTrackerEvent[]): void {
    for (const e of events) {
      const signalLost = this.#signalLost;
      let windows: KeptWindow[] = [];
      if (e.alert.kind === 'anomaly' && e.type === 'opened') {
        this.#anomalyOpen = true;
        this.#alertWindows = this.#recentOver;
        this.#recentOver = [];
      } else if (e.alert.kind === 'anomaly' && e.type === 'closed') {
        this.#anomalyOpen = false;
        windows = this.#alertWindows;
        this.#alertWindows = [];
      }
      void this.#after(() => this.#handleOne(e, windows, signalLost));
    }
  }

  async #handleOne(e: AlertTrackerEvent, windows: KeptWindow[], signalLost: boolean): Promise<void> {
    const { alert: a } = e;
    const key = a.kind === 'silence' ? 'silenceAlertId' : 'anomalyAlertId';
    if (e.type === 'opened') {
      if (a.kind === 'silence' && this.o.snoozed()) return;
      const stored = await this.o.alerts.opened({
        sensorId: this.o.sensorId,
        kind: a.kind,
        start: a.start,
        peakScore: a.peakScore,
        peakAt: a.peakAt,
        threshold: 1,
        boxes: a.boxes,
      });
      this[key] = stored.id;
      // A repeat: the earlier occurrences' peak (stored.peakScore may already be this one's, if higher).
      this.#toBeat[a.kind] = stored.count > 1 ? stored.peakScore : 0;
      this.o.onChange();
      return;
    }
    const id = this[key];
    if (id === null) return;
    const severity = (end: number | null) =>
      this.o.alerts.severity(this.o.sensorId, a.peakScore, (end ?? a.start) - a.start);
    if (e.type === 'updated') {
      await this.o.alerts.changed(id, {
        peakScore: a.peakScore,
        peakAt: a.peakAt,
        boxes: a.boxes,
        end: a.end,
        severity: severity(a.end),
      });
      return;
    }
    // closed
    const end = a.end ?? this.o.stream.streamTime ?? a.start;
    const now = Date.now();
    await this.o.alerts.changed(id, {
      active: false,
      end,
      peakScore: a.peakScore,
      peakAt: a.peakAt,
      boxes: a.boxes,
      severity: severity(end),
      closedAt: now,
      clearedAt: signalLost ? null : now,
    });
    this[key] = null;
    const strongest = a.peakScore >= this.#toBeat[a.kind];
    this.#toBeat[a.kind] = 0;
    if (!strongest) {
      this.o.onChange();
      return;
    }
    const { clipPreSeconds, clipPostSeconds } = this.o;
    const from = Math.max(
      a.start - clipPreSeconds * 1000,
      end + clipPostSeconds * 1000 - MAX_CLIP_SECONDS * 1000,
    );
    this.#pendingClips.push({ alertId: id, from, to: end + clipPostSeconds * 1000 });
    if (a.kind === 'anomaly' && windows.length > 0) {
      this.o.alerts.keepFeedback(id, concatSamples(windows));
    }
    this.o.onChange();
  }

  async #flushClips(force: boolean): Promise<void> {
    // A clip is written once its post-roll has arrived and been scored (its anomaly map is complete).
    const stream = this.o.stream;
    const now = Math.min(stream.streamTime ?? -Infinity, this.o.processedUpTo());
    const ready = this.#pendingClips.filter((c) => force || now >= c.to);
    if (ready.length === 0) return;
    this.#pendingClips = this.#pendingClips.filter((c) => !ready.includes(c));
    for (const c of ready) {
      try {
        const audio = stream.readAudio(c.from, c.to);
        if (audio.samples.length === 0) continue;
        const to = audio.start + (audio.samples.length / audio.sampleRate) * 1000;
        await this.o.alerts.keepClip(c.alertId, audio, alertPicture(stream, audio.start, to));
      } catch (err) {
        this.o.log(`alert ${c.alertId}: clip not kept: ${(err as Error).message}`);
      }
    }
  }
}
