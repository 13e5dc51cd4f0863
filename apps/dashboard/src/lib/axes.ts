/**
 * Axis helpers. Mel bins are not linear in Hz: the frequency axis of a spectrogram runs over bin positions
 * (bin i spans `[i, i + 1]`, its centre frequency `melHz[i]` at `i + 0.5`) and is labelled with round Hz
 * values placed where they fall between the bin centres.
 */

export interface FrequencyTick {
  /** Position on the bin axis. */
  value: number;
  hz: number;
  label: string;
}

const NICE = [1, 2, 5];

/** `1500` -> `1.5 kHz`, `200` -> `200 Hz`. */
export function formatHz(hz: number): string {
  if (hz >= 1000) {
    const k = hz / 1000;
    return `${Number.isInteger(k) ? k : k.toFixed(k < 10 ? 1 : 0)} kHz`;
  }
  return `${Math.round(hz)} Hz`;
}

/** Position on the bin axis of a frequency (linear between bin centres, clamped to the axis). */
export function hzToBin(melHz: readonly number[], hz: number): number {
  const n = melHz.length;
  if (n === 0) return 0;
  if (n === 1 || hz <= melHz[0]) {
    if (n === 1) return 0.5;
    const below = (melHz[0] - hz) / (melHz[1] - melHz[0]);
    return Math.max(0, 0.5 - below);
  }
  if (hz >= melHz[n - 1]) {
    const above = (hz - melHz[n - 1]) / (melHz[n - 1] - melHz[n - 2]);
    return Math.min(n, n - 0.5 + above);
  }
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (melHz[mid] <= hz) lo = mid;
    else hi = mid;
  }
  return lo + 0.5 + (hz - melHz[lo]) / (melHz[hi] - melHz[lo]);
}

/** Frequency (Hz) at a position on the bin axis: the inverse of `hzToBin` inside the bin centres. */
export function binToHz(melHz: readonly number[], pos: number): number {
  const n = melHz.length;
  if (n === 0) return 0;
  if (n === 1) return melHz[0];
  const x = Math.min(n - 1, Math.max(0, pos - 0.5));
  const i = Math.min(n - 2, Math.floor(x));
  return melHz[i] + (melHz[i + 1] - melHz[i]) * (x - i);
}

/**
 * Round-number frequency ticks (1-2-5 steps per decade) inside the bins, at least `minGap` bins apart so
 * labels never collide; the low end of a mel axis is sparse in Hz, the high end dense.
 */
export function melTicks(melHz: readonly number[], minGap = 4): FrequencyTick[] {
  const n = melHz.length;
  if (n < 2) return [];
  const lo = melHz[0];
  const hi = melHz[n - 1];
  const candidates: number[] = [];
  for (let decade = 10; decade <= 1e6; decade *= 10) {
    for (const m of NICE) {
      const hz = m * decade;
      if (hz >= lo && hz <= hi) candidates.push(hz);
    }
  }
  const ticks: FrequencyTick[] = [];
  let last = -Infinity;
  // Prefer keeping the high ticks when they crowd: walk from the top.
  for (let i = candidates.length - 1; i >= 0; i--) {
    const value = hzToBin(melHz, candidates[i]);
    if (last - value >= minGap || ticks.length === 0) {
      ticks.push({ value, hz: candidates[i], label: formatHz(candidates[i]) });
      last = value;
    }
  }
  return ticks.reverse();
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Wall-clock `HH:MM:SS` in the browser's time zone (or UTC for tests). */
export function formatClock(t: number, utc = false): string {
  const d = new Date(t);
  return utc
    ? `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
    : `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `YYYY-MM-DD HH:MM:SS`. */
export function formatDateTime(t: number, utc = false): string {
  const d = new Date(t);
  const date = utc
    ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date} ${formatClock(t, utc)}`;
}

/** `95` -> `1 min 35 s`, `4` -> `4.0 s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  if (m < 60) return s ? `${m} min ${s} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

/** Evenly spaced wall-clock ticks on whole 1-2-5-10-15-30 s / 1-2-5-10-15-30 min steps, about `target` of them. */
export function timeTicks(from: number, to: number, target = 6): number[] {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((s) => s * 1000);
  const span = to - from;
  if (!(span > 0)) return [];
  const step = steps.find((s) => span / s <= target) ?? steps[steps.length - 1];
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}
