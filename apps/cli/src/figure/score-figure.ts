import type { MelParams } from '@hark/dsp';
import {
  blend,
  dbScale,
  GREY_RGB,
  heatmap,
  MAGMA_RGB,
  type AnomalyBox,
  type ColourScale,
  type RgbaImage,
} from '@hark/detection';
import { frameAt, hzTicks, melEdgeAt, timeTicks, xOfFrame, yOfBand, type PlotGeometry } from './axes.js';
import { BLACK, Canvas, WHITE, type Rgb } from './canvas.js';
import { textWidth } from './font.js';

/** What `hark score --png` draws: a clip's log-mel spectrogram and its normalised anomaly map (1 = threshold). */
export interface ScoreFigureInput {
  /** Title: the file's name. */
  title: string;
  spectrogram: { data: Float32Array; nMels: number; nFrames: number; params: MelParams };
  result: {
    /** `[nMels, nFrames]`, normalised so 1.0 is the alert threshold. */
    map: Float32Array;
    normalised: number;
    overThreshold: boolean;
    boxes: readonly AnomalyBox[];
  };
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ScoreFigure {
  image: RgbaImage;
  plot: PlotGeometry;
  /** The colour bars: spectrogram dB, and the overlay's score (bottom 0, top OVERLAY_TOP). */
  legends: { spectrogram: Rect; anomaly: Rect };
  /** Each box's rectangle in the image, in the order of `result.boxes`. */
  boxes: Rect[];
}

// The plot is at least 840 x 384 pixels (whole pixels per frame and per mel band, so cells stay crisp), which
// with the axes and legends makes the picture over 1000 pixels wide; clips over 2400 frames are max-pooled
// to 2400 columns (a maximum keeps short anomalies visible).
const MIN_PLOT_WIDTH = 840;
const MAX_PLOT_WIDTH = 2400;
const MIN_PLOT_HEIGHT = 384;
const MAX_PLOT_HEIGHT = 768;
const LEFT = 72;
const TOP = 56;
const BAR_GAP = 28;
const TEXT = 14; // text height at scale 2
const AXIS_GREY: Rgb = [90, 90, 90];

/**
 * The overlay's scores: one fixed scale for every clip, so a colour means the same score in every picture.
 * Below the threshold the colour stays faint (at most 15 % opaque: normal texture scores 0.5-0.9 all over a
 * clip and must not tint it); at the threshold it steps to 45 %, so any anomaly shows whatever its strength;
 * from 3x the threshold (a clear alarm) it is 75 % opaque, so the spectrogram stays visible beneath even a
 * broadband anomaly.
 */
export const OVERLAY_FROM = 0.5;
export const OVERLAY_TOP = 3;
export function overlayAlpha(score: number): number {
  if (!(score > OVERLAY_FROM)) return 0;
  if (score < 1) return (0.15 * (score - OVERLAY_FROM)) / (1 - OVERLAY_FROM);
  return Math.min(0.75, 0.45 + (0.3 * (score - 1)) / (OVERLAY_TOP - 1));
}

/**
 * Overlay colours: magma from magenta (score 0.5) to salmon (score 3). Its darkest and palest ends are left
 * out because they vanish on the black and white of a grey spectrogram.
 */
const OVERLAY_RGB = Uint8Array.from({ length: 768 }, (_, i) => {
  const at = 90 + Math.round(((200 - 90) * Math.floor(i / 3)) / 255);
  return MAGMA_RGB[3 * at + (i % 3)];
});
const OVERLAY_SCALE: ColourScale = { vmin: OVERLAY_FROM, vmax: OVERLAY_TOP, colormap: OVERLAY_RGB };
/** Box outlines: cyan, which neither grey nor the overlay's colours contain, edged in black. */
export const BOX_RGB: Rgb = [0, 229, 255];

/** `[rows, cols]` resized to `[outRows, outCols]`: the largest value of each block (nearest when enlarging). */
export function maxPool(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  outRows: number,
  outCols: number,
): Float32Array {
  const span = (i: number, n: number, out: number) => {
    const lo = Math.floor((i * n) / out);
    return [lo, Math.max(lo + 1, Math.floor(((i + 1) * n) / out))];
  };
  const colSpans = Array.from({ length: outCols }, (_, c) => span(c, cols, outCols));
  const out = new Float32Array(outRows * outCols);
  for (let r = 0; r < outRows; r++) {
    const [r0, r1] = span(r, rows, outRows);
    for (let c = 0; c < outCols; c++) {
      const [c0, c1] = colSpans[c];
      let best = -Infinity;
      for (let rr = r0; rr < r1; rr++)
        for (let cc = c0; cc < c1; cc++) if (data[rr * cols + cc] > best) best = data[rr * cols + cc];
      out[r * outCols + c] = best === -Infinity ? Number.NaN : best;
    }
  }
  return out;
}

function plotSize(nFrames: number, nMels: number): [number, number] {
  const size = (n: number, min: number, max: number) =>
    n > max ? max : n * Math.max(1, Math.ceil(min / Math.max(1, n)));
  return [size(nFrames, MIN_PLOT_WIDTH, MAX_PLOT_WIDTH), size(nMels, MIN_PLOT_HEIGHT, MAX_PLOT_HEIGHT)];
}

/** The spectrogram in grey with the anomaly score over it in colour, by alpha. */
function plotImage(input: ScoreFigureInput, width: number, height: number): RgbaImage {
  const { spectrogram: s, result: r } = input;
  const spec = maxPool(s.data, s.nMels, s.nFrames, height, width);
  const map = maxPool(r.map, s.nMels, s.nFrames, height, width);
  const base = heatmap({ rows: height, cols: width, data: spec }, { ...dbScale(s.data), colormap: GREY_RGB });
  const top = heatmap({ rows: height, cols: width, data: map }, OVERLAY_SCALE);
  const alpha = new Float32Array(width * height);
  for (let row = 0; row < height; row++) {
    const y = height - 1 - row; // heatmap draws row 0 (the lowest band) at the bottom
    for (let x = 0; x < width; x++) alpha[y * width + x] = overlayAlpha(map[row * width + x]);
  }
  return blend(base, top, alpha);
}

/** The rectangle of `box` in the plot: whole frames and mel bands, as the detector found them. */
export function boxRect(g: PlotGeometry, box: AnomalyBox): Rect {
  const t0 = Math.round(frameAt(g, box.onset));
  const t1 = Math.round(frameAt(g, box.offset)) + 1;
  const m0 = Math.round(melEdgeAt(g, box.lowHz)); // lowHz is the lower edge of the lowest band
  const m1 = Math.round(melEdgeAt(g, box.highHz)) - 1; // highHz is the upper edge of the highest band
  const x = Math.floor(xOfFrame(g, t0));
  const y = Math.floor(yOfBand(g, m1));
  return { x, y, width: Math.ceil(xOfFrame(g, t1)) - x, height: Math.ceil(yOfBand(g, m0)) - y };
}

function drawAxes(c: Canvas, g: PlotGeometry): void {
  const bottom = g.y + g.height;
  c.outline(g.x - 1, g.y - 1, g.width + 2, g.height + 2, BLACK);
  for (const t of timeTicks(g)) {
    c.fill(Math.round(t.at), bottom + 1, 1, 6, BLACK);
    c.text(t.label, t.at, bottom + 10, BLACK, { align: 'centre' });
  }
  c.text('time (s)', g.x + g.width / 2, bottom + 32, BLACK, { align: 'centre' });
  for (const t of hzTicks(g)) {
    c.fill(g.x - 7, Math.round(t.at), 6, 1, BLACK);
    c.text(t.label, g.x - 10, Math.round(t.at) - TEXT / 2, BLACK, { align: 'right' });
  }
  c.text('Hz', g.x - 10, g.y - 26, BLACK, { align: 'right' });
}

/** A vertical colour bar at `bar`, bottom = `lo`, top = `hi`, with `ticks` (values) labelled on its right. */
function colourBar(
  c: Canvas,
  bar: Rect,
  title: string,
  lo: number,
  hi: number,
  ticks: readonly { value: number; label: string }[],
  colour: (value: number, x: number) => Rgb,
): void {
  for (let y = 0; y < bar.height; y++) {
    const value = hi - ((y + 0.5) / bar.height) * (hi - lo);
    for (let x = 0; x < bar.width; x++) c.fill(bar.x + x, bar.y + y, 1, 1, colour(value, x));
  }
  c.outline(bar.x - 1, bar.y - 1, bar.width + 2, bar.height + 2, BLACK);
  c.text(title, bar.x, bar.y - 26, BLACK);
  for (const t of ticks) {
    const y = Math.round(bar.y + ((hi - t.value) / (hi - lo)) * bar.height);
    c.fill(bar.x + bar.width + 1, y, 5, 1, BLACK);
    c.text(t.label, bar.x + bar.width + 9, y - TEXT / 2, BLACK);
  }
}

function dbTicks(lo: number, hi: number, height: number): { value: number; label: string }[] {
  const step = [5, 10, 20, 40].find((s) => (s / (hi - lo)) * height >= 28) ?? 40;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) ticks.push({ value: v, label: String(v) });
  return ticks;
}

