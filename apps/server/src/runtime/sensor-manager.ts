/**
 * The live side of every sensor: its stream (PCM -> resample -> log-mel -> windows), scoring through its model
 * off the event loop with bounded queues, the alert trackers, alert clips, and what dashboards see (columns,
 * scores, status). One `SensorRt` per sensor id, kept across reconnects for the server's lifetime.
 */
import type { Detector } from '@hark/detection';
import type { MelParams } from '@hark/dsp';
import {
  isSensorId,
  labelsProblem,
  MAX_NAME_LENGTH,
  type Alert,
  type ColumnsEvent,
  type HelloAck,
  type ScoreEvent,
  type SensorAck,
  type SensorState,
  type SensorStatus,
} from '@hark/protocol';
import type { ServerConfig } from '../config.js';
import type { HarkEvents } from '../events.js';
import type { LiveHub } from '../live/live-hub.js';
import type { AlertMediaStore } from '../media/alert-media.js';
import type { HarkMetrics } from '../metrics/hark.metrics.js';
import type { HarkStore } from '../store/store.js';
import {
  AlertTracker,
  ColumnEmitter,
  DEFAULT_ANOMALY_SCALE,
  DEFAULT_DB_RANGE,
  melHz,
  quantiseAnomaly,
  quantiseDb,
  ScoringScheduler,
  SensorStream,
  SilenceTracker,
  type AlertTrackerEvent,
  type ReadyWindow,
} from '../stream/index.js';
import { ModelError, type ModelService } from './models.js';
import { SensorRuntime } from './ports.js';

export interface SensorManagerDeps {
  config: ServerConfig;
  store: HarkStore;
  models: ModelService;
  events: HarkEvents;
  hub: LiveHub;
  metrics: HarkMetrics;
  media: AlertMediaStore;
  log: (line: string) => void;
}

interface ScoredResult {
  normalised: number;
  raw: number;
  map: Float32Array;
  embeddings: Float32Array;
  mel: MelParams;
}

/** What feedback needs of one over-threshold window: the method's patch embeddings and the log-mel window. */
interface KeptWindow {
  patches: Float32Array;
  window: Float32Array;
}

interface PendingClip {
  alertId: number;
  from: number;
  to: number;
}

interface SensorRt {
  id: string;
  stream: SensorStream;
  emitter: ColumnEmitter;
  tracker: AlertTracker;
  silence: SilenceTracker;
  socketId: string | null;
  kick: ((reason: string) => void) | null;
  lastSeen: number | null;
  anomalyAlertId: number | null;
  silenceAlertId: number | null;
  /** The over-threshold windows of the active anomaly alert (for feedback). */
  alertPatches: KeptWindow[];
  /** Over-threshold windows just before an alert opens (they belong to it once it does). */
  recentOver: KeptWindow[];
  pendingClips: PendingClip[];
  lastScore: number | null;
  /** End (stream ms) of the latest window scored or dropped: columns before it have their anomaly map. */
  processedUpTo: number;
  lastMeterAt: number;
  statusKey: string;
  statusAt: number;
  unsubscribeModel: () => void;
}

/** Drop rate over the last minute above which a sensor counts as overloaded. */
const OVERLOADED_DROP_RATE = 0.02;
const STATUS_MIN_INTERVAL_MS = 1000;
/** Over-threshold windows of one alert kept for feedback (each ~200 kB with the default model). */
const MAX_FEEDBACK_WINDOWS = 40;
/** Longest alert clip kept (s), pre- and post-roll included. */
const MAX_CLIP_SECONDS = 60;

export class SensorManager extends SensorRuntime {
  readonly scheduler: ScoringScheduler;
  readonly #rt = new Map<string, SensorRt>();
  #timer: NodeJS.Timeout | null = null;
  #closing = false;

  constructor(readonly d: SensorManagerDeps) {
    super();
    this.scheduler = new ScoringScheduler({
      concurrency: d.config.scoringConcurrency,
      queuePerSensor: d.config.queuePerSensor,
    });
  }

  /** Closes alerts a crash left active, knows every stored sensor, starts the housekeeping tick. */
  start(): void {
    const now = Date.now();
    for (const a of this.d.store.alerts.deactivateAll(now)) this.d.events.emit('alert:update', a);
    for (const s of this.d.store.sensors.list()) this.#get(s.id);
    this.#timer = setInterval(() => this.#tick(), 1000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#closing = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const rt of this.#rt.values()) {
      rt.unsubscribeModel();
      this.scheduler.removeSensor(rt.id);
    }
    await this.scheduler.idle();
    for (const rt of this.#rt.values()) await this.#flushClips(rt, true);
    this.d.store.scores.flush();
  }

