/**
 * Operations on feature maps stored as `[channels, height, width]` row-major Float32Arrays (one image of an
 * NCHW batch). Semantics follow torch: `avgPool3x3` is `AvgPool2d(3, 1, 1)` (zero padding counted, as
 * anomalib's feature pooler), `resizeBilinear` is `F.interpolate(mode='bilinear', align_corners=False)`.
 */
export interface FeatureMap {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** 3x3 local average with stride 1 and zero padding (divisor always 9), per channel. */
export function avgPool3x3(m: FeatureMap): FeatureMap {
  const out = new Float32Array(m.data.length);
  avgPool3x3Into(m, out);
  return { data: out, channels: m.channels, height: m.height, width: m.width };
}

/** {@link avgPool3x3} written into `out` (at least `data.length` values). */
function avgPool3x3Into(m: FeatureMap, out: Float32Array): void {
  const { channels: c, height: h, width: w, data } = m;
  for (let ch = 0; ch < c; ch++) {
    const base = ch * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= h) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx >= 0 && xx < w) s += data[base + yy * w + xx];
          }
        }
        out[base + y * w + x] = s / 9;
      }
    }
  }
}

/** Source coordinate and weights for align_corners=False bilinear sampling along one axis. */
export function axisTaps(
  outSize: number,
  inSize: number,
): { i0: Int32Array; i1: Int32Array; w1: Float32Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(0, (o + 0.5) * scale - 0.5);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[o] = lo;
    i1[o] = Math.min(lo + 1, inSize - 1);
    w1[o] = src - lo;
  }
  return { i0, i1, w1 };
}

/** Bilinear resize of every channel to `[height, width]`. */
export function resizeBilinear(m: FeatureMap, height: number, width: number): FeatureMap {
  if (m.height === height && m.width === width) return m;
  const ty = axisTaps(height, m.height);
  const tx = axisTaps(width, m.width);
  const out = new Float32Array(m.channels * height * width);
  const inPlane = m.height * m.width;
  for (let ch = 0; ch < m.channels; ch++) {
    const src = ch * inPlane;
    const dst = ch * height * width;
    for (let y = 0; y < height; y++) {
      const r0 = src + ty.i0[y] * m.width;
      const r1 = src + ty.i1[y] * m.width;
      const wy = ty.w1[y];
      for (let x = 0; x < width; x++) {
        const a = m.data[r0 + tx.i0[x]] * (1 - tx.w1[x]) + m.data[r0 + tx.i1[x]] * tx.w1[x];
        const b = m.data[r1 + tx.i0[x]] * (1 - tx.w1[x]) + m.data[r1 + tx.i1[x]] * tx.w1[x];
        out[dst + y * width + x] = a * (1 - wy) + b * wy;
      }
    }
  }
  return { data: out, channels: m.channels, height, width };
}

/**
 * Pooled taps between calls: the live path embeds every window of every sensor, and a fresh array per tap and
 * window (hundreds of KB) is garbage for the event loop's collector. Only {@link patchEmbeddings} uses it, and
 * never across an await, so one is enough.
 */
let pooledScratch = new Float32Array(0);

/**
 * Patch embeddings from several taps: each tap is 3x3-averaged, resized to the grid of the first (shallowest)
 * tap, and the channels are concatenated. Returns `[height * width, sum(channels)]` row-major: one row per
 * patch, patches in row-major grid order (row = frequency, column = time).
 *
 * The same values as `resizeBilinear(avgPool3x3(tap))` transposed into the rows (each value is computed by the
 * same float operations and stored once), without the intermediate maps: the pooled tap goes to a reused
 * scratch and the resize writes straight into the rows.
 */
export function patchEmbeddings(taps: readonly FeatureMap[]): {
  data: Float32Array;
  dim: number;
  height: number;
  width: number;
} {
  if (taps.length === 0) throw new RangeError('patchEmbeddings needs at least one feature map');
  const { height, width } = taps[0];
  const dim = taps.reduce((s, m) => s + m.channels, 0);
  const n = height * width;
  const out = new Float32Array(n * dim);
  let offset = 0;
  for (const t of taps) {
    if (pooledScratch.length < t.data.length) pooledScratch = new Float32Array(t.data.length);
    const pooled = pooledScratch;
    avgPool3x3Into(t, pooled);
    if (t.height === height && t.width === width) {
      for (let ch = 0; ch < t.channels; ch++) {
        const plane = ch * n;
        for (let p = 0; p < n; p++) out[p * dim + offset + ch] = pooled[plane + p];
      }
    } else resizeIntoRows(pooled, t, height, width, out, dim, offset);
    offset += t.channels;
  }
  return { data: out, dim, height, width };
}

/**
 * `resizeBilinear` of `data` (shaped as `m`) to `[height, width]`, each value written to
 * `out[(y * width + x) * dim + offset + ch]` instead of its plane: the same expression, rounded to float once.
 */
function resizeIntoRows(
  data: Float32Array,
  m: FeatureMap,
  height: number,
  width: number,
  out: Float32Array,
  dim: number,
  offset: number,
): void {
  const ty = axisTaps(height, m.height);
  const tx = axisTaps(width, m.width);
  const inPlane = m.height * m.width;
  for (let ch = 0; ch < m.channels; ch++) {
    const src = ch * inPlane;
    for (let y = 0; y < height; y++) {
      const r0 = src + ty.i0[y] * m.width;
      const r1 = src + ty.i1[y] * m.width;
      const wy = ty.w1[y];
      let at = y * width * dim + offset + ch;
      for (let x = 0; x < width; x++, at += dim) {
        const a = data[r0 + tx.i0[x]] * (1 - tx.w1[x]) + data[r0 + tx.i1[x]] * tx.w1[x];
        const b = data[r1 + tx.i0[x]] * (1 - tx.w1[x]) + data[r1 + tx.i1[x]] * tx.w1[x];
        out[at] = a * (1 - wy) + b * wy;
      }
    }
  }
}
