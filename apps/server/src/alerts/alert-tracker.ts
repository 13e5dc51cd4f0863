/**
 * Turns window scores into alerts with hysteresis, and silence readings into silence alerts.
 *
 * An anomaly alert opens when `openWindows` consecutive scored windows reach the threshold (normalised score
 * >= 1) and closes after `closeWindows` consecutive scored windows under it. Windows dropped under overload
 * are neutral: they neither continue nor break a run (call nothing, or {@link AlertTracker.dropped}). The
 * alert spans from the first over-threshold window's t0 to the last over-threshold window's t1 (stream ms),
 * keeps the peak window score (at that window's t1, the `t` of its `ScoreEvent`) and the strongest
 * time-frequency boxes of its over-threshold windows, merged where they overlap.
 *
 * Snooze is the caller's decision expressed through `suppressed`: while true no new alert opens (over-threshold
 * runs are forgotten, so one opens only after `openWindows` fresh windows once the snooze ends); an alert
 * already open keeps updating and closes normally.
 */
import { anomalyBoxes, type AnomalyBox, type ToneEvidence } from '@hark/detection';
import type { MelParams } from '@hark/dsp';
import type { AlertBox, AlertKind } from '@hark/protocol';
import type { MeterReading } from '../ingest/meter.js';
import { frameCentreOffsetMs } from '../ingest/timing.js';

/** An alert as the tracker sees it (the runtime adds id, state, people and media). */
export interface TrackedAlert {
  kind: AlertKind;
  /** Stream ms: t0 of the first over-threshold window / where the silence began. */
  start: number;
  /** Stream ms: t1 of the last over-threshold window; for silence null until it closes. */
  end: number | null;
  /** Largest normalised window score and the t1 of its window (0 and `start` for silence). */
  peakScore: number;
  peakAt: number;
  /** Strongest first, at most `maxBoxes` (empty for silence). */
  boxes: AlertBox[];
  /** Over-threshold windows counted into the alert. */
  windows: number;
}

/** What changed: an alert opened, grew (end, peak or boxes) or closed. `alert` is a fresh copy. */
export interface AlertTrackerEvent {
  type: 'opened' | 'updated' | 'closed';
  alert: TrackedAlert;
}

/** One scored window. Give `boxes` (from `anomalyBoxes` of its map) or `map` and the tracker computes them. */
export interface ScoredWindow {
  /** Stream times of the window (`ReadyWindow.t0` / `t1`). */
  t0: number;
  t1: number;
  /** Normalised window score (1 = threshold). */
  score: number;
  /** Boxes of the window map with times relative to the window (`timeOffset` 0). */
  boxes?: readonly AnomalyBox[];
  /** Normalised window map `[nMels, windowFrames]` (`WindowResult.map`), used when `boxes` is absent. */
  map?: Float32Array;
  /** The map before time-share mixing (`WindowResult.localMap`): the boxes' frequency extent, as in the CLI. */
  localMap?: Float32Array;
  /** What the tonal envelope says of the window (`WindowResult.tone`), or null: a tone's bins, as in the CLI. */
  tone?: ToneEvidence | null;
}

export interface AlertTrackerOptions {
  /** The log-mel parameters of the windows (box times and frequencies). */
  mel: MelParams;
  /** Consecutive over-threshold windows that open an alert. Default 2. */
  openWindows?: number;
  /** Consecutive under-threshold windows that close it. Default 2. */
  closeWindows?: number;
  /** Normalised threshold. Default 1. */
  threshold?: number;
  /** Boxes kept per alert. Default 5. */
  maxBoxes?: number;
}

/**
 * A window box (seconds from the window's start, frame centre times) in stream ms and Hz. The box covers its
 * frames' cells: from the stamp of its first frame to the stamp after its last (see `timing.ts`).
 */
export function toAlertBox(box: AnomalyBox, windowT0: number, mel: MelParams): AlertBox {
  const centre = frameCentreOffsetMs(mel);
  const hopMs = (mel.hopLength / mel.sampleRate) * 1000;
  return {
    t0: windowT0 + box.onset * 1000 - centre,
    t1: windowT0 + box.offset * 1000 - centre + hopMs,
    fLow: box.lowHz,
    fHigh: box.highHz,
    score: box.peak,
  };
}

