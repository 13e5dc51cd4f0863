/**
 * The history view's time range: presets, zoom and pan, kept before now, within a month back, and no
 * narrower than a few seconds. Pure, for tests without a browser.
 */

export interface TimeRange {
  from: number;
  to: number;
}

export const PRESETS = [
  { id: '1h', label: '1 h', ms: 3600_000 },
  { id: '24h', label: '24 h', ms: 24 * 3600_000 },
  { id: '7d', label: '7 d', ms: 7 * 24 * 3600_000 },
] as const;
export type PresetId = (typeof PRESETS)[number]['id'];

/** The narrowest view, ms: a few hundred full-resolution columns. */
export const MIN_SPAN_MS = 5000;
/**
 * The widest view and how far back a view may go, ms: a month, beyond the default 7-day retention (it is
 * configurable), so a 7-day view can still be panned; where nothing is stored the view is empty.
 */
export const MAX_SPAN_MS = 31 * 24 * 3600_000;

/** The last `preset` up to `now`. */
export function presetRange(id: PresetId, now: number): TimeRange {
  const p = PRESETS.find((x) => x.id === id)!;
  return { from: now - p.ms, to: now };
}

/** `r` moved and clamped into `[now - MAX_SPAN_MS, now]`, its span kept within the limits. */
export function clampRange(r: TimeRange, now: number): TimeRange {
  const span = Math.min(MAX_SPAN_MS, Math.max(MIN_SPAN_MS, r.to - r.from));
  let to = Math.min(now, Math.max(r.to, r.from + span));
  let from = to - span;
  const earliest = now - MAX_SPAN_MS;
  if (from < earliest) {
    from = earliest;
    to = from + span;
  }
  return { from, to };
}

/** Zooms by `factor` (< 1 zooms in) around the time at `fraction` (0 left, 1 right) of the view. */
export function zoomAround(r: TimeRange, fraction: number, factor: number, now: number): TimeRange {
  const at = r.from + fraction * (r.to - r.from);
  const span = (r.to - r.from) * factor;
  return clampRange({ from: at - fraction * span, to: at + (1 - fraction) * span }, now);
}

/** Moves the view by `fraction` of its span (positive: later). */
export function panBy(r: TimeRange, fraction: number, now: number): TimeRange {
  const d = fraction * (r.to - r.from);
  return clampRange({ from: r.from + d, to: r.to + d }, now);
}

/** The view between two fractions of the current one (a drag selection), in either order. */
export function selectFractions(r: TimeRange, a: number, b: number, now: number): TimeRange {
  const [lo, hi] = a < b ? [a, b] : [b, a];
  const span = r.to - r.from;
  return clampRange({ from: r.from + lo * span, to: r.from + hi * span }, now);
}

/** The viewer's time zone, e.g. `Europe/Berlin (UTC+01:00)`. */
export function timeZoneLabel(at: number, zone = Intl.DateTimeFormat().resolvedOptions().timeZone): string {
  const offset = -new Date(at).getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const a = Math.abs(offset);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  return `${zone} (UTC${sign}${hh}:${mm})`;
}

/** A `datetime-local` input's value for `t` in the viewer's time zone, and back. */
export function toLocalInput(t: number): string {
  const d = new Date(t - new Date(t).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}
export function fromLocalInput(value: string): number | null {
  const t = new Date(value).getTime();
  return Number.isFinite(t) ? t : null;
}

/**
 * Runs of consecutive columns (spaced `columnMs`, up to half a column of slack): `[first, end)` indices, so a
 * painter draws each run as one stretch and leaves the gaps empty.
 */
export function columnRuns(times: readonly number[], columnMs: number): [number, number][] {
  const runs: [number, number][] = [];
  let a = 0;
  for (let i = 1; i <= times.length; i++) {
    if (i < times.length && Math.abs(times[i] - times[i - 1] - columnMs) <= columnMs / 2) continue;
    if (i > a) runs.push([a, i]);
    a = i;
  }
  return runs;
}
