/**
 * Separable Gaussian blur of a 2-D map, as anomalib's `GaussianBlur2d` (kernel size 2 * floor(4 sigma + 0.5) + 1,
 * reflect padding). Used to smooth anomaly maps after upsampling to the spectrogram grid.
 */
export function gaussianKernel(sigma: number): Float32Array {
  if (!(sigma > 0)) throw new RangeError(`sigma (${sigma}) must be > 0`);
  const radius = Math.floor(4 * sigma + 0.5);
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Reflect index into [0, n) like numpy/torch 'reflect' (edge not repeated); handles kernels wider than n. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  i = ((i % period) + period) % period;
  return i < n ? i : period - i;
}

/** Kernels by sigma: a live map is blurred several times per window with the same few sigmas. */
const kernels = new Map<number, Float32Array>();

function cachedKernel(sigma: number): Float32Array {
  let k = kernels.get(sigma);
  if (!k) {
    k = gaussianKernel(sigma);
    if (kernels.size > 64) kernels.clear();
    kernels.set(sigma, k);
  }
  return k;
}

/**
 * One axis of the blur over `lines` lines of `n` cells (`stride` apart; line `l` starts at `l * lineStep`).
 * Every output is the sum over j = -r..r, in that order, of k[j + r] * src[reflect(p + j)], in double: the
 * interior (no reflection) reads its cells directly, only the `r` cells at each end go through `reflect`.
 */
function blurAxis(
  src: Float32Array,
  dst: Float32Array,
  lines: number,
  lineStep: number,
  n: number,
  stride: number,
  k: Float32Array,
): void {
  const r = (k.length - 1) / 2;
  for (let l = 0; l < lines; l++) {
    const base = l * lineStep;
    for (let p = 0; p < n; p++) {
      let s = 0;
      if (p - r >= 0 && p + r < n) {
        let at = base + (p - r) * stride;
        for (let t = 0; t < k.length; t++, at += stride) s += k[t] * src[at];
      } else {
        for (let j = -r; j <= r; j++) s += k[j + r] * src[base + reflect(p + j, n) * stride];
      }
      dst[base + p * stride] = s;
    }
  }
}

/**
 * Blurs `map` (`[height, width]`, row-major) with independent sigmas along rows and columns (in cells).
 * A sigma of 0 leaves that axis untouched. Returns a new array.
 */
export function gaussianBlur2d(
  map: Float32Array,
  height: number,
  width: number,
  sigmaY: number,
  sigmaX: number = sigmaY,
): Float32Array {
  if (map.length !== height * width) {
    throw new RangeError(`map has ${map.length} values but height * width = ${height} * ${width}`);
  }
  let src = map;
  if (sigmaX > 0) {
    // With both axes blurred, the first pass goes to a scratch reused from call to call (the live path blurs
    // a map per window); only the result is a new array.
    let dst: Float32Array;
    if (sigmaY > 0) {
      if (rowPass.length < map.length) rowPass = new Float32Array(map.length);
      dst = rowPass;
    } else dst = new Float32Array(map.length);
    blurAxis(src, dst, height, width, width, 1, cachedKernel(sigmaX));
    src = dst;
  }
  if (sigmaY > 0) {
    const dst = new Float32Array(map.length);
    blurAxis(src, dst, width, 1, height, width, cachedKernel(sigmaY));
    src = dst;
  }
  return src === map ? map.slice() : src;
}

/** The first pass of a blur along both axes (see {@link gaussianBlur2d}); never held across calls. */
let rowPass = new Float32Array(0);

/**
 * The blur of one axis of `n` cells as a matrix `[n, n]` (row-major, double): `out = B in` equals `blurAxis`
 * with the same sigma (reflected taps that land on one cell add up in its entry). Lets a caller fold the blur
 * into another linear map of the same axis (anomaly-map.ts folds it into the upsampling).
 */
export function blurMatrix(n: number, sigma: number): Float64Array {
  const b = new Float64Array(n * n);
  const k = cachedKernel(sigma);
  const r = (k.length - 1) / 2;
  for (let p = 0; p < n; p++) for (let j = -r; j <= r; j++) b[p * n + reflect(p + j, n)] += k[j + r];
  return b;
}
