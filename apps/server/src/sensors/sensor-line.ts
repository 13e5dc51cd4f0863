/**
 * One sensor's data path, wired once and kept across reconnects: ingest (its stream) hands windows to
 * scoring, scoring hands each outcome to the dashboards (columns, score), the score history and the alerts.
 * Each step's per-sensor state lives in that step's own class; this one only connects them.
 */
import { rethreshold, type Detector } from '@hark/detection';
import type { ColumnsEvent } from '@hark/protocol';
import type { MelParams } from '@hark/dsp';
import type { AlertService } from '../alerts/alert.service.js';
import { SensorAlerts } from '../alerts/sensor-alerts.js';
import type { ServerConfig } from '../config.js';
import type { MeterReading } from '../ingest/meter.js';
import { SensorIngest, type IngestSink } from '../ingest/sensor-ingest.js';
import { SensorStream, type ReadyWindow } from '../ingest/sensor-stream.js';
import type { LiveHub } from '../live/live-hub.js';
import { SensorLive } from '../live/sensor-live.js';
import type { HarkMetrics } from '../metrics/hark.metrics.js';
import type { BurnInService } from '../models/burn-in.service.js';
import type { ShadowScorer } from '../scoring/shadow-scorer.js';
import type { DropCause, ScoreSink, WindowResult, WindowScorer } from '../scoring/window-scorer.js';
import type { HarkStore } from '../store/store.js';
import type { DspWorker } from '../ingest/dsp-worker.js';

export interface SensorLineDeps {
  config: ServerConfig;
  store: HarkStore;
  /** The streams' resampling and log-mel in this worker thread (absent: on the event loop). */
  dsp?: DspWorker;
  scorer: WindowScorer;
  /** Scores the same windows with the sensor's shadow model, if it has one. */
  shadow?: ShadowScorer;
  alerts: AlertService;
  hub: LiveHub;
  metrics: HarkMetrics;
  /** Records the columns sent to dashboards (the spectrogram history), if given. */
  history?: { columns(ev: ColumnsEvent): void };
  /** Live burn-ins: collects the first windows of a new version and gives the threshold factor (absent: none). */
  burnIn?: BurnInService;
  /** Something an operator sees changed (`now`: publish at once). */
  onChange: (line: SensorLine, now: boolean) => void;
  log: (line: string) => void;
}

/** Seconds of log-mel columns (backfill, alert pictures) and of audio (clips, enrolment) kept per sensor. */
const COLUMN_RING_SECONDS = 120;
const AUDIO_RING_SECONDS = 90;

export class SensorLine implements IngestSink, ScoreSink {
  readonly stream: SensorStream;
  readonly ingest: SensorIngest;
  readonly live: SensorLive;
  readonly alerts: SensorAlerts;
  lastScore: number | null = null;
  /** Stops following the sensor's model. */
  unsubscribeModel: () => void = () => {};

  constructor(
    readonly id: string,
    private readonly d: SensorLineDeps,
  ) {
    const { config } = d;
    this.stream = new SensorStream({
      sensorId: id,
      hopSeconds: config.hopSeconds,
      maxChunkBytes: config.maxChunkBytes,
      silenceDbfs: config.silenceDbfs,
      silenceSeconds: config.silenceSeconds,
      columnRingSeconds: COLUMN_RING_SECONDS,
      audioRingSeconds: AUDIO_RING_SECONDS,
      maxClockSkewMs: config.maxClockSkewSeconds * 1000,
      dsp: d.dsp,
    });
    this.ingest = new SensorIngest(this.stream, this, d.metrics);
    this.live = new SensorLive(id, this.stream, d.hub, d.history ? (ev) => d.history!.columns(ev) : null);
    this.alerts = new SensorAlerts({
      sensorId: id,
      stream: this.stream,
      alerts: d.alerts,
      openWindows: config.alertOpenWindows,
      closeWindows: config.alertCloseWindows,
      clipPreSeconds: config.clipPreSeconds,
      clipPostSeconds: config.clipPostSeconds,
      snoozed: () => this.snoozed(),
      processedUpTo: () => this.live.processedUpTo,
      onChange: () => d.onChange(this, true),
      log: d.log,
    });
  }

  // ---- ingest hands on ----

  window(w: ReadyWindow): void {
    this.d.scorer.submit(this.id, w, this);
  }

  level(reading: MeterReading, t: number): void {
    this.alerts.level(reading, t);
  }

  audio(): void {
    void this.alerts.flushClips(false);
  }

  // ---- scoring hands on ----

  scored(w: ReadyWindow, result: WindowResult): void {
    const r = this.#burnIn(w, result);
    this.live.scored(w, r);
    this.lastScore = r.normalised;
    void this.d.store.health.attempt('scores', () => this.d.store.scores.append(this.id, w.t1, r.normalised));
    this.alerts.scored(w, r);
    this.d.shadow?.offer(this.id, w, r);
  }

  dropped(w: ReadyWindow, cause: DropCause): void {
    if (cause === 'overload') this.alerts.dropped();
    this.live.dropped(w);
  }

  confirming(): boolean {
    return this.alerts.confirming;
  }

  /** On the refined threshold when a burn-in has moved it, as `scored` will see the window. */
  beginsRun(r: WindowResult): boolean {
    return this.alerts.wouldBegin(r.normalised / (this.d.burnIn?.factor(this.id) ?? 1));
  }

  /**
   * The burn-in sees the window's score in units of the fitted threshold; then, with a burn-in applied, the
   * score and both maps are divided by its factor (in place: the result is this window's own), so everything
   * after this point is on the refined threshold's scale (1 = threshold). Maps the model gated at its own
   * threshold (`mapGate`) are gated again at the refined one, as the model would have gated them there.
   */
  #burnIn(w: ReadyWindow, r: WindowResult): WindowResult {
    const b = this.d.burnIn;
    if (!b) return r;
    b.scored(this.id, w, r.normalised);
    const f = b.factor(this.id);
    if (f === 1) return r;
    return { ...r, ...rethreshold(r, f) };
  }

  // ---- the sensor's model ----

  /** A model was loaded or swapped: the stream follows its dsp parameters and window length. */
  modelChanged(det: Detector | null): void {
    if (det) {
      const cur = this.stream.mel;
      const want = det.config.mel;
      const same =
        (Object.keys(want) as (keyof MelParams)[]).every((k) => want[k] === cur[k]) &&
        det.config.windowSeconds === this.stream.windowSeconds;
      if (!same) {
        this.stream.reconfigure(want, det.config.windowSeconds, this.d.config.hopSeconds);
        this.alerts.reconfigure(this.stream.mel);
      }
    }
    this.d.onChange(this, true);
  }

  snoozed(): boolean {
    const until = this.d.store.sensors.cached(this.id)?.snoozedUntil;
    return until !== null && until !== undefined && until > Date.now();
  }
}
