/**
 * Scoring: every window a sensor's stream cuts is scored by the sensor's model off the event loop, under the
 * scheduler's bounds, holding a lease on the model so that a swap never frees it mid-score. Each outcome goes on
 * to one place, the sensor's {@link ScoreSink}: scored, or dropped (no model, overload, failure), or skipped
 * (past capacity the {@link HopGovernor} scores every sensor at a wider hop).
 */
import type { Detector, ToneEvidence } from '@hark/detection';
import type { ReadyWindow } from '../ingest/sensor-stream.js';
import type { HarkMetrics } from '../metrics/hark.metrics.js';
import type { DetectorLease } from './leases.js';
import { COLD_WINDOWS, HopGovernor, type HopGovernorOptions } from './hop-governor.js';
import { ScoringScheduler, type SensorSchedulerStats } from './scheduler.js';

/** Where the scorer takes each sensor's current model from (the model registry). */
export interface DetectorSource {
  detector(sensorId: string): Detector | null;
  /** The current detector, held until `release()`; null when the sensor has no model (any more). */
  acquire(sensorId: string): DetectorLease | null;
}

/** One scored window: the normalised score (1 = threshold), the raw score, the anomaly map and patches. */
export interface WindowResult {
  normalised: number;
  raw: number;
  /** `[nMels, windowFrames]` anomaly map. */
  map: Float32Array;
  /** The map before time-share mixing (detection's `WindowResult.localMap`): a box's frequency extent. */
  localMap: Float32Array;
  /** What both maps were multiplied by (detection's `WindowResult.mapGate`); absent for a model without it. */
  mapGate?: number;
  /** What the tonal envelope says of the window (detection's `WindowResult.tone`): a tone's box extent. */
  tone: ToneEvidence | null;
  /** The method's patch embeddings (what feedback teaches). */
  embeddings: Float32Array;
}

/**
 * Why a window was not scored: no model, the sensor's queue overflowed (or was removed), scoring failed, or the
 * hop was widened past capacity ('skipped': its columns go out unscored, in order after the windows before it).
 */
export type DropCause = 'no-model' | 'overload' | 'failed' | 'skipped';

/** A sensor's scoring counters: the scheduler's, and the hop it is scored at. */
export interface SensorScoringStats extends SensorSchedulerStats {
  /** Windows not scored because the hop was widened past capacity (not counted in `dropped`). */
  skipped: number;
  /** Seconds between the starts of the windows scored: the streams' hop, widened past capacity. */
  scoringHopSeconds: number;
}

/** The next step after scoring, one per sensor. */
export interface ScoreSink {
  scored(w: ReadyWindow, r: WindowResult, latencyMs: number): void;
  dropped(w: ReadyWindow, cause: DropCause): void;
  /**
   * Whether the sensor's alert rule waits for its next window to decide (`AlertTracker.confirming`): that window
   * is then scored whatever the governor's stride (hop-governor.ts).
   */
  confirming?(): boolean;
  /**
   * Whether a window scored `r` would begin a run over the threshold (`AlertTracker.wouldBegin`): the window
   * before it, if it was skipped, is then scored too and handed on first (hop-governor.ts).
   */
  beginsRun?(r: WindowResult): boolean;
}

export interface WindowScorerOptions {
  concurrency: number;
  queuePerSensor: number;
  models: DetectorSource;
  metrics: HarkMetrics;
  log: (line: string) => void;
  /** The streams' hop between windows, seconds (default 0.5, the server's default). */
  hopSeconds?: number;
  /** The governor's period, ms (default 5000; tests shorten it). */
  governorPeriodMs?: number;
  /** Clock (ms) of the governor and the wait and service times. Default `Date.now`. */
  now?: () => number;
  /** The CPU the governor's narrowing checks (`HopGovernorOptions.cpu`); the server passes this machine's. */
  cpu?: HopGovernorOptions['cpu'];
}

/**
 * A sensor's windows in the scorer: admitted and not yet settled, the last admitted one, the last skipped one
 * not yet handed on, and the window after the one in flight while its fate waits for that one's score.
 */
interface SensorWindows {
  pending: number;
  skipped: number;
  last: Pick<ReadyWindow, 'index' | 'startFrame'> | null;
  held: { w: ReadyWindow; sink: ScoreSink } | null;
  /**
   * The window right after the last admitted one, off the sensor's turn, cut while that one was still being
   * scored: scored if that score leaves the alert rule waiting (`ScoreSink.confirming`), else skipped. Under load
   * a score can come back after the next window is cut (latency over the hop).
   */
  undecided: { w: ReadyWindow; sink: ScoreSink } | null;
  /** The last window skipped, whole: scored after all when the window after it begins a run over the threshold. */
  lastSkipped: ReadyWindow | null;
  /** Windows scored that way, in the job of the window after them (the scheduler counts jobs). */
  scoredBefore: number;
}

