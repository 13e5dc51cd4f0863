/**
 * A threshold for a false-alarm rate: at most `perDay` false alerts per sensor-day on normal sound.
 *
 * The alert rule opens an alert when `alertWindows` consecutive windows reach the threshold, so what it sees
 * of a stream is the minimum over each run of `alertWindows` consecutive window scores (`runMinima`); every
 * alert needs at least one such minimum over the threshold x, so alerts per day <= windowsPerDay *
 * P(run minimum > x) whatever the dependence between windows (an upper bound: the extremal index taken as 1).
 * A sensor scores windowsPerDay = 86 400 / hopSeconds windows a day (172 800 at 0.5 s), so the threshold is a
 * quantile far beyond any held-out sample (1 - 5.8e-6 for one alert a day): it is extrapolated with the
 * peaks-over-threshold model of extreme-value statistics.
 *
 * Method (Coles 2001, "An Introduction to Statistical Modeling of Extreme Values", ch. 4 and 5):
 * - By the Pickands-Balkema-de Haan theorem the excesses of a score over a high level u follow a generalised
 *   Pareto distribution GPD(sigma, xi). u is the (1 - `tailShare`) quantile of the held-out run minima.
 * - Assumption: the tail is no heavier than exponential (xi in [-0.5, 0]): scores are distances to a memory of
 *   normal sound, with Gumbel-like (xi = 0) or bounded (xi < 0) tails. With the 10-40 excesses a fit has, a
 *   free xi > 0 would put the threshold anywhere; normal sounds rarer than the training clips show (a truck
 *   passing a street microphone) are what a live burn-in sees. -0.5 is the bound below which the maximum
 *   likelihood estimate is not regular (Coles 2001, 4.3.1).
 * - Overlapping windows are dependent, so the excesses are not independent observations: every excess is
 *   used, but the log-likelihood is weighted by (clusters / excesses), the number of independent clusters
 *   (runs declustering, a cluster ending after `alertWindows` values under u, Coles 2001, 5.3.2) over the
 *   number of excesses. This keeps the estimates of all excesses and the uncertainty of the clusters
 *   (Fawcett and Walshaw 2007, "Improved estimation for temporally clustered extremes", Environmetrics 18).
 * - The return level for the per-window probability p = perDay / windowsPerDay is x_p = u + sigma / xi *
 *   ((p / zeta)^-xi - 1) (u + sigma * ln(zeta / p) at xi = 0), zeta = the share of run minima over u.
 * - Uncertainty of a small sample: the threshold is the one-sided `confidence` upper bound of x_p from its
 *   profile likelihood (Coles 2001, 4.3.3): the largest x_p whose profile log-likelihood is within
 *   chi2_1(2 confidence - 1) / 2 of the maximum. With less held-out sound the bound, and the threshold, rise.
 */
import { gammaPInv } from './special.js';

/** The fitted tail and the threshold it gives (what a model saves). */
export interface RateFit {
  /** Target: false alerts per sensor-day. */
  perDay: number;
  /** Windows a sensor scores per day (86 400 / hop seconds). */
  windowsPerDay: number;
  /** Consecutive windows over the threshold that open an alert (the server's alert rule). */
  alertWindows: number;
  /** One-sided confidence of the upper bound. */
  confidence: number;
  /** The threshold: the `confidence` upper bound of the return level. */
  threshold: number;
  /** The return level at the maximum-likelihood estimate. */
  estimate: number;
  /** Level over which the tail is modelled, and the share of run minima over it. */
  u: number;
  zeta: number;
  /** Maximum-likelihood GPD shape and scale. */
  xi: number;
  sigma: number;
  /** Run minima fitted, their excesses over u, and the independent clusters among the excesses. */
  n: number;
  excesses: number[];
  clusters: number;
}

export interface RateOptions {
  perDay: number;
  windowsPerDay: number;
  alertWindows: number;
  confidence: number;
  /** Share of the run minima modelled as the tail (default 0.25). */
  tailShare?: number;
}

