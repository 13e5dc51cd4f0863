import { hzToMel, type MelParams } from '@hark/dsp';

/** Where a `[nMels, nFrames]` grid is drawn: its rectangle in the image, and its framing and mel bands. */
export interface PlotGeometry {
  x: number;
  y: number;
  width: number;
  height: number;
  nFrames: number;
  mel: Pick<
    MelParams,
    'sampleRate' | 'nFft' | 'hopLength' | 'nMels' | 'fMin' | 'fMax' | 'melScale' | 'center'
  >;
}

/** A tick: its pixel position along the axis and its label. */
export interface Tick {
  at: number;
  label: string;
}

/** x of the left edge of frame `frame` (fractional frames in between). */
export function xOfFrame(g: PlotGeometry, frame: number): number {
  return g.x + (frame * g.width) / g.nFrames;
}

/** y of the lower edge of mel band `band` (band 0 at the bottom). */
export function yOfBand(g: PlotGeometry, band: number): number {
  return g.y + g.height - (band * g.height) / g.mel.nMels;
}

/** The frame (fractional) whose centre is at `seconds`. */
export function frameAt(g: PlotGeometry, seconds: number): number {
  const { sampleRate, nFft, hopLength, center } = g.mel;
  return (seconds * sampleRate - (center ? 0 : nFft / 2)) / hopLength;
}

/**
 * The position of `hz` in units of mel filter edges: the filter edges are nMels + 2 points equally spaced in
 * mel from fMin (0) to fMax (nMels + 1), and band m spans edges m to m + 2 with its centre at edge m + 1.
 */
export function melEdgeAt(g: PlotGeometry, hz: number): number {
  const { fMin, fMax, nMels, melScale } = g.mel;
  const lo = hzToMel(fMin, melScale);
  return ((hzToMel(hz, melScale) - lo) / (hzToMel(fMax, melScale) - lo)) * (nMels + 1);
}

export function xOfSeconds(g: PlotGeometry, seconds: number): number {
  return xOfFrame(g, frameAt(g, seconds) + 0.5); // a frame's time is the middle of its column
}

export function yOfHz(g: PlotGeometry, hz: number): number {
  return yOfBand(g, melEdgeAt(g, hz) - 1 + 0.5); // band m is centred on edge m + 1
}

const TIME_STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];

/** Seconds at a round step at least `minSpacing` pixels apart, inside the plot. */
export function timeTicks(g: PlotGeometry, minSpacing = 80): Tick[] {
  const pxPerSecond = (g.width / g.nFrames) * (g.mel.sampleRate / g.mel.hopLength);
  const step = TIME_STEPS.find((s) => s * pxPerSecond >= minSpacing) ?? TIME_STEPS[TIME_STEPS.length - 1];
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks: Tick[] = [];
  for (let i = 0; ; i++) {
    const at = xOfSeconds(g, i * step);
    if (at > g.x + g.width) break;
    if (at >= g.x) ticks.push({ at, label: String(Number((i * step).toFixed(decimals))) });
  }
  return ticks;
}

// Round frequencies; on the mel scale (linear below 1 kHz, logarithmic above) the low ones spread out and
// the high ones crowd together, so ticks are kept greedily from the bottom while they stay apart.
const HZ_CANDIDATES = [
  0, 50, 100, 200, 250, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 16000, 20000,
  24000, 32000, 48000,
];

/** Round frequencies at least `minSpacing` pixels apart, inside the plot, lowest first. */
export function hzTicks(g: PlotGeometry, minSpacing = 28): Tick[] {
  const ticks: Tick[] = [];
  for (const hz of HZ_CANDIDATES) {
    if (hz < g.mel.fMin || hz > g.mel.fMax) continue;
    const at = yOfHz(g, hz);
    if (at < g.y || at > g.y + g.height) continue;
    if (ticks.length && ticks[ticks.length - 1].at - at < minSpacing) continue;
    ticks.push({ at, label: formatHz(hz) });
  }
  return ticks;
}

/** 500 -> '500', 1500 -> '1.5k', 16000 -> '16k'. */
export function formatHz(hz: number): string {
  return hz < 1000 ? String(Math.round(hz)) : `${Number((hz / 1000).toFixed(2))}k`;
}
