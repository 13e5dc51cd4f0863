/**
 * Decision threshold from normal scores only. `Calibration.forRate` sets it for a false-alarm rate (at most
 * `perDay` false alerts per sensor-day, rate.ts: extreme-value tail of held-out window scores). The older
 * methods, as in the DCASE anomalous-sound baselines: fit a gamma to the anomaly scores of normal clips
 * (held-out training clips) and take its `q` quantile (default 0.99), or take the empirical `q` quantile.
 *
 * `normalise(score) = score / threshold` puts every model on one scale where the threshold is 1.0, so alerts
 * and dashboards need not know the model. It needs threshold > 0, which holds for non-negative scores
 * (distances) unless most normal scores are exactly 0; a score of 0 normalises to 0.
 */
import { fitGamma, gammaQuantile, type GammaParams } from './gamma.js';
import { fitRate, rateFor, type RateFit, type RateOptions } from './rate.js';

export type CalibrationMethod = 'gamma' | 'empirical' | 'rate' | 'levels';

/** Fewest normal scores a threshold is fitted on. */
export const MIN_NORMAL_SCORES = 5;

/** Options of `Calibration.fit`. */
export interface CalibrationOptions {
  /** 'gamma' (MLE gamma fit, default) or 'empirical' (numpy's default linear-interpolated quantile). */
  method?: CalibrationMethod;
  /** Quantile of normal scores that becomes the threshold, in (0, 1); default 0.99. */
  q?: number;
  /** Fixed gamma location (lower bound of scores); default 0. Ignored by 'empirical'. */
  loc?: number;
}

/** The JSON form of a calibration. */
export interface CalibrationData {
  method: CalibrationMethod;
  q: number;
  /** Score at the q quantile; `normalise` maps it to 1. */
  threshold: number;
  /** Fitted gamma for 'gamma', null for 'empirical'. */
  params: GammaParams | null;
  /** Number of normal scores fitted. */
  n: number;
  /** Mean and population standard deviation (ddof 0) of the normal scores. */
  mean: number;
  std: number;
  /** For 'rate': the fitted tail and the target it was set for (rate.ts); absent otherwise. */
  rate?: RateFit;
}

/**
 * Empirical quantile with linear interpolation between order statistics (`numpy.quantile(x, q)` default,
 * Hyndman-Fan type 7).
 */
export function empiricalQuantile(scores: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`q (${q}) must be in [0, 1]`);
  if (scores.length === 0) throw new Error('need at least one score for a quantile');
  const sorted = Float64Array.from(scores).sort();
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < sorted.length ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

/** A fitted threshold; serialise with `JSON.stringify`, restore with `Calibration.fromJSON`. */
export class Calibration implements CalibrationData {
  readonly method: CalibrationMethod;
  readonly q: number;
  readonly threshold: number;
  readonly params: GammaParams | null;
  readonly n: number;
  readonly mean: number;
  readonly std: number;
  readonly rate?: RateFit;

  private constructor(data: CalibrationData) {
    if (!(Number.isFinite(data.threshold) && data.threshold > 0)) {
      throw new Error(
        `threshold (${data.threshold}) must be finite and > 0 so normalise(score) = score / threshold maps it ` +
          `to 1; normal scores must be mostly positive (distances), or raise q`,
      );
    }
    ({ method: this.method, q: this.q, threshold: this.threshold, params: this.params } = data);
    ({ n: this.n, mean: this.mean, std: this.std } = data);
    if (data.rate) this.rate = data.rate;
  }

  /**
   * A threshold for at most `o.perDay` false alerts per sensor-day (rate.ts). `clips[c]` holds the window
   * scores of held-out normal clip c in time order, at the live hop.
   */
  static forRate(clips: readonly (readonly number[])[], o: RateOptions): Calibration {
    const rate = fitRate(clips, o);
    const all = clips.flat();
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
    const q = 1 - o.perDay / o.windowsPerDay;
    return new Calibration({
      method: 'rate',
      q,
      threshold: rate.threshold,
      params: null,
      n: all.length,
      mean,
      std,
      rate,
    });
  }

  /**
   * The threshold of scores that are already divided by their own levels (fusion rule 'levels',
   * pipeline/fusion.ts): 1, where each part reaches the `q` quantile of its held-out normal clips. `normalScores`
   * (the held-out clips' fused scores, each on levels fitted without it) are kept for their count, mean and
   * deviation only.
   */
  static atLevels(normalScores: ArrayLike<number>, q: number): Calibration {
    if (!(q > 0 && q < 1)) throw new Error(`q (${q}) must be in (0, 1), e.g. 0.99`);
    const all = Array.from(normalScores);
    if (all.length === 0 || !all.every(Number.isFinite))
      throw new Error('the held-out normal scores must be finite, at least one');
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
    return new Calibration({ method: 'levels', q, threshold: 1, params: null, n: all.length, mean, std });
  }