const overlaps = (a: AlertBox, b: AlertBox): boolean =>
  a.t0 < b.t1 && b.t0 < a.t1 && a.fLow < b.fHigh && b.fLow < a.fHigh;

/**
 * Adds `boxes` to `kept`, merging every pair that overlaps in time and frequency into their bounding box
 * (score = the larger), and returns at most `limit` boxes, strongest first.
 */
export function mergeBoxes(kept: readonly AlertBox[], boxes: readonly AlertBox[], limit: number): AlertBox[] {
  const all = [...kept, ...boxes].map((b) => ({ ...b }));
  let merged = true;
  while (merged) {
    merged = false;
    outer: for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        if (!overlaps(all[i], all[j])) continue;
        const a = all[i];
        const b = all[j];
        all[i] = {
          t0: Math.min(a.t0, b.t0),
          t1: Math.max(a.t1, b.t1),
          fLow: Math.min(a.fLow, b.fLow),
          fHigh: Math.max(a.fHigh, b.fHigh),
          score: Math.max(a.score, b.score),
        };
        all.splice(j, 1);
        merged = true;
        break outer;
      }
    }
  }
  return all.sort((a, b) => b.score - a.score).slice(0, limit);
}

const copy = (a: TrackedAlert): TrackedAlert => ({ ...a, boxes: a.boxes.map((b) => ({ ...b })) });

export class AlertTracker {
  /** While true no new alert opens (snooze); an open alert runs its course. */
  suppressed = false;
  readonly openWindows: number;
  readonly closeWindows: number;
  readonly threshold: number;
  readonly maxBoxes: number;
  private mel: MelParams;
  /** The alert being built (over-threshold run not yet long enough) or open. */
  private candidate: TrackedAlert | null = null;
  private isOpen = false;
  private overRun = 0;
  private underRun = 0;

  constructor(options: AlertTrackerOptions) {
    this.mel = options.mel;
    this.openWindows = options.openWindows ?? 2;
    this.closeWindows = options.closeWindows ?? 2;
    this.threshold = options.threshold ?? 1;
    this.maxBoxes = options.maxBoxes ?? 5;
    for (const [name, v] of [
      ['openWindows', this.openWindows],
      ['closeWindows', this.closeWindows],
      ['maxBoxes', this.maxBoxes],
    ] as const) {
      if (!(Number.isInteger(v) && v >= 1))
        throw new RangeError(`${name} (${v}) must be a whole number >= 1`);
    }
  }

  /**
   * Whether the rule is waiting for the next window to decide: a run at or over the threshold has begun and is
   * not yet `openWindows` long. A server that scores one window in several (past capacity) scores the next one
   * whatever its turn, so the rule judges a run of consecutive windows, as at the streams' own hop
   * (`WindowScorer`).
   */
  get confirming(): boolean {
    return !this.isOpen && this.overRun > 0;
  }

  /**
   * Whether a window scored `score` next would begin a run over the threshold that can open an alert: over it,
   * with no run under way, no alert open and none withheld. The window before it may then belong to the run: a
   * server scoring one window in several scores that one too, if it skipped it (`WindowScorer`).
   */
  wouldBegin(score: number): boolean {
    return score >= this.threshold && !this.isOpen && this.overRun === 0 && !this.suppressed;
  }

  /** The open alert (a copy), or null. */
  get open(): TrackedAlert | null {
    return this.isOpen && this.candidate ? copy(this.candidate) : null;
  }

  /** New log-mel parameters for the windows to come (a model with another configuration). */
  reconfigure(mel: MelParams): void {
    this.mel = mel;
  }

