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
    const k = gaussianKernel(sigmaX);
    const r = (k.length - 1) / 2;
    const dst = new Float32Array(map.length);
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        let s = 0;
        for (let j = -r; j <= r; j++) s += k[j + r] * src[row + reflect(x + j, width)];
        dst[row + x] = s;
      }
    }
    src = dst;
  }
  if (sigmaY > 0) {
    const k = gaussianKernel(sigmaY);
    const r = (k.length - 1) / 2;
    const dst = new Float32Array(map.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let s = 0;
        for (let j = -r; j <= r; j++) s += k[j + r] * src[reflect(y + j, height) * width + x];
        dst[y * width + x] = s;
      }
    }
    src = dst;
  }
  return src === map ? map.slice() : src;
}