  /**
   * Fits a threshold to the scores of normal clips.
   *
   * @param normalScores - at least `MIN_NORMAL_SCORES` finite anomaly scores of normal clips.
   */
  static fit(normalScores: ArrayLike<number>, options: CalibrationOptions = {}): Calibration {
    const { method = 'gamma', q = 0.99, loc = 0 } = options;
    if (method !== 'gamma' && method !== 'empirical') {
      throw new Error(
        `method ('${String(method)}') must be 'gamma' or 'empirical' (a rate: Calibration.forRate)`,
      );
    }
    if (!(q > 0 && q < 1)) throw new Error(`q (${q}) must be in (0, 1), e.g. 0.99`);
    const n = normalScores.length;
    if (n < MIN_NORMAL_SCORES) {
      throw new Error(
        `need at least ${MIN_NORMAL_SCORES} normal scores to calibrate, got ${n}; score more normal clips`,
      );
    }
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(normalScores[i])) {
        throw new Error(`normal score ${i} is ${normalScores[i]}; scores must be finite`);
      }
      sum += normalScores[i];
    }
    const mean = sum / n;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += (normalScores[i] - mean) ** 2;
    const std = Math.sqrt(sq / n);
    if (method === 'empirical') {
      return new Calibration({
        method,
        q,
        threshold: empiricalQuantile(normalScores, q),
        params: null,
        n,
        mean,
        std,
      });
    }
    const params = fitGamma(normalScores, loc);
    return new Calibration({ method, q, threshold: gammaQuantile(q, params), params, n, mean, std });
  }

  /**
   * The same fitted tail set for another false-alarm rate (e.g. a sensor's own target): a new calibration.
   * @throws for a calibration that was not set for a rate (a model fitted before it).
   */
  atRate(perDay: number): Calibration {
    if (!this.rate)
      throw new Error(
        `this model's threshold was set as a ${this.method} quantile, not for a false-alarm rate; fit it again to set its rate`,
      );
    const rate = rateFor(this.rate, perDay);
    return new Calibration({
      ...this.toJSON(),
      q: 1 - perDay / rate.windowsPerDay,
      threshold: rate.threshold,
      rate,
    });
  }

  /** Restores a calibration from `JSON.parse` output. @throws naming the missing or invalid field. */
  static fromJSON(json: unknown): Calibration {
    const o = json as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null) throw new Error('calibration JSON must be an object');
    const num = (key: string): number => {
      if (typeof o[key] !== 'number') throw new Error(`calibration JSON field '${key}' must be a number`);
      return o[key];
    };
    const method = o.method;
    if (method !== 'gamma' && method !== 'empirical' && method !== 'rate' && method !== 'levels') {
      throw new Error(
        `calibration JSON field 'method' (${String(method)}) must be 'gamma', 'empirical', 'rate' or 'levels'`,
      );
    }
    let params: GammaParams | null = null;
    if (method === 'gamma') {
      const p = o.params as Record<string, unknown> | null;
      if (
        typeof p !== 'object' ||
        p === null ||
        ['shape', 'loc', 'scale'].some((k) => typeof p[k] !== 'number')
      ) {
        throw new Error(
          "calibration JSON field 'params' must be {shape, loc, scale} numbers for method 'gamma'",
        );
      }
      params = { shape: p.shape as number, loc: p.loc as number, scale: p.scale as number };
    }
    const [q, threshold, n, mean, std] = ['q', 'threshold', 'n', 'mean', 'std'].map(num);
    let rate: RateFit | undefined;
    if (method === 'rate') {
      const r = o.rate as Record<string, unknown> | null;
      const fields = [
        'perDay',
        'windowsPerDay',
        'alertWindows',
        'confidence',
        'threshold',
        'u',
        'xi',
        'sigma',
      ];
      if (typeof r !== 'object' || r === null || fields.some((k) => typeof r[k] !== 'number'))
        throw new Error(
          `calibration JSON field 'rate' must hold the numbers ${fields.join(', ')} for method 'rate'`,
        );
      rate = r as unknown as RateFit;
    }
    return new Calibration({ method, q, threshold, params, n, mean, std, ...(rate && { rate }) });
  }

  /** Score divided by the threshold: 1.0 at the threshold, above 1 = anomalous. */
  normalise(score: number): number {
    return score / this.threshold;
  }

  /** True when `score` exceeds the threshold. */
  isAnomalous(score: number): boolean {
    return score > this.threshold;
  }

  toJSON(): CalibrationData {
    const { method, q, threshold, params, n, mean, std, rate } = this;
    return { method, q, threshold, params, n, mean, std, ...(rate && { rate }) };
  }
}