  /** Feeds one scored window; returns the events it caused (none, or one). */
  observe(w: ScoredWindow): AlertTrackerEvent[] {
    if (w.score >= this.threshold) {
      this.underRun = 0;
      if (!this.isOpen && this.suppressed) {
        this.overRun = 0;
        this.candidate = null;
        return [];
      }
      this.overRun++;
      this.absorb(w);
      if (this.isOpen) return [{ type: 'updated', alert: copy(this.candidate!) }];
      if (this.overRun >= this.openWindows) {
        this.isOpen = true;
        return [{ type: 'opened', alert: copy(this.candidate!) }];
      }
      return [];
    }
    this.overRun = 0;
    if (!this.isOpen) {
      this.candidate = null;
      return [];
    }
    this.underRun++;
    if (this.underRun < this.closeWindows) return [];
    return this.finish();
  }

  /** A window dropped under overload: neutral, no event. */
  dropped(): AlertTrackerEvent[] {
    return [];
  }

  /** Closes the open alert now (sensor gone, model replaced); returns its `closed` event, if one was open. */
  close(): AlertTrackerEvent[] {
    this.overRun = 0;
    if (!this.isOpen) {
      this.candidate = null;
      return [];
    }
    return this.finish();
  }

  private finish(): AlertTrackerEvent[] {
    const alert = copy(this.candidate!);
    this.isOpen = false;
    this.candidate = null;
    this.underRun = 0;
    return [{ type: 'closed', alert }];
  }

  private absorb(w: ScoredWindow): void {
    const c = (this.candidate ??= {
      kind: 'anomaly',
      start: w.t0,
      end: w.t1,
      peakScore: w.score,
      peakAt: w.t1,
      boxes: [],
      windows: 0,
    });
    c.end = Math.max(c.end ?? w.t1, w.t1);
    c.windows++;
    if (w.score > c.peakScore) {
      c.peakScore = w.score;
      c.peakAt = w.t1;
    }
    const boxes = w.boxes ?? (w.map ? this.boxesOf(w.map, w) : []);
    if (boxes.length) {
      const converted = boxes.map((b) => toAlertBox(b, w.t0, this.mel));
      c.boxes = mergeBoxes(c.boxes, converted, this.maxBoxes);
    }
  }

  /** The window's boxes by the CLI's rule; each scores as the window (`AnomalyBox.peak`), so <= the alert's peak. */
  private boxesOf(map: Float32Array, { localMap, tone, score }: ScoredWindow): AnomalyBox[] {
    const frames = map.length / this.mel.nMels;
    if (!Number.isInteger(frames))
      throw new RangeError(
        `map has ${map.length} values, not a whole number of ${this.mel.nMels}-mel columns`,
      );
    return anomalyBoxes(map, frames, this.mel, {
      maxBoxes: this.maxBoxes,
      localMap,
      toneMap: tone?.map ?? undefined,
      windows: {
        starts: [0],
        frames,
        scores: [score],
        ...(tone && { tonal: [tone.tonal], others: [tone.others] }),
      },
    });
  }
}

/**
 * Silence alerts from the level meter: opens when the reading turns `silent` (start = `silentSince`), closes
 * when it no longer is (end = the stream time given). `suppressed` withholds opening, like {@link AlertTracker}.
 */
export class SilenceTracker {
  suppressed = false;
  private current: TrackedAlert | null = null;

  /** The open silence alert (a copy), or null. */
  get open(): TrackedAlert | null {
    return this.current ? copy(this.current) : null;
  }

  /** Feeds a meter reading taken at stream time `t` (ms); returns the events it caused. */
  observe(reading: MeterReading, t: number): AlertTrackerEvent[] {
    if (reading.silent && !this.current) {
      if (this.suppressed) return [];
      const start = reading.silentSince ?? t;
      this.current = {
        kind: 'silence',
        start,
        end: null,
        peakScore: 0,
        peakAt: start,
        boxes: [],
        windows: 0,
      };
      return [{ type: 'opened', alert: copy(this.current) }];
    }
    if (!reading.silent && this.current) return this.close(t);
    return [];
  }

  /** Closes an open silence alert at `t` (e.g. the sensor disconnected); returns its `closed` event. */
  close(t: number): AlertTrackerEvent[] {
    if (!this.current) return [];
    const alert = { ...this.current, end: t };
    this.current = null;
    return [{ type: 'closed', alert }];
  }
}
