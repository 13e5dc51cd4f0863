import type { RgbaImage } from '@hark/detection';
import { GLYPH_HEIGHT, rasterise, textWidth } from './font.js';

export type Rgb = readonly [number, number, number];

export const BLACK: Rgb = [0, 0, 0];
export const WHITE: Rgb = [255, 255, 255];

export interface TextOptions {
  /** Image pixels per font pixel (default 2: 10x14-pixel characters). */
  scale?: number;
  /** Which point of the text (x, y) is: its left, centre or right end; y is always the top. */
  align?: 'left' | 'centre' | 'right';
  /** A box of this colour behind the text, one font pixel wider all round. */
  background?: Rgb;
}

/**
 * An opaque RGBA drawing surface for figures: rectangles, outlines, text in the 5x7 font and pasted images.
 * Everything is clipped to the canvas, so callers may draw partly outside it.
 */
export class Canvas {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = WHITE,
  ) {
    this.data = new Uint8Array(width * height * 4);
    this.fill(0, 0, width, height, background);
  }

  get image(): RgbaImage {
    return { width: this.width, height: this.height, data: this.data };
  }

  /** The colour at (x, y). */
  at(x: number, y: number): Rgb {
    const i = 4 * (y * this.width + x);
    return [this.data[i], this.data[i + 1], this.data[i + 2]];
  }

  fill(x: number, y: number, w: number, h: number, c: Rgb): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) {
        const i = 4 * (yy * this.width + xx);
        [this.data[i], this.data[i + 1], this.data[i + 2], this.data[i + 3]] = [c[0], c[1], c[2], 255];
      }
    }
  }

  /**
   * The outline of the rectangle [x, x + w) x [y, y + h), `thickness` pixels drawn inwards; with `dash` > 0,
   * dashes and gaps of `dash` pixels.
   */
  outline(x: number, y: number, w: number, h: number, c: Rgb, thickness = 1, dash = 0): void {
    const t = thickness;
    const on = (i: number) => dash === 0 || Math.floor(i / dash) % 2 === 0;
    for (let i = 0; i < w; i++) {
      if (!on(i)) continue;
      this.fill(x + i, y, 1, t, c);
      this.fill(x + i, y + h - t, 1, t, c);
    }
    for (let i = 0; i < h; i++) {
      if (!on(i)) continue;
      this.fill(x, y + i, t, 1, c);
      this.fill(x + w - t, y + i, t, 1, c);
    }
  }

  /** Copies `image` with its top-left corner at (x, y). */
  put(image: RgbaImage, x: number, y: number): void {
    for (let yy = 0; yy < image.height; yy++) {
      const ty = y + yy;
      if (ty < 0 || ty >= this.height) continue;
      for (let xx = 0; xx < image.width; xx++) {
        const tx = x + xx;
        if (tx < 0 || tx >= this.width) continue;
        const from = 4 * (yy * image.width + xx);
        this.data.set(image.data.subarray(from, from + 4), 4 * (ty * this.width + tx));
      }
    }
  }

  /** Draws `text` with its top at y; returns the width drawn. */
  text(text: string, x: number, y: number, c: Rgb, o: TextOptions = {}): number {
    const scale = o.scale ?? 2;
    const w = textWidth(text, scale);
    const left = Math.round(o.align === 'right' ? x - w : o.align === 'centre' ? x - w / 2 : x);
    if (o.background)
      this.fill(left - scale, y - scale, w + 2 * scale, (GLYPH_HEIGHT + 2) * scale, o.background);
    rasterise(text, scale, (dx, dy, size) => this.fill(left + dx, y + dy, size, size, c));
    return w;
  }
}