/** Share of the run minima modelled as the tail unless `tailShare` says otherwise. */
export const DEFAULT_TAIL_SHARE = 0.25;
/** Fewest excesses a tail is fitted on (small training sets use more of their run minima). */
export const MIN_EXCESSES = 10;
/** Bounds of the GPD shape (see the header). */
export const XI_MIN = -0.5;
export const XI_MAX = 0;

/** Minima over each run of `k` consecutive values (a series shorter than `k` gives its minimum). */
export function runMinima(series: readonly number[], k: number): number[] {
  if (series.length === 0) return [];
  if (series.length <= k) return [Math.min(...series)];
  const out: number[] = [];
  for (let i = 0; i + k <= series.length; i++) {
    let m = Infinity;
    for (let j = i; j < i + k; j++) m = Math.min(m, series[j]);
    out.push(m);
  }
  return out;
}

/** Clusters of values over `u` in a series: a cluster ends after `gap` consecutive values at or under `u`. */
export function countClusters(series: readonly number[], u: number, gap: number): number {
  let clusters = 0;
  let inside = false;
  let under = 0;
  for (const x of series) {
    if (x > u) {
      if (!inside) clusters++;
      inside = true;
      under = 0;
    } else if (inside && ++under >= gap) inside = false;
  }
  return clusters;
}

/** GPD log-likelihood of `excesses` (all >= 0); -Infinity outside the support. */
export function gpdLogLikelihood(excesses: readonly number[], xi: number, sigma: number): number {
  if (!(sigma > 0)) return -Infinity;
  let ll = -excesses.length * Math.log(sigma);
  if (Math.abs(xi) < 1e-9) {
    for (const e of excesses) ll -= e / sigma;
    return ll;
  }
  for (const e of excesses) {
    const z = 1 + (xi * e) / sigma;
    if (!(z > 0)) return -Infinity;
    ll -= (1 / xi + 1) * Math.log(z);
  }
  return ll;
}

/** Return level over u for the conditional exceedance probability `p` (0 < p < 1). */
export function gpdReturnLevel(p: number, xi: number, sigma: number): number {
  return Math.abs(xi) < 1e-9 ? sigma * Math.log(1 / p) : (sigma / xi) * (p ** -xi - 1);
}

const XI_GRID = Array.from({ length: 51 }, (_, i) => XI_MIN + ((XI_MAX - XI_MIN) * i) / 50);

/** Maximum over sigma of the log-likelihood at shape `xi` (golden-section search on log sigma). */
function bestSigma(excesses: readonly number[], xi: number): { sigma: number; ll: number } {
  const top = Math.max(...excesses);
  const mean = excesses.reduce((a, b) => a + b, 0) / excesses.length;
  // Support: 1 + xi e / sigma > 0 for every excess, i.e. sigma > -xi * max(e) when xi < 0.
  let lo = Math.log(Math.max(-xi * top * (1 + 1e-9), mean * 1e-3, 1e-300));
  let hi = Math.log(Math.max(mean, 1e-300) * 100);
  const f = (ls: number) => gpdLogLikelihood(excesses, xi, Math.exp(ls));
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo);
  let b = lo + g * (hi - lo);
  let fa = f(a);
  let fb = f(b);
  for (let i = 0; i < 80; i++) {
    if (fa < fb) {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = f(b);
    } else {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = f(a);
    }
  }
  const sigma = Math.exp((lo + hi) / 2);
  return { sigma, ll: f((lo + hi) / 2) };
}

/**
 * Fits the tail of held-out normal window scores and returns the threshold for `perDay` false alerts per
 * sensor-day (see the header). `clips[c]` is the series of window scores of held-out clip c, in time order at
 * the live hop; runs never cross clips.
 */