  // ---------------------------------------------------------------------------------------------------
  // /sensor protocol
  // ---------------------------------------------------------------------------------------------------

  /** A sensor connected; an older connection of the same sensor is closed. */
  connect(sensorId: string, socketId: string, kick: (reason: string) => void): void {
    const rt = this.#get(sensorId);
    if (rt.socketId && rt.socketId !== socketId) {
      const old = rt.kick;
      rt.socketId = null;
      old?.('replaced by a new connection of the same sensor');
    }
    rt.socketId = socketId;
    rt.kick = kick;
    rt.lastSeen = Date.now();
    this.d.store.sensors.upsert(sensorId, rt.lastSeen);
    this.d.metrics.sensorsConnected.set(this.#connectedCount());
    this.#status(rt, true);
  }

  disconnect(sensorId: string, socketId: string): void {
    const rt = this.#rt.get(sensorId);
    if (!rt || rt.socketId !== socketId) return;
    rt.socketId = null;
    rt.kick = null;
    rt.stream.disconnect();
    this.d.metrics.sensorsConnected.set(this.#connectedCount());
    // The signal is unknown from here: close what is open at the last audio.
    const t = rt.stream.streamTime;
    this.#handleAlertEvents(rt, rt.tracker.close());
    if (t !== null) this.#handleAlertEvents(rt, rt.silence.close(t));
    void this.#flushClips(rt, true);
    this.#status(rt, true);
  }

  hello(sensorId: string, socketId: string, msg: unknown): HelloAck {
    const rt = this.#get(sensorId);
    if (rt.socketId !== socketId)
      return { ok: false, code: 'BAD_MESSAGE', error: 'this connection was replaced' };
    const ack = rt.stream.hello(msg);
    if (ack.ok) {
      const m = msg as { name?: unknown; labels?: unknown };
      const patch: { name?: string; labels?: Record<string, string> } = {};
      if (typeof m.name === 'string' && m.name.trim()) patch.name = m.name.trim().slice(0, MAX_NAME_LENGTH);
      // Labels beyond the protocol's limits are ignored (the hello is still accepted).
      if (m.labels !== undefined && !labelsProblem(m.labels))
        patch.labels = m.labels as Record<string, string>;
      this.d.store.sensors.upsert(sensorId, Date.now(), patch);
      this.#status(rt, true);
    } else this.d.metrics.ingestRejections.inc({ code: ack.code });
    return ack;
  }

  audio(sensorId: string, socketId: string, msg: unknown): SensorAck {
    const rt = this.#get(sensorId);
    if (rt.socketId !== socketId)
      return { ok: false, code: 'BAD_MESSAGE', error: 'this connection was replaced' };
    const now = Date.now();
    const { ack, windows } = rt.stream.audio(msg, now);
    if (!ack.ok) {
      this.d.metrics.ingestRejections.inc({ code: ack.code });
      return ack;
    }
    rt.lastSeen = now;
    for (const w of windows) this.#submit(rt, w);
    if (now - rt.lastMeterAt >= 500) {
      rt.lastMeterAt = now;
      const t = rt.stream.streamTime;
      if (t !== null) this.#handleAlertEvents(rt, rt.silence.observe(rt.stream.meter(), t));
    }
    if (rt.pendingClips.length) void this.#flushClips(rt, false);
    return ack;
  }

  /** Recent columns for a new subscriber. */
  backfill(sensorId: string, seconds: number): ColumnsEvent[] {
    const rt = this.#rt.get(sensorId);
    if (!rt) return [];
    const hz = melHz(rt.stream.mel);
    return rt.emitter.backfill(seconds).map((ev) => ({ ...ev, melHz: hz }));
  }

  /** Records `seconds` of the sensor's live audio at the analysis rate (enrolment). */
  record(
    sensorId: string,
    seconds: number,
    progress: (done: number, total: number) => void,
  ): Promise<Float32Array> {
    const rt = this.#rt.get(sensorId);
    if (!rt?.socketId)
      throw new ModelError(`sensor ${sensorId} is not connected: enrolment records its live stream`, 409);
    return new Promise((resolve, reject) => {
      const rate = rt.stream.analysisSampleRate;
      const out = new Float32Array(Math.round(seconds * rate));
      let at = 0;
      let lastReport = 0;
      let lastAudio = Date.now();
      const stall = setInterval(() => {
        if (Date.now() - lastAudio > 30_000) {
          finish();
          reject(
            new Error(
              `sensor ${sensorId} stopped streaming during enrolment (${(at / rate).toFixed(1)} s recorded)`,
            ),
          );
        }
      }, 1000);
      const off = rt.stream.onSamples((samples) => {
        lastAudio = Date.now();
        const n = Math.min(samples.length, out.length - at);
        out.set(samples.subarray(0, n), at);
        at += n;
        if (at - lastReport >= rate / 2 || at === out.length) {
          lastReport = at;
          progress(Math.round((at / rate) * 10) / 10, seconds);
        }
        if (at === out.length) {
          finish();
          resolve(out);
        }
      });
      const finish = () => {
        clearInterval(stall);
        off();
      };
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // SensorRuntime (REST)
  // ---------------------------------------------------------------------------------------------------

  list(): SensorStatus[] {
    for (const s of this.d.store.sensors.list()) this.#get(s.id);
    for (const id of this.d.models.sensorIds()) this.#get(id);
    return [...this.#rt.values()].map((rt) => this.#statusOf(rt));
  }

  status(sensorId: string): SensorStatus | null {
    const known = this.d.store.sensors.get(sensorId) || this.d.models.status(sensorId).state !== 'none';
    const rt = this.#rt.get(sensorId) ?? (known ? this.#get(sensorId) : null);
    return rt ? this.#statusOf(rt) : null;
  }

  update(sensorId: string, patch: { name?: string; labels?: Record<string, string> }): SensorStatus {
    this.d.store.sensors.update(sensorId, patch);
    const rt = this.#get(sensorId);
    this.#status(rt, true);
    return this.#statusOf(rt);
  }

  snooze(sensorId: string, until: number | null): SensorStatus {
    this.d.store.sensors.snooze(sensorId, until);
    const rt = this.#get(sensorId);
    this.#status(rt, true);
    return this.#statusOf(rt);
  }

  // ---------------------------------------------------------------------------------------------------
  // Scoring
  // ---------------------------------------------------------------------------------------------------

  #submit(rt: SensorRt, w: ReadyWindow): void {
    if (!this.d.models.detector(rt.id)) {
      this.#sendColumns(rt, rt.emitter.dropped(w));
      return;
    }
    this.scheduler.submit<ScoredResult | null>(
      rt.id,
      async () => {
        const lease = this.d.models.acquire(rt.id);
        if (!lease) return null;
        try {
          const r = await lease.detector.scoreWindow(w.data);
          return {
            normalised: r.normalised,
            raw: r.windowScore,
            map: r.map,
            embeddings: r.embeddings,
            mel: lease.detector.config.mel,
          };
        } finally {
          lease.release();
        }
      },
      {
        onDone: (r, latencyMs) => {
          if (this.#closing) return;
          if (r) this.#scored(rt, w, r, latencyMs);
          else this.#sendColumns(rt, rt.emitter.dropped(w));
        },
        onDrop: () => {
          this.d.metrics.windowsDropped.inc({ sensor: rt.id });
          this.#handleAlertEvents(rt, rt.tracker.dropped());
          this.#sendColumns(rt, rt.emitter.dropped(w));
        },
        onError: (err) => {
          this.d.log(`sensor ${rt.id}: scoring a window failed: ${(err as Error).message}`);
          this.d.metrics.windowsDropped.inc({ sensor: rt.id });
          this.#sendColumns(rt, rt.emitter.dropped(w));
        },
      },
    );
  }

  #scored(rt: SensorRt, w: ReadyWindow, r: ScoredResult, latencyMs: number): void {
    this.d.metrics.windowScored(rt.id, latencyMs / 1000);
    rt.processedUpTo = Math.max(rt.processedUpTo, w.t1);
    this.#sendColumns(rt, rt.emitter.scored(w, r.map));
    rt.lastScore = r.normalised;
    const score: ScoreEvent = {
      sensorId: rt.id,
      t: w.t1,
      score: r.normalised,
      threshold: 1,
      rawScore: r.raw,
      arrivedAt: w.arrivedAt,
    };
    this.d.hub.score(score);
    this.d.events.emit('score', score);
    this.d.store.scores.append(rt.id, w.t1, r.normalised);
    rt.tracker.suppressed = this.#snoozed(rt.id);
    const events = rt.tracker.observe({ t0: w.t0, t1: w.t1, score: r.normalised, map: r.map });
    if (r.normalised >= 1) {
      const kept = { patches: r.embeddings.slice(), window: w.data.slice() };
      if (rt.anomalyAlertId !== null && rt.alertPatches.length < MAX_FEEDBACK_WINDOWS)
        rt.alertPatches.push(kept);
      else if (rt.anomalyAlertId === null)
        rt.recentOver = [...rt.recentOver, kept].slice(-this.d.config.alertOpenWindows);
    } else if (rt.anomalyAlertId === null) rt.recentOver = [];
    this.#handleAlertEvents(rt, events);
    if (rt.pendingClips.length) void this.#flushClips(rt, false);
  }

  #sendColumns(rt: SensorRt, events: ColumnsEvent[]): void {
    for (const ev of events)
      rt.processedUpTo = Math.max(rt.processedUpTo, ev.t0 + ev.nColumns * ev.hopSeconds * 1000);
    if (events.length === 0) return;
    const hz = melHz(rt.stream.mel);
    for (const ev of events) {
      const full = { ...ev, melHz: hz };
      this.d.hub.columns(full);
      this.d.events.emit('columns', full);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Alerts
  // ---------------------------------------------------------------------------------------------------

  #handleAlertEvents(rt: SensorRt, events: AlertTrackerEvent[]): void {
    for (const e of events) {
      try {
        this.#handleAlertEvent(rt, e);
      } catch (err) {
        this.d.log(`sensor ${rt.id}: alert bookkeeping failed: ${(err as Error).message}`);
      }
    }
  }

  #handleAlertEvent(rt: SensorRt, e: AlertTrackerEvent): void {
    const { alert: a } = e;
    const key = a.kind === 'silence' ? 'silenceAlertId' : 'anomalyAlertId';
    if (e.type === 'opened') {
      if (a.kind === 'silence' && this.#snoozed(rt.id)) return;
      const stored = this.d.store.alerts.open({
        sensorId: rt.id,
        kind: a.kind,
        start: a.start,
        peakScore: a.peakScore,
        peakAt: a.peakAt,
        threshold: 1,
        boxes: a.boxes,
      });
      rt[key] = stored.id;
      if (a.kind === 'anomaly') {
        rt.alertPatches = rt.recentOver;
        rt.recentOver = [];
      }
      this.d.metrics.alerts.inc({ sensor: rt.id, kind: a.kind });
      this.#publish(stored, 'alert');
      this.#status(rt, true);
      return;
    }
    const id = rt[key];
    if (id === null) return;
    if (e.type === 'updated') {
      this.#publish(
        this.d.store.alerts.update(id, {
          peakScore: a.peakScore,
          peakAt: a.peakAt,
          boxes: a.boxes,
          end: a.end,
        }),
      );
      return;
    }
    // closed
    const end = a.end ?? rt.stream.streamTime ?? a.start;
    this.#publish(
      this.d.store.alerts.update(id, {
        active: false,
        end,
        peakScore: a.peakScore,
        peakAt: a.peakAt,
        boxes: a.boxes,
      }),
    );
    rt[key] = null;
    const { clipPreSeconds, clipPostSeconds } = this.d.config;
    const from = Math.max(
      a.start - clipPreSeconds * 1000,
      end + clipPostSeconds * 1000 - MAX_CLIP_SECONDS * 1000,
    );
    rt.pendingClips.push({ alertId: id, from, to: end + clipPostSeconds * 1000 });
    if (a.kind === 'anomaly' && rt.alertPatches.length > 0) {
      const patches = concat(rt.alertPatches.map((k) => k.patches));
      const windows = concat(rt.alertPatches.map((k) => k.window));
      // Windows first: an alert is teachable once its patches exist, and then its windows do too.
      void this.d.media
        .writeWindows(id, windows)
        .then(() => this.d.media.writePatches(id, patches))
        .catch((err) => this.d.log(`alert ${id}: feedback windows not kept: ${(err as Error).message}`));
    }
    if (a.kind === 'anomaly') rt.alertPatches = [];
    this.#status(rt, true);
  }

  /** Writes the clips whose post-roll has arrived (or all of them, with what there is, when `force`). */
  async #flushClips(rt: SensorRt, force: boolean): Promise<void> {
    // A clip is written once its post-roll has arrived and been scored (its anomaly map is complete).
    const now = Math.min(rt.stream.streamTime ?? -Infinity, rt.processedUpTo);
    const ready = rt.pendingClips.filter((c) => force || now >= c.to);
    if (ready.length === 0) return;
    rt.pendingClips = rt.pendingClips.filter((c) => !ready.includes(c));
    for (const c of ready) {
      try {
        const audio = rt.stream.readAudio(c.from, c.to);
        if (audio.samples.length === 0) continue;
        await this.d.media.writeClip(c.alertId, audio.samples, audio.sampleRate);
        const cols = this.#columnsBetween(
          rt,
          audio.start,
          audio.start + (audio.samples.length / audio.sampleRate) * 1000,
        );
        if (cols) await this.d.media.writeSpectrogram(c.alertId, cols);
        const updated = this.d.store.alerts.setClip(c.alertId, {
          start: audio.start,
          seconds: audio.samples.length / audio.sampleRate,
        });
        this.#publish(updated);
      } catch (err) {
        this.d.log(`alert ${c.alertId}: clip not kept: ${(err as Error).message}`);
      }
    }
  }

  /** Quantised columns (and anomaly) between two stream times, for an alert's picture. */
  #columnsBetween(rt: SensorRt, from: number, to: number) {
    const [first, end] = rt.stream.frameRange;
    const hopMs = (rt.stream.mel.hopLength / rt.stream.mel.sampleRate) * 1000;
    const span = Math.ceil(((rt.stream.streamTime ?? to) - from) / hopMs) + 4;
    const read = rt.stream.columns(Math.max(first, end - span), end);
    const keep: number[] = [];
    for (let i = 0; i < read.times.length; i++) if (read.times[i] >= from && read.times[i] < to) keep.push(i);
    if (keep.length === 0) return null;
    const nMels = read.nMels;
    // The kept columns, frame-major, with unscored columns at zero anomaly; quantised like `columns`.
    const db = new Float32Array(keep.length * nMels);
    const anomalyValues = new Float32Array(keep.length * nMels);
    keep.forEach((src, j) => {
      db.set(read.db.subarray(src * nMels, (src + 1) * nMels), j * nMels);
      if (read.scored[src])
        anomalyValues.set(read.anomaly.subarray(src * nMels, (src + 1) * nMels), j * nMels);
    });
    const spectrogram = quantiseDb(db, DEFAULT_DB_RANGE);
    const anomaly = quantiseAnomaly(anomalyValues, DEFAULT_ANOMALY_SCALE);
    return {
      t0: read.times[keep[0]],
      hopSeconds: read.hopSeconds,
      nMels,
      nFrames: keep.length,
      melHz: melHz(rt.stream.mel),
      dbRange: [DEFAULT_DB_RANGE[0], DEFAULT_DB_RANGE[1]] as [number, number],
      anomalyScale: DEFAULT_ANOMALY_SCALE,
      spectrogram,
      anomaly,
    };
  }

