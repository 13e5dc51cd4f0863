/**
 * A multivariate Gaussian with regularised covariance (PaDiM, arXiv 2011.08785, eq. 1: Σ + εI, ε = 0.01) and
 * the squared Mahalanobis distance through a Cholesky factor (no explicit inverse).
 */
export class MultivariateGaussian {
  /** Mean, `[dim]`. */
  readonly mean: Float64Array;
  /** Lower Cholesky factor L of Σ + εI (row-major `[dim, dim]`), so that Σ + εI = L Lᵀ. */
  readonly cholesky: Float64Array;

  constructor(
    readonly dim: number,
    mean: Float64Array,
    cholesky: Float64Array,
  ) {
    this.mean = mean;
    this.cholesky = cholesky;
  }

  /** Fits mean and covariance (unbiased, N - 1) from `n` rows of `x` (`[n, dim]`) plus `epsilon` on the diagonal. */
  static fit(x: Float32Array, n: number, dim: number, epsilon = 0.01): MultivariateGaussian {
    if (n < 2) throw new RangeError(`a Gaussian needs at least 2 samples, got ${n}`);
    const mean = new Float64Array(dim);
    for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += x[i * dim + j];
    for (let j = 0; j < dim; j++) mean[j] /= n;
    const cov = new Float64Array(dim * dim);
    const centred = new Float64Array(dim);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < dim; j++) centred[j] = x[i * dim + j] - mean[j];
      for (let a = 0; a < dim; a++) {
        const ca = centred[a];
        const row = a * dim;
        for (let b = 0; b <= a; b++) cov[row + b] += ca * centred[b];
      }
    }
    for (let a = 0; a < dim; a++) {
      for (let b = 0; b <= a; b++) {
        const v = cov[a * dim + b] / (n - 1);
        cov[a * dim + b] = v;
        cov[b * dim + a] = v;
      }
      cov[a * dim + a] += epsilon;
    }
    return new MultivariateGaussian(dim, mean, choleskyDecompose(cov, dim));
  }

  /** Squared Mahalanobis distance of one vector `v` (`[dim]`, read from `offset`). */
  mahalanobis2(v: Float32Array, offset = 0, scratch = new Float64Array(this.dim)): number {
    const { dim, mean, cholesky: L } = this;
    // Solve L z = (v - μ) by forward substitution; the distance is |z|².
    let sum = 0;
    for (let i = 0; i < dim; i++) {
      let s = v[offset + i] - mean[i];
      const row = i * dim;
      for (let k = 0; k < i; k++) s -= L[row + k] * scratch[k];
      const z = s / L[row + i];
      scratch[i] = z;
      sum += z * z;
    }
    return sum;
  }
}

/** Cholesky factorisation of a symmetric positive-definite matrix; a clear error when it is not. */
export function choleskyDecompose(a: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0))
          throw new RangeError(`covariance is not positive definite at row ${i} (pivot ${s}); raise epsilon`);
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  }
  return L;
}
