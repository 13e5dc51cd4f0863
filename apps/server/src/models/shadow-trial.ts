/**
 * A shadow trial: a new model version scored beside the active one on the same live windows. Each window
 * both scored goes through the live alert rule twice (`AlertTracker`, one per model), so the shadow's
 * would-be alerts and the active model's are counted on exactly the same windows; the shadow's are kept to be
 * shown, never raised. Windows the shadow skipped (the scorer was busy) count for neither model.
 */
import type { ToneEvidence } from '@hark/detection';
import type { MelParams } from '@hark/dsp';
import type { ShadowTrial as ShadowTrialJson, WouldBeAlert } from '@hark/protocol';
import { AlertTracker, type TrackedAlert } from '../alerts/alert-tracker.js';

/** Would-be alerts listed per trial (the count goes on). */
const MAX_LISTED = 100;

export interface ShadowWindow {
  t0: number;
  t1: number;
}

export interface ShadowScores {
  normalised: number;
  map: Float32Array;
  /** The map before time-share mixing: the boxes' frequency extent, as in the live alerts. */
  localMap?: Float32Array;
  /** What the tonal envelope says of the window (detection's `WindowResult.tone`), or null. */
  tone?: ToneEvidence | null;
}

export class ShadowTrial {
  readonly since: number;
  #until: number | null = null;
  #outcome: ShadowTrialJson['outcome'] = 'running';
  #endedBy: string | null = null;
  readonly #shadow: AlertTracker;
  readonly #active: AlertTracker;
  #windows = 0;
  #skipped = 0;
  #shadowOver = 0;
  #activeOver = 0;
  #shadowSum = 0;
  #activeSum = 0;
  #shadowAlerts = 0;
  #activeAlerts = 0;
  readonly #listed: WouldBeAlert[] = [];
  /** The shadow's open would-be alert (listed, and updated in place until it closes). */
  #open: WouldBeAlert | null = null;

  constructor(
    readonly version: number,
    o: { mel: MelParams; openWindows: number; closeWindows: number; now?: number },
    /** A trial saved by a stopping server, continued (its counts go on; a would-be alert open then ended). */
    saved?: ShadowTrialJson,
  ) {
    this.since = saved?.since ?? o.now ?? Date.now();
    if (saved) {
      this.#windows = saved.windows;
      this.#skipped = saved.skipped;
      this.#shadowOver = saved.shadowOver;
      this.#activeOver = saved.activeOver;
      this.#shadowSum = (saved.shadowMean ?? 0) * saved.windows;
      this.#activeSum = (saved.activeMean ?? 0) * saved.windows;
      this.#shadowAlerts = saved.shadowAlertCount;
      this.#activeAlerts = saved.activeAlertCount;
      this.#listed.push(...saved.wouldBeAlerts);
    }
    const rule = { mel: o.mel, openWindows: o.openWindows, closeWindows: o.closeWindows };
    this.#shadow = new AlertTracker(rule);
    this.#active = new AlertTracker(rule);
  }

  get running(): boolean {
    return this.#outcome === 'running';
  }

  /** One window scored by both models. */
  observe(w: ShadowWindow, shadow: ShadowScores, active: ShadowScores): void {
    if (!this.running) return;
    this.#windows++;
    this.#shadowSum += shadow.normalised;
    this.#activeSum += active.normalised;
    if (shadow.normalised >= 1) this.#shadowOver++;
    if (active.normalised >= 1) this.#activeOver++;
    for (const e of this.#active.observe({
      ...w,
      score: active.normalised,
      map: active.map,
      localMap: active.localMap,
      tone: active.tone,
    }))
      if (e.type === 'opened') this.#activeAlerts++;
    for (const e of this.#shadow.observe({
      ...w,
      score: shadow.normalised,
      map: shadow.map,
      localMap: shadow.localMap,
      tone: shadow.tone,
    })) {
      if (e.type === 'opened') {
        this.#shadowAlerts++;
        this.#open = toWouldBe(e.alert);
        this.#listed.push(this.#open);
        if (this.#listed.length > MAX_LISTED) this.#listed.shift();
      } else if (this.#open) {
        Object.assign(this.#open, toWouldBe(e.alert));
        if (e.type === 'closed') this.#open = null;
      }
    }
  }

  /** A live window the shadow did not score. */
  skipped(): void {
    if (this.running) this.#skipped++;
  }

  /** Ends the trial (an open would-be alert ends at its last over-threshold window). */
  end(
    outcome: Exclude<ShadowTrialJson['outcome'], 'running'>,
    by: string | null,
    now = Date.now(),
  ): ShadowTrialJson {
    if (this.running) {
      this.#endedBy = by;
      for (const e of this.#shadow.close()) if (this.#open) Object.assign(this.#open, toWouldBe(e.alert));
      this.#open = null;
      this.#outcome = outcome;
      this.#until = now;
    }
    return this.toJSON();
  }

  toJSON(): ShadowTrialJson {
    const n = this.#windows;
    return {
      since: this.since,
      until: this.#until,
      outcome: this.#outcome,
      endedBy: this.#endedBy,
      windows: n,
      skipped: this.#skipped,
      shadowOver: this.#shadowOver,
      activeOver: this.#activeOver,
      shadowMean: n ? this.#shadowSum / n : null,
      activeMean: n ? this.#activeSum / n : null,
      shadowAlertCount: this.#shadowAlerts,
      activeAlertCount: this.#activeAlerts,
      wouldBeAlerts: this.#listed.map((a) => ({ ...a, boxes: a.boxes.map((b) => ({ ...b })) })),
    };
  }
}

const toWouldBe = (a: TrackedAlert): WouldBeAlert => ({
  start: a.start,
  end: a.end,
  peakScore: a.peakScore,
  peakAt: a.peakAt,
  windows: a.windows,
  boxes: a.boxes,
});