function drawLegends(c: Canvas, input: ScoreFigureInput, spectrogram: Rect, anomaly: Rect): void {
  const { vmin, vmax } = dbScale(input.spectrogram.data);
  colourBar(c, spectrogram, 'dB', vmin, vmax, dbTicks(vmin, vmax, spectrogram.height), (v) => {
    const i = 3 * Math.round(255 * Math.min(1, Math.max(0, (v - vmin) / (vmax - vmin))));
    return [GREY_RGB[i], GREY_RGB[i + 1], GREY_RGB[i + 2]];
  });
  // The overlay as it looks over the darkest (left half) and the brightest (right half) spectrogram.
  const scoreTicks = [0, 0.5, 1, 2, 3].map((v) => ({
    value: v,
    label: v === OVERLAY_TOP ? '3+' : String(v),
  }));
  colourBar(c, anomaly, 'score', 0, OVERLAY_TOP, scoreTicks, (v, x) => {
    const under = x < anomaly.width / 2 ? 0 : 255;
    const a = overlayAlpha(v);
    const i =
      3 * Math.round(255 * Math.min(1, Math.max(0, (v - OVERLAY_FROM) / (OVERLAY_TOP - OVERLAY_FROM))));
    const mix = (ch: number) => Math.round(under * (1 - a) + OVERLAY_RGB[i + ch] * a);
    return [mix(0), mix(1), mix(2)];
  });
  const y = Math.round(anomaly.y + ((OVERLAY_TOP - 1) / OVERLAY_TOP) * anomaly.height);
  c.outline(anomaly.x - 4, y - 1, anomaly.width + 8, 3, BLACK);
  c.fill(anomaly.x - 3, y, anomaly.width + 6, 1, WHITE);
}

