/**
 * Gamma distribution for anomaly-score calibration: maximum-likelihood fit with a fixed location and the
 * quantile function.
 *
 * The DCASE 2020-2023 baselines call `scipy.stats.gamma.fit(scores)` with a free location. That
 * three-parameter likelihood is unbounded as loc -> min(scores) when shape < 1, and on few scores the optimum
 * wanders (5 scores drawn from Gamma(2, 0.5) fit to shape 754, loc -10). We fix loc (default 0: scores are
 * distances) and solve the two-parameter MLE exactly, as `scipy.stats.gamma.fit(scores, floc=loc)` does:
 * with y = scores - loc and s = log(mean y) - mean(log y) > 0, the shape a solves log(a) - digamma(a) = s
 * and scale = mean(y) / a.
 */
import { gammaPInv, logMinusDigamma, logMinusDigammaDerivative } from './special.js';

/** Parameters of a gamma distribution: density of (x - loc) / scale is Gamma(shape). */
export interface GammaParams {
  /** Shape a > 0 (dimensionless). */
  shape: number;
  /** Location: the distribution's lower bound, in score units. */
  loc: number;
  /** Scale > 0, in score units. */
  scale: number;
}

/**
 * Maximum-likelihood gamma fit with fixed location (`scipy.stats.gamma.fit(scores, floc=loc)`).
 *
 * @param scores - at least 2 finite scores, all > loc, not all equal.
 * @param loc - fixed lower bound; default 0.
 */
export function fitGamma(scores: ArrayLike<number>, loc = 0): GammaParams {
  if (!Number.isFinite(loc)) throw new Error(`loc (${loc}) must be finite`);
  const n = scores.length;
  if (n < 2) throw new Error(`need at least 2 scores to fit a gamma, got ${n}`);
  let sum = 0;
  let sumLog = 0;
  for (let i = 0; i < n; i++) {
    const y = scores[i] - loc;
    if (!(y > 0) || !Number.isFinite(y)) {
      throw new Error(
        `scores[${i}] (${scores[i]}) must be finite and > loc (${loc}); lower loc or use the empirical method`,
      );
    }
    sum += y;
    sumLog += Math.log(y);
  }
  const mean = sum / n;
  const s = Math.log(mean) - sumLog / n;
  if (!(s > 0)) {
    throw new Error(
      `all ${n} scores are equal (${scores[0]}); a gamma cannot be fitted, use the empirical method`,
    );
  }
  // Minka's closed-form start, then Newton in 1/a (monotone and fast for this convex equation).
  let a = (3 - s + Math.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s);
  for (let iter = 0; iter < 100; iter++) {
    const next = 1 / (1 / a + (logMinusDigamma(a) - s) / (a * a * logMinusDigammaDerivative(a)));
    const done = Math.abs(next - a) <= 1e-15 * a;
    a = next > 0 ? next : a / 2;
    if (done) break;
  }
  return { shape: a, loc, scale: mean / a };
}

/**
 * Quantile (inverse CDF) of a gamma distribution: `scipy.stats.gamma.ppf(q, shape, loc, scale)`.
 *
 * @param q - probability in (0, 1).
 * @returns the score below which a fraction q of the distribution lies, in score units.
 */
export function gammaQuantile(q: number, { shape, loc, scale }: GammaParams): number {
  if (!(q > 0 && q < 1)) throw new Error(`q (${q}) must be in (0, 1), e.g. 0.99`);
  if (!(shape > 0 && scale > 0)) throw new Error(`shape (${shape}) and scale (${scale}) must be > 0`);
  return loc + scale * gammaPInv(shape, q);
}