  #publish(alert: Alert, event: 'alert' | 'alert:update' = 'alert:update'): void {
    this.d.events.emit(event, alert);
  }

  // ---------------------------------------------------------------------------------------------------
  // Status
  // ---------------------------------------------------------------------------------------------------

  #statusOf(rt: SensorRt): SensorStatus {
    const rec = this.d.store.sensors.get(rt.id);
    const model = this.d.models.status(rt.id);
    const stats = this.scheduler.stats(rt.id);
    const meter = rt.stream.meter();
    const connected = rt.socketId !== null;
    let state: SensorState;
    if (!connected) state = 'disconnected';
    else if (model.state === 'recording' || model.state === 'fitting') state = 'enrolling';
    else if (!this.d.models.detector(rt.id)) state = 'no-model';
    else if (stats.dropRate > OVERLOADED_DROP_RATE) state = 'overloaded';
    else if (stats.scored > 0) state = 'scoring';
    else state = 'connected';
    const snoozedUntil = rec?.snoozedUntil && rec.snoozedUntil > Date.now() ? rec.snoozedUntil : null;
    return {
      id: rt.id,
      name: rec?.name ?? rt.id,
      labels: rec?.labels ?? {},
      state,
      connected,
      lastSeen: rt.lastSeen ?? rec?.lastSeen ?? null,
      levelDbfs: round1(meter.levelDbfs),
      peakDbfs: round1(meter.peakDbfs),
      clipping: meter.clipping,
      clipped: meter.clipped,
      silent: meter.silent,
      sampleRate: rt.stream.format?.sampleRate ?? null,
      streamStartedAt: rt.stream.streamStartedAt ?? null,
      windowsScored: stats.scored,
      windowsDropped: stats.dropped,
      dropRate: stats.dropRate,
      queueDepth: stats.queueDepth,
      lastScore: rt.lastScore,
      threshold: 1,
      openAlerts: this.d.store.alerts.unresolvedCounts().get(rt.id) ?? 0,
      activeAlertId: rt.anomalyAlertId ?? rt.silenceAlertId,
      snoozedUntil,
      model,
    };
  }

  /** Emits `sensor:status` when something an operator sees changed (at most once a second unless `now`). */
  #status(rt: SensorRt, now: boolean): void {
    const s = this.#statusOf(rt);
    const key = JSON.stringify([
      s.state,
      s.connected,
      s.levelDbfs === null ? null : Math.round(s.levelDbfs),
      s.clipped,
      s.silent,
      s.windowsDropped,
      s.openAlerts,
      s.activeAlertId,
      s.snoozedUntil,
      s.model.state,
      s.model.fittedAt,
      s.model.feedbackWindows,
      s.name,
      s.labels,
    ]);
    const t = Date.now();
    if (key === rt.statusKey && !now) return;
    if (!now && t - rt.statusAt < STATUS_MIN_INTERVAL_MS) return;
    rt.statusKey = key;
    rt.statusAt = t;
    this.d.events.emit('sensor:status', s);
  }

  #tick(): void {
    try {
      this.d.store.scores.flush();
    } catch (err) {
      this.d.log(`scores not saved: ${(err as Error).message}`);
    }
    for (const rt of this.#rt.values()) {
      if (rt.socketId) this.#status(rt, false);
    }
  }

  #snoozed(id: string): boolean {
    const until = this.d.store.sensors.get(id)?.snoozedUntil;
    return until !== null && until !== undefined && until > Date.now();
  }

  #connectedCount(): number {
    let n = 0;
    for (const rt of this.#rt.values()) if (rt.socketId) n++;
    return n;
  }

  #get(id: string): SensorRt {
    let rt = this.#rt.get(id);
    if (rt) return rt;
    if (!isSensorId(id)) throw new ModelError(`sensor id ${JSON.stringify(id)} is not valid`);
    const { config } = this.d;
    const stream = new SensorStream({
      sensorId: id,
      hopSeconds: config.hopSeconds,
      maxChunkBytes: config.maxChunkBytes,
      silenceDbfs: config.silenceDbfs,
      silenceSeconds: config.silenceSeconds,
      columnRingSeconds: 120,
      audioRingSeconds: 90,
    });
    const created: SensorRt = {
      id,
      stream,
      emitter: new ColumnEmitter({ sensorId: id, source: stream }),
      tracker: new AlertTracker({
        mel: stream.mel,
        openWindows: config.alertOpenWindows,
        closeWindows: config.alertCloseWindows,
      }),
      silence: new SilenceTracker(),
      socketId: null,
      kick: null,
      lastSeen: null,
      anomalyAlertId: null,
      silenceAlertId: null,
      alertPatches: [],
      recentOver: [],
      pendingClips: [],
      lastScore: null,
      processedUpTo: -Infinity,
      lastMeterAt: 0,
      statusKey: '',
      statusAt: 0,
      unsubscribeModel: () => {},
    };
    rt = created;
    this.#rt.set(id, rt);
    const apply = (det: Detector | null) => this.#modelChanged(created, det);
    created.unsubscribeModel = this.d.models.onChange(id, apply);
    apply(this.d.models.detector(id));
    return rt;
  }

  /** A model was loaded or swapped: the stream follows its dsp parameters and window length. */
  #modelChanged(rt: SensorRt, det: Detector | null): void {
    if (det) {
      const cur = rt.stream.mel;
      const want = det.config.mel;
      const same =
        (Object.keys(want) as (keyof MelParams)[]).every((k) => want[k] === cur[k]) &&
        det.config.windowSeconds === rt.stream.windowSeconds;
      if (!same) {
        rt.stream.reconfigure(want, det.config.windowSeconds, this.d.config.hopSeconds);
        rt.tracker.reconfigure(rt.stream.mel);
      }
    }
    this.#status(rt, true);
  }
}

const round1 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 10) / 10);

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