/** `r` grown by `d` pixels on every side, then cut to the plot, so outlines at the plot's edges stay inside it. */
function around(r: Rect, d: number, g: PlotGeometry): Rect {
  const x = Math.max(g.x, r.x - d);
  const y = Math.max(g.y, r.y - d);
  const right = Math.min(g.x + g.width, r.x + r.width + d);
  const bottom = Math.min(g.y + g.height, r.y + r.height + d);
  return { x, y, width: right - x, height: bottom - y };
}

function drawBoxes(c: Canvas, g: PlotGeometry, boxes: readonly AnomalyBox[]): Rect[] {
  const rects = boxes.map((b) => boxRect(g, b));
  for (let i = boxes.length - 1; i >= 0; i--) {
    const r = rects[i];
    const dash = boxes[i].overThreshold ? 0 : 6;
    // Outside the region's cells (3 px away), so the score colours inside stay visible; black edges on both
    // sides keep the cyan readable over white.
    const line = (d: number, colour: Rgb, thickness: number) => {
      const a = around(r, d, g);
      c.outline(a.x, a.y, a.width, a.height, colour, thickness, dash);
    };
    line(4, BLACK, 1);
    line(3, BOX_RGB, 2);
    line(1, BLACK, 1);
    // The peak score above the box, or below it when the box touches the top of the plot.
    const label = boxes[i].peak.toFixed(2);
    const y =
      r.y - TEXT - 8 >= g.y ? r.y - TEXT - 8 : Math.min(r.y + r.height + 8, g.y + g.height - TEXT - 2);
    const x = Math.max(g.x + 2, Math.min(r.x - 2, g.x + g.width - textWidth(label, 2) - 2)); // inside the plot
    c.text(label, x, y, BOX_RGB, { background: BLACK });
  }
  return rects;
}

/**
 * The picture of a scored clip: the spectrogram in grey, the anomaly score over it in colour (alpha by score),
 * the regions boxed with their peak scores, time (s) and frequency (Hz, on the mel axis) ticks, colour bars for
 * both maps, and a title with the clip's decision.
 */
export function scoreFigure(input: ScoreFigureInput): ScoreFigure {
  const { spectrogram: s, result: r } = input;
  const [width, height] = plotSize(s.nFrames, s.nMels);
  const plot: PlotGeometry = { x: LEFT, y: TOP, width, height, nFrames: s.nFrames, mel: s.params };
  const spectrogramBar = { x: plot.x + width + BAR_GAP, y: TOP, width: 18, height };
  const anomalyBar = { x: spectrogramBar.x + 100, y: TOP, width: 24, height };
  const c = new Canvas(anomalyBar.x + 90, TOP + height + 100);
  const decision = r.overThreshold ? 'ANOMALY' : 'normal';
  c.text(`${input.title}: ${decision}, score ${r.normalised.toFixed(2)} x threshold`, LEFT, 10, BLACK);
  c.put(plotImage(input, width, height), plot.x, plot.y);
  const boxes = drawBoxes(c, plot, r.boxes);
  drawAxes(c, plot);
  drawLegends(c, input, spectrogramBar, anomalyBar);
  const notes = TOP + height + 56;
  c.text('score = anomaly / threshold: over 1 is anomalous', LEFT, notes, AXIS_GREY);
  c.text('boxes: regions with their peak score (dashed: below 1)', LEFT, notes + 22, AXIS_GREY);
  return { image: c.image, plot, legends: { spectrogram: spectrogramBar, anomaly: anomalyBar }, boxes };
}