/** What a job scored: its window, and the skipped window before it when that was scored too. */
interface Scored {
  r: WindowResult;
  before: { w: ReadyWindow; r: WindowResult } | null;
}

export class WindowScorer {
  readonly scheduler: ScoringScheduler;
  readonly governor: HopGovernor;
  readonly #sensors = new Map<string, SensorWindows>();
  readonly #now: () => number;
  /** Windows each detector has scored, up to COLD_WINDOWS: the governor leaves its first ones out. */
  readonly #scoredBy = new WeakMap<Detector, number>();
  #closing = false;

  constructor(private readonly o: WindowScorerOptions) {
    this.scheduler = new ScoringScheduler({ concurrency: o.concurrency, queuePerSensor: o.queuePerSensor });
    this.#now = o.now ?? Date.now;
    this.governor = new HopGovernor({
      concurrency: o.concurrency,
      hopMs: (o.hopSeconds ?? 0.5) * 1000,
      queuePerSensor: o.queuePerSensor,
      periodMs: o.governorPeriodMs,
      now: this.#now,
      cpu: o.cpu,
    });
  }

  /** Queues `w` for scoring; its outcome goes to `sink` (never after `close`). */
  submit(sensorId: string, w: ReadyWindow, sink: ScoreSink): void {
    if (!this.o.models.detector(sensorId)) {
      sink.dropped(w, 'no-model');
      return;
    }
    const s = this.#windows(sensorId);
    // A newer window: one still waiting for the score before it is skipped (scored now, it would come after it).
    this.#decide(sensorId, s, false);
    const admitted = this.governor.admit(sensorId, w.index, sink.confirming?.() ?? false);
    const { demand, capacity } = this.governor.reading;
    this.o.metrics.scoringDemand.set(demand);
    if (capacity !== null) this.o.metrics.scoringCapacity.set(capacity);
    if (admitted === 'confirming') this.o.metrics.windowsConfirming.inc({ sensor: sensorId });
    if (admitted) this.#queue(sensorId, s, w, sink);
    else if (s.pending > 0 && s.last && w.index === s.last.index + 1) s.undecided = { w, sink };
    else this.#skip(sensorId, s, w, sink);
  }

  /** The undecided window (if any) is scored when `confirm`, else skipped. */
  #decide(sensorId: string, s: SensorWindows, confirm: boolean): void {
    const u = s.undecided;
    if (!u) return;
    s.undecided = null;
    if (this.#closing) return;
    if (!confirm) return this.#skip(sensorId, s, u.w, u.sink);
    this.o.metrics.windowsConfirming.inc({ sensor: sensorId });
    this.#queue(sensorId, s, u.w, u.sink);
  }

