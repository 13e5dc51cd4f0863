/**
 * Hann window of `length` samples. Periodic by default (the DFT-even window of scipy/torch
 * `hann_window(periodic=True)`, i.e. a symmetric window of length + 1 without its last sample), which is
 * what spectral analysis wants; `periodic = false` gives the symmetric window used for filter design.
 */
export function hann(length: number, periodic = true): Float64Array {
  const w = new Float64Array(length);
  const n = periodic ? length : length - 1;
  if (n === 0) {
    w.fill(1);
    return w;
  }
  for (let i = 0; i < length; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/**
 * Centres `window` in a frame of `nFft` samples, zeros around it, as torch.stft does when
 * `win_length < n_fft` (left pad = floor((nFft - winLength) / 2)).
 */
export function padWindow(window: Float64Array, nFft: number): Float64Array {
  if (window.length > nFft)
    throw new RangeError(`window length (${window.length}) must be <= nFft (${nFft})`);
  const out = new Float64Array(nFft);
  out.set(window, (nFft - window.length) >> 1);
  return out;
}

/** Zeroth-order modified Bessel function of the first kind, by its power series (for Kaiser windows). */
export function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 200 && term > sum * 1e-17; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

/**
 * Kaiser window evaluated at `t` in [-1, 1] (0 at the centre): I0(beta * sqrt(1 - t^2)) / I0(beta);
 * zero outside. `beta` trades main-lobe width for side-lobe level (see {@link kaiserBeta}).
 */
export function kaiser(t: number, beta: number): number {
  if (t < -1 || t > 1) return 0;
  return besselI0(beta * Math.sqrt(1 - t * t)) / besselI0(beta);
}

/** Kaiser's empirical formula for the beta that gives `attenuationDb` of stop-band attenuation. */
export function kaiserBeta(attenuationDb: number): number {
  if (attenuationDb > 50) return 0.1102 * (attenuationDb - 8.7);
  if (attenuationDb >= 21) return 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21);
  return 0;
}
