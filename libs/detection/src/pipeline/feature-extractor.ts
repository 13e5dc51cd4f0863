/**
 * Log-mel windows to patch embeddings: each window (`[nMels, windowFrames]` dB) is resized to the backbone's
 * image size, scaled to its input range, run through the frozen backbone in batches, and its taps become
 * patch embeddings (3x3 average, deeper tap resized to the shallowest grid, concat; `patchEmbeddings`), then
 * optionally pooled to `embeddingDim` channels (adaptive average pooling over channels, as anomalib's
 * PatchCore does to reduce its embeddings).
 */
import { loadBackbone, toBackboneInput, type Backbone, type DbRange } from '../backbones/index.js';
import { patchEmbeddings, resizeBilinear } from '../components/feature-maps.js';
import type { PatchGrid } from '../method.js';
import type { DetectorConfig } from './config.js';
import { standardisedWindow, type InputScaling } from './input-scaling.js';

/** Embeddings of a batch of windows: `[nWindows, height * width, dim]` and the patch grid. */
export interface WindowEmbeddings {
  data: Float32Array;
  nWindows: number;
  grid: PatchGrid;
}

export class FeatureExtractor {
  private constructor(
    readonly config: DetectorConfig,
    readonly backbone: Backbone,
  ) {}

  /** Loads the configured backbone and taps (built once, then read from the cache). */
  static async create(config: DetectorConfig): Promise<FeatureExtractor> {
    return new FeatureExtractor(config, await loadBackbone(config.backbone, { taps: config.taps }));
  }

  /**
   * Embeds `windows` (each `[nMels, windowFrames]` dB) with `scaling`, `config.batchSize` windows per backbone
   * run. With `standardised` the windows are already levelled and standardised (`standardisedWindow`), as the
   * detector keeps them for its context memory. `onBatch(done, total)` after each batch.
   */
  async embed(
    windows: readonly Float32Array[],
    scaling: InputScaling,
    onBatch?: (done: number, total: number) => void,
    { standardised = false }: { standardised?: boolean } = {},
  ): Promise<WindowEmbeddings> {
    const { imageHeight: h, imageWidth: w, batchSize } = this.config;
    const parts: Float32Array[] = [];
    let grid: PatchGrid | null = null;
    for (let b = 0; b < windows.length; b += batchSize) {
      const batch = windows.slice(b, b + batchSize);
      const image = (win: Float32Array) =>
        this.image(standardised ? win : this.standardise(win, scaling), scaling);
      // One window (the live path) runs from its image as it is; a batch is packed.
      let x: Float32Array;
      if (batch.length === 1) x = image(batch[0]);
      else {
        x = new Float32Array(batch.length * h * w);
        batch.forEach((win, i) => x.set(image(win), i * h * w));
      }
      const taps = await this.backbone.run(x, batch.length, h, w);
      for (let i = 0; i < batch.length; i++) {
        const maps = taps.map(({ data, dims: [, c, th, tw] }) => ({
          data: data.subarray(i * c * th * tw, (i + 1) * c * th * tw),
          channels: c,
          height: th,
          width: tw,
        }));
        const e = patchEmbeddings(maps);
        const pooled = poolChannels(e.data, e.height * e.width, e.dim, this.config.embeddingDim);
        grid ??= { height: e.height, width: e.width, dim: pooled.dim };
        parts.push(pooled.data);
      }
      onBatch?.(Math.min(b + batchSize, windows.length), windows.length);
    }
    if (!grid) throw new Error('embed() needs at least one window');
    let data = parts[0];
    if (parts.length > 1) {
      data = new Float32Array(parts.length * parts[0].length);
      parts.forEach((p, i) => data.set(p, i * p.length));
    }
    return { data, nWindows: windows.length, grid };
  }

  /** A window levelled and standardised (`standardisedWindow`) with this extractor's config. */
  standardise(window: Float32Array, scaling: InputScaling): Float32Array {
    const { nMels } = this.config.mel;
    if (!Number.isInteger(window.length / nMels))
      throw new Error(`window has ${window.length} values, not a multiple of nMels (${nMels})`);
    return standardisedWindow(window, nMels, this.config, scaling);
  }

  /** A standardised window as the backbone's input `[imageHeight, imageWidth]`. */
  image(std: Float32Array, scaling: InputScaling): Float32Array {
    const { mel, imageHeight, imageWidth } = this.config;
    const img = resizeBilinear(
      { data: std, channels: 1, height: mel.nMels, width: std.length / mel.nMels },
      imageHeight,
      imageWidth,
    ).data;
    if (this.config.backbone === 'speech') return speechInput(img, scaling.range);
    // Scaled in place when the resize made a new array (not when it returned the window itself).
    return toBackboneInput(img, scaling.range, img === std ? undefined : img);
  }

  release(): Promise<void> {
    return this.backbone.release();
  }
}

/**
 * The speech network was trained on openWakeWord's log-mel scaled x / 10 + 2, whose values span about
 * [0, 4] on ordinary recordings: the training dB range is mapped linearly onto that span.
 */
function speechInput(db: Float32Array, range: DbRange): Float32Array {
  const out = new Float32Array(db.length);
  const scale = 4 / (range.max - range.min);
  for (let i = 0; i < db.length; i++) out[i] = Math.min(5, Math.max(-1, (db[i] - range.min) * scale));
  return out;
}

/**
 * Adaptive average pooling of each row of `x` (`[n, dim]`) to `outDim` channels (torch `adaptive_avg_pool1d`
 * bins: [floor(i * dim / outDim), ceil((i + 1) * dim / outDim))). `outDim` 0 or >= dim returns `x`.
 */
export function poolChannels(
  x: Float32Array,
  n: number,
  dim: number,
  outDim: number,
): { data: Float32Array; dim: number } {
  if (outDim === 0 || outDim >= dim) return { data: x, dim };
  const lo = Int32Array.from({ length: outDim }, (_, i) => Math.floor((i * dim) / outDim));
  const hi = Int32Array.from({ length: outDim }, (_, i) => Math.ceil(((i + 1) * dim) / outDim));
  const out = new Float32Array(n * outDim);
  for (let p = 0; p < n; p++) {
    const row = p * dim;
    for (let i = 0; i < outDim; i++) {
      let s = 0;
      for (let j = lo[i]; j < hi[i]; j++) s += x[row + j];
      out[p * outDim + i] = s / (hi[i] - lo[i]);
    }
  }
  return { data: out, dim: outDim };
}
