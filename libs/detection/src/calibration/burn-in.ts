/**
 * Live burn-in: the first minutes of live normal operation refine a model's threshold.
 *
 * At fit time the threshold for a false-alarm rate is extrapolated from a minute or two of held-out sound
 * scored by models fitted on part of the clips (rate.ts, fit-detector.ts): an upper bound, on the safe side.
 * Live, the model that will run scores the sensor's own sound, thousands of windows in a few minutes. The
 * burn-in keeps the normalised window scores of its first `windows` windows (in time order, breaks in the
 * stream cut the series), fits the same tail model to them (`fitRate`, same target and confidence), and
 * proposes a factor for the threshold: the live threshold in units of the current one.
 *
 * - Bounded: the factor is kept within [`minFactor`, `maxFactor`], so a burn-in on unrepresentative sound (a
 *   stopped machine, a storm) cannot move the threshold far; the bounds are a guard, not a tuned value.
 * - Never absorbs a fault: windows in a span an operator marked as a fault (`exclude`) are dropped and cut
 *   the series, whenever the mark arrives (the result is recomputed from the kept scores).
 * - Recorded and reversible: `result()` says what was fitted on (windows kept and excluded, the tail); the
 *   caller stores it next to the model and can drop it to return to the fitted threshold.
 *
 * Pure: no clock, no I/O; the server feeds it scores and marks and applies the factor.
 */
import { fitRate, type RateFit } from './rate.js';

export interface BurnInOptions {
  /** Windows to collect before proposing a factor (default 1200: 10 minutes at a 0.5 s hop). */
  windows?: number;
  /** False alerts per sensor-day, windows per day and the alert rule, as the model was calibrated for. */
  perDay: number;
  windowsPerDay: number;
  alertWindows: number;
  confidence: number;
  /** Bounds of the proposed factor (defaults 0.5 and 2). */
  minFactor?: number;
  maxFactor?: number;
}

export interface BurnInResult {
  /** Multiply the threshold by this (normalised scores divide by it). */
  factor: number;
  /** The factor before the bounds. */
  unbounded: number;
  /** Windows fitted on, and windows dropped because an operator marked them as a fault. */
  windows: number;
  excluded: number;
  /** The tail fitted to the live scores (normalised units). */
  fit: RateFit;
}

export class BurnIn {
  readonly windows: number;
  readonly #o: Required<BurnInOptions>;
  /** Stream time (ms) and normalised score of each window, in arrival order; NaN marks a break. */
  readonly #t: number[] = [];
  readonly #s: number[] = [];
  readonly #faults: [number, number][] = [];

  constructor(o: BurnInOptions) {
    this.#o = { windows: 1200, minFactor: 0.5, maxFactor: 2, ...o };
    this.windows = this.#o.windows;
    if (!(Number.isInteger(this.windows) && this.windows >= 100))
      throw new RangeError(`burn-in windows (${this.windows}) must be a whole number >= 100`);
    if (!(this.#o.minFactor > 0 && this.#o.minFactor <= 1 && this.#o.maxFactor >= 1))
      throw new RangeError(
        `burn-in bounds (${this.#o.minFactor}, ${this.#o.maxFactor}) must satisfy 0 < min <= 1 <= max`,
      );
  }

  /** Windows collected so far (breaks not counted). */
  get collected(): number {
    return this.#s.filter((s) => !Number.isNaN(s)).length;
  }

  /** True once `windows` windows are collected: later ones are ignored. */
  get full(): boolean {
    return this.collected >= this.windows;
  }

  /** A scored window: its stream time t1 (ms) and normalised score. Ignored once full. */
  add(t: number, score: number): void {
    if (this.full) return;
    if (!Number.isFinite(score)) throw new RangeError(`burn-in score at ${t} is ${score}; must be finite`);
    this.#t.push(t);
    this.#s.push(score);
  }

  /** A break in the stream (reconnect, dropped windows): runs of consecutive windows do not cross it. */
  gap(): void {
    if (this.#s.length && !Number.isNaN(this.#s[this.#s.length - 1])) {
      this.#t.push(Number.NaN);
      this.#s.push(Number.NaN);
    }
  }

  /** An operator marked [t0, t1] (stream ms) as a fault: its windows are never fitted on. */
  exclude(t0: number, t1: number): void {
    if (!(t1 >= t0)) throw new RangeError(`fault span [${t0}, ${t1}] must have t1 >= t0`);
    this.#faults.push([t0, t1]);
  }

  /** The proposed factor once full (null before), fitted on the windows outside every fault span. */
  result(): BurnInResult | null {
    if (!this.full) return null;
    const series: number[][] = [[]];
    let excluded = 0;
    for (let i = 0; i < this.#s.length; i++) {
      const t = this.#t[i];
      const fault = this.#faults.some(([a, b]) => t >= a && t <= b);
      if (fault) excluded++;
      if (Number.isNaN(this.#s[i]) || fault) {
        if (series[series.length - 1].length) series.push([]);
      } else series[series.length - 1].push(this.#s[i]);
    }
    const kept = series.filter((s) => s.length);
    const windows = kept.reduce((n, s) => n + s.length, 0);
    // Too much of the burn-in marked as faults: keep the fitted threshold rather than fit on the rest.
    if (windows < this.windows / 2) return null;
    const { perDay, windowsPerDay, alertWindows, confidence, minFactor, maxFactor } = this.#o;
    const fit = fitRate(kept, { perDay, windowsPerDay, alertWindows, confidence });
    const unbounded = fit.threshold;
    return {
      factor: Math.min(maxFactor, Math.max(minFactor, unbounded)),
      unbounded,
      windows,
      excluded,
      fit,
    };
  }
}