export function fitRate(clips: readonly (readonly number[])[], o: RateOptions): RateFit {
  const { perDay, windowsPerDay, alertWindows, confidence, tailShare = DEFAULT_TAIL_SHARE } = o;
  if (!(perDay > 0)) throw new Error(`falseAlarmsPerDay (${perDay}) must be > 0, e.g. 1`);
  if (!(confidence >= 0.5 && confidence < 1))
    throw new Error(`falseAlarmConfidence (${confidence}) must be in [0.5, 1), e.g. 0.9`);
  if (!(tailShare > 0 && tailShare < 1)) throw new Error(`tailShare (${tailShare}) must be in (0, 1)`);
  const series = clips.map((c) => runMinima(c, alertWindows)).filter((s) => s.length);
  const all = series.flat().sort((a, b) => a - b);
  const n = all.length;
  for (const x of all)
    if (!Number.isFinite(x)) throw new Error(`a held-out window score is ${x}; scores must be finite`);
  const k = Math.min(n - 1, Math.max(MIN_EXCESSES, Math.round(tailShare * n)));
  if (k < 3)
    throw new Error(
      `${n} held-out run minima are too few to fit a tail (need at least 4); give more or longer training clips`,
    );
  const u = all[n - k - 1];
  const excesses = all.slice(n - k).map((x) => x - u);
  const zeta = k / n;
  const clusters = Math.max(
    1,
    series.reduce((s, c) => s + countClusters(c, u, alertWindows), 0),
  );
  const { threshold, estimate, xi, sigma } = tailLevels(excesses, clusters, u, zeta, o);
  return {
    perDay,
    windowsPerDay,
    alertWindows,
    confidence,
    threshold,
    estimate,
    u,
    zeta,
    xi,
    sigma,
    n,
    excesses: excesses.map((e) => Math.round(e * 1e9) / 1e9),
    clusters,
  };
}

/**
 * The threshold of a fitted tail for another target (e.g. a sensor's own `perDay`): the same excesses,
 * clusters and confidence, another rate.
 */
export function rateFor(fit: RateFit, perDay: number): RateFit {
  if (!(perDay > 0)) throw new Error(`falseAlarmsPerDay (${perDay}) must be > 0, e.g. 1`);
  return { ...fit, perDay, ...tailLevels(fit.excesses, fit.clusters, fit.u, fit.zeta, { ...fit, perDay }) };
}

/** The maximum-likelihood tail of `excesses` over u and its return level and upper bound for `o.perDay`. */
function tailLevels(
  excesses: readonly number[],
  clusters: number,
  u: number,
  zeta: number,
  o: Pick<RateOptions, 'perDay' | 'windowsPerDay' | 'confidence'>,
): { threshold: number; estimate: number; xi: number; sigma: number } {
  const { perDay, windowsPerDay, confidence } = o;
  const k = excesses.length;
  const w = Math.min(1, clusters / k);
  const p = perDay / windowsPerDay / zeta;
  if (!(p < 1))
    throw new Error(
      `falseAlarmsPerDay (${perDay}) is too many for ${windowsPerDay} windows a day; the tail cannot set it`,
    );
  // Degenerate tails (identical excesses): a tiny spread keeps sigma > 0.
  const spread = Math.max(Math.max(...excesses), Math.abs(u) * 1e-3, 1e-12);
  const ex = excesses.every((e) => e === excesses[0])
    ? excesses.map((e, i) => e + (spread * 1e-3 * (i + 1)) / k)
    : excesses;
  let best = { xi: 0, sigma: 1, ll: -Infinity };
  for (const xi of XI_GRID) {
    const { sigma, ll } = bestSigma(ex, xi);
    if (ll > best.ll) best = { xi, sigma, ll };
  }
  const estimate = gpdReturnLevel(p, best.xi, best.sigma);
  // Profile log-likelihood of the return level r (over u): sigma follows from r and xi.
  const profile = (r: number) => {
    let top = -Infinity;
    for (const xi of XI_GRID) {
      const sigma = Math.abs(xi) < 1e-9 ? r / Math.log(1 / p) : (xi * r) / (p ** -xi - 1);
      top = Math.max(top, gpdLogLikelihood(ex, xi, sigma));
    }
    return w * top;
  };
  // chi2_1(q) / 2 = gammaPInv(1/2, q); at confidence 0.5 the bound is the estimate itself.
  const limit = w * best.ll - (confidence > 0.5 ? gammaPInv(0.5, 2 * confidence - 1) : 0);
  let lo = estimate;
  let hi = estimate * 2 + spread;
  for (let i = 0; i < 60 && profile(hi) >= limit; i++) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (profile(mid) >= limit) lo = mid;
    else hi = mid;
  }
  return { threshold: u + hi, estimate: u + estimate, xi: best.xi, sigma: best.sigma };
}
