/**
 * Mirrors a `ColumnRing` into two offscreen canvases (spectrogram, anomaly), one pixel per slot and mel
 * bin, painting only the slots written since the last call; then draws them, oldest to newest, into the
 * visible canvases. No chart re-render is involved: this is the scrolling part of the live view.
 */
import { anomalyLut, packRgba, spectrogramLut, type SpectrogramMap } from '../lib/colormap';
import { hatchUnscored, paintColumns } from '../lib/paint';
import { chronologicalRuns, newestRuns, type ColumnRing } from '../lib/ring';

export interface PaintStyle {
  map: SpectrogramMap;
  anomaly: 'overlay' | 'heatmap';
  anomalyScale: number;
  /** Hatch unscored columns (off for a sensor without a model: nothing of it is scored). */
  hatch: boolean;
}

/** Stripes over unscored columns: light grey, half transparent (visible on the overlay and the heatmap). */
const HATCH = packRgba(200, 200, 200, 140);

export class RingPainter {
  readonly spec: HTMLCanvasElement;
  readonly anom: HTMLCanvasElement;
  private readonly specCtx: CanvasRenderingContext2D;
  private readonly anomCtx: CanvasRenderingContext2D;
  private painted = 0;
  private styleKey = '';

  constructor(readonly ring: ColumnRing) {
    this.spec = document.createElement('canvas');
    this.anom = document.createElement('canvas');
    for (const c of [this.spec, this.anom]) {
      c.width = ring.capacity;
      c.height = ring.nMels;
    }
    this.specCtx = this.spec.getContext('2d') as CanvasRenderingContext2D;
    this.anomCtx = this.anom.getContext('2d') as CanvasRenderingContext2D;
  }

  /** Paints what changed; returns whether anything did. */
  update(style: PaintStyle): boolean {
    const key = `${style.map}:${style.anomaly}:${style.anomalyScale}:${style.hatch}`;
    const ring = this.ring;
    let runs;
    if (key !== this.styleKey) {
      this.styleKey = key;
      runs = [{ start: 0, length: ring.capacity }];
    } else {
      const fresh = ring.writes - this.painted;
      if (fresh <= 0) return false;
      runs = newestRuns(ring.head, ring.capacity, fresh);
    }
    this.painted = ring.writes;
    const specLut = spectrogramLut(style.map);
    const anomLut = anomalyLut(style.anomalyScale, style.anomaly);
    for (const { start, length } of runs) {
      this.paintRun(this.specCtx, ring.spectrogram, specLut, start, length);
      this.paintRun(this.anomCtx, ring.anomaly, anomLut, start, length, style.hatch);
    }
    return true;
  }

  /** Whether the slot under horizontal fraction `f` (0 = left, oldest) of the drawn chart was scored. */
  scoredAt(f: number): boolean {
    const { capacity, head } = this.ring;
    const i = Math.min(capacity - 1, Math.max(0, Math.floor(f * capacity)));
    return this.ring.scored[(head + i) % capacity] !== 0;
  }

  private paintRun(
    ctx: CanvasRenderingContext2D,
    bytes: Uint8Array,
    lut: Uint32Array,
    start: number,
    length: number,
    hatch = false,
  ) {
    const n = this.ring.nMels;
    const image = ctx.createImageData(length, n);
    const pixels = new Uint32Array(image.data.buffer);
    paintColumns(bytes, n, start, length, lut, pixels, length, 0);
    if (hatch) hatchUnscored(this.ring.scored, n, start, length, HATCH, pixels, length, 0);
    ctx.putImageData(image, start, 0);
  }

  /** Draws one offscreen canvas, oldest slot at the left, into `target` scaled to its size. */
  drawInto(target: HTMLCanvasElement, which: 'spec' | 'anom', clear: boolean): void {
    const ctx = target.getContext('2d');
    if (!ctx) return;
    const { capacity, nMels, head, count } = this.ring;
    if (clear) ctx.clearRect(0, 0, target.width, target.height);
    if (count === 0) return;
    ctx.imageSmoothingEnabled = true;
    const src = which === 'spec' ? this.spec : this.anom;
    const scale = target.width / capacity;
    for (const [from, to, length] of chronologicalRuns(head, capacity)) {
      ctx.drawImage(src, from, 0, length, nMels, to * scale, 0, length * scale, target.height);
    }
  }
}
