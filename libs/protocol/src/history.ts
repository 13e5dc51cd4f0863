/**
 * `GET /api/sensors/:id/history`: a sensor's stored spectrogram and anomaly map over a time range, at the
 * resolution the range allows, with the alerts of the range.
 */
import type { AlertKind, AlertState } from './contracts.js';

/** Default and largest `maxColumns` of a history request. */
export const HISTORY_DEFAULT_COLUMNS = 1500;
export const HISTORY_MAX_COLUMNS = 8000;

/**
 * Which stored resolution answered: every log-mel column (`full`), the max over each reduce window
 * (`reduced`, 0.5 s by default) or over windows 60 times wider (`coarse`, for ranges of many hours).
 */
export type HistoryTierName = 'full' | 'reduced' | 'coarse';

/** An alert on the history's time line (open it with `GET /api/alerts/:id`). */
export interface HistoryAlertMark {
  id: number;
  kind: AlertKind;
  state: AlertState;
  start: number;
  end: number | null;
  peakScore: number;
  peakAt: number;
}

export interface SensorHistory {
  sensorId: string;
  /** The range asked for, ms since the epoch. */
  from: number;
  to: number;
  tier: HistoryTierName;
  /** Spacing of the tier's stored columns, ms. */
  tierHopMs: number;
  /** Width of each returned column, ms (the tier's hop, or more when the range was downsampled). */
  columnMs: number;
  /** Start of each returned column, ms, ascending; time without stored columns has none. */
  times: number[];
  nMels: number;
  /**
   * Centre frequency (Hz) of each of the `nMels` bands, from the sensor's analysis layout (as `ColumnsEvent`'s
   * `melHz`); empty when unknown (the sensor's layout is not known, or has another band count than the stored
   * columns).
   */
  melHz: number[];
  /** Byte scales as in `ColumnsEvent`: spectrogram byte b is dbRange[0] + b / 255 * (dbRange[1] - dbRange[0]) dB. */
  dbRange: [number, number];
  anomalyScale: number;
  /** Base64 of `[times.length, nMels]` bytes, frame-major, each the max over the stored columns it covers. */
  spectrogram: string;
  anomaly: string;
  /** Oldest stored column of each tier for the sensor, ms (null: none yet). */
  fullSince: number | null;
  reducedSince: number | null;
  coarseSince: number | null;
  /** Alerts overlapping the range (the newest 500). */
  alerts: HistoryAlertMark[];
}

/** Default and largest `days` of a trends request. */
export const TRENDS_DEFAULT_DAYS = 30;
export const TRENDS_MAX_DAYS = 366;

/** One UTC day of a sensor's normalised score (1 = threshold) and its alerts. */
export interface TrendDay {
  /** Midnight (UTC) starting the day, ms since the epoch. */
  day: number;
  /** Score points the percentiles were taken over (0: none stored that day; the percentiles are then null). */
  n: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  /** Alerts that started that day. */
  alerts: number;
}

/** `GET /api/sensors/:id/trends?days=`: the last `days` UTC days, oldest first, today included. */
export interface SensorTrends {
  sensorId: string;
  days: TrendDay[];
}