  #skip(sensorId: string, s: SensorWindows, w: ReadyWindow, sink: ScoreSink): void {
    s.skipped++;
    s.lastSkipped = w;
    this.o.metrics.windowsSkipped.inc({ sensor: sensorId });
    // Handed on at once when nothing of the sensor is in flight; else after it, so that the columns of a window
    // scored before it are not sent unscored ahead of their map (the live emitter ignores late results).
    const frames = this.#skippedFrames(s, w, this.governor.nextAdmitted(sensorId, w.index));
    if (s.pending === 0) sink.dropped(frames, 'skipped');
    else s.held = { w: frames, sink };
  }

  #queue(sensorId: string, s: SensorWindows, w: ReadyWindow, sink: ScoreSink): void {
    s.last = { index: w.index, startFrame: w.startFrame };
    this.o.metrics.scoringHop.set({ sensor: sensorId }, this.governor.scoringHopMs / 1000);
    s.pending++;
    const submittedAt = this.#now();
    const settled = (scored: boolean) => {
      // The window after this one waited for its score (only a scored window can leave the rule waiting).
      this.#decide(sensorId, s, scored && (sink.confirming?.() ?? false));
      s.pending--;
      if (s.pending > 0 || !s.held) return;
      const { w: held, sink: to } = s.held;
      s.held = null;
      if (!this.#closing) to.dropped(held, 'skipped');
    };
    this.scheduler.submit<Scored | null>(sensorId, () => this.#score(sensorId, s, w, sink, submittedAt), {
      onDone: (done, latencyMs) => {
        if (!this.#closing) {
          if (!done) sink.dropped(w, 'no-model');
          else {
            if (done.before) {
              // Skipped, then scored after all: counted as scored, not skipped (the status's accounting).
              s.skipped--;
              s.scoredBefore++;
              this.o.metrics.windowsConfirming.inc({ sensor: sensorId });
              this.o.metrics.windowScored(sensorId, latencyMs / 1000);
              sink.scored(done.before.w, done.before.r, latencyMs);
            }
            this.o.metrics.windowScored(sensorId, latencyMs / 1000);
            sink.scored(w, done.r, latencyMs);
          }
        }
        settled(done !== null);
      },
      onDrop: () => {
        this.governor.dropped(submittedAt);
        this.o.metrics.windowsDropped.inc({ sensor: sensorId });
        sink.dropped(w, 'overload');
        settled(false);
      },
      onError: (err) => {
        this.o.log(`sensor ${sensorId}: scoring a window failed: ${(err as Error).message}`);
        this.o.metrics.windowsDropped.inc({ sensor: sensorId });
        sink.dropped(w, 'failed');
        settled(false);
      },
    });
  }

  stats(sensorId: string): SensorScoringStats {
    const jobs = this.scheduler.stats(sensorId);
    const s = this.#sensors.get(sensorId);
    return {
      ...jobs,
      scored: jobs.scored + (s?.scoredBefore ?? 0),
      skipped: s?.skipped ?? 0,
      scoringHopSeconds: this.governor.scoringHopMs / 1000,
    };
  }

  /**
   * Forgets a deleted sensor: its waiting windows are dropped (the scheduler's `removeSensor`, which keeps its
   * counters), its skipped count and its last admitted window go. Its labelled metrics are the metrics' to forget.
   */
  forget(sensorId: string): void {
    this.scheduler.removeSensor(sensorId);
    this.#sensors.delete(sensorId);
    this.governor.forget(sensorId);
  }

  #windows(sensorId: string): SensorWindows {
    let s = this.#sensors.get(sensorId);
    if (!s)
      this.#sensors.set(
        sensorId,
        (s = {
          pending: 0,
          skipped: 0,
          last: null,
          held: null,
          undecided: null,
          lastSkipped: null,
          scoredBefore: 0,
        }),
      );
    return s;
  }

  /**
   * A skipped window cut short where the next admitted window will start (`nextIndex`, the sensor's next turn
   * at the present stride: `HopGovernor.nextAdmitted`), so that its columns go out unscored only where no
   * scored window will cover them.
   */
  #skippedFrames(s: SensorWindows, w: ReadyWindow, nextIndex: number): ReadyWindow {
    if (!s.last || w.index <= s.last.index) return w;
    const hopFrames = (w.startFrame - s.last.startFrame) / (w.index - s.last.index);
    if (!(hopFrames > 0)) return w;
    const next = s.last.startFrame + (nextIndex - s.last.index) * hopFrames;
    return next < w.endFrame ? { ...w, endFrame: Math.max(w.startFrame, next) } : w;
  }

  /** Stops handing results on, drops what waits, and resolves when running jobs have finished. */
  async close(sensorIds: Iterable<string>): Promise<void> {
    this.#closing = true;
    for (const id of sensorIds) this.scheduler.removeSensor(id);
    await this.scheduler.idle();
  }

  async #score(
    sensorId: string,
    s: SensorWindows,
    w: ReadyWindow,
    sink: ScoreSink,
    submittedAt: number,
  ): Promise<Scored | null> {
    const lease = this.o.models.acquire(sensorId);
    if (!lease) return null;
    const startedAt = this.#now();
    this.governor.started(startedAt - submittedAt);
    try {
      const r = resultOf(await lease.detector.scoreWindow(w.data));
      const n = this.#scoredBy.get(lease.detector) ?? 0;
      if (n < COLD_WINDOWS) this.#scoredBy.set(lease.detector, n + 1);
      this.governor.served(this.#now() - startedAt, n < COLD_WINDOWS);
      // The window before, skipped, overlaps this one: if this one begins a run over the threshold, the run may
      // have begun there (a short fault lifts the two windows that hold it, and the turn fell on the second).
      const prev = s.lastSkipped;
      // A skipped window older than this one can precede no later window: not kept (32 KB) any longer.
      if (prev && prev.index < w.index) s.lastSkipped = null;
      if (!prev || prev.index !== w.index - 1 || this.#closing || !(sink.beginsRun?.(r) ?? false))
        return { r, before: null };
      return { r, before: { w: prev, r: resultOf(await lease.detector.scoreWindow(prev.data)) } };
    } finally {
      lease.release();
    }
  }
}

function resultOf(r: Awaited<ReturnType<Detector['scoreWindow']>>): WindowResult {
  return {
    normalised: r.normalised,
    raw: r.windowScore,
    map: r.map,
    localMap: r.localMap,
    ...(r.mapGate !== undefined && { mapGate: r.mapGate }),
    tone: r.tone,
    embeddings: r.embeddings,
  };
}
