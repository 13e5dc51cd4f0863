/**
 * The byte encoding of spectrogram and anomaly columns sent to dashboards (`ColumnsEvent`) and stored with
 * alerts (`AlertSpectrogram`): one byte per cell, frame-major `[nColumns, nMels]`.
 *
 * Spectrogram byte b is `dbRange[0] + b / 255 * (dbRange[1] - dbRange[0])` dB. The default range
 * [-100, 40] dB spans what libs/dsp's log-mel produces for full-scale PCM: -100 dB is its floor
 * (`10 log10(1e-10)`, digital silence), quiet rooms sit around -80 to -50 dB, full-scale noise reaches about
 * +17 dB and a full-scale tone about +35 dB; steps are 0.55 dB. Anomaly byte a is `a / 255 * anomalyScale`
 * times the threshold: with the default scale 2, the threshold (1.0) is byte 127.5 and twice the threshold
 * saturates at 255. Values outside a range are clamped.
 */
import type { ColumnsEvent } from '@hark/protocol';

export const DEFAULT_DB_RANGE: readonly [number, number] = [-100, 40];
export const DEFAULT_ANOMALY_SCALE = 2;

const toByte = (x: number): number => (x > 0 ? (x < 1 ? Math.round(x * 255) : 255) : 0);

/**
 * One dB value to its byte over [lo, lo + 1 / perDb] (clamped; NaN gives 0): what {@link quantiseDb} does to
 * each value, with `perDb` = 1 / (dbRange[1] - dbRange[0]). For who quantises a value at a time (the column
 * ring), so both give the same byte.
 */
export const dbByte = (db: number, lo: number, perDb: number): number => toByte((db - lo) * perDb);

/** One normalised anomaly value to its byte over [0, anomalyScale]: what {@link quantiseAnomaly} does to each. */
export const anomalyByte = (anomaly: number, anomalyScale: number): number => toByte(anomaly / anomalyScale);

/** dB values to bytes over `dbRange` (clamped; NaN gives 0). */
export function quantiseDb(
  db: ArrayLike<number>,
  dbRange: readonly [number, number] = DEFAULT_DB_RANGE,
): Uint8Array {
  const [lo, hi] = dbRange;
  if (!(hi > lo)) throw new RangeError(`dbRange ([${lo}, ${hi}]) must have dbRange[1] > dbRange[0]`);
  const out = new Uint8Array(db.length);
  const k = 1 / (hi - lo);
  for (let i = 0; i < db.length; i++) out[i] = dbByte(db[i], lo, k);
  return out;
}

/** Normalised anomaly values (1 = threshold) to bytes over [0, anomalyScale] (clamped; NaN gives 0). */
export function quantiseAnomaly(
  anomaly: ArrayLike<number>,
  anomalyScale = DEFAULT_ANOMALY_SCALE,
): Uint8Array {
  if (!(anomalyScale > 0)) throw new RangeError(`anomalyScale (${anomalyScale}) must be > 0`);
  const out = new Uint8Array(anomaly.length);
  for (let i = 0; i < anomaly.length; i++) out[i] = anomalyByte(anomaly[i], anomalyScale);
  return out;
}

/** Bytes back to dB (the inverse of {@link quantiseDb} up to half a step). */
export function dequantiseDb(
  bytes: Uint8Array,
  dbRange: readonly [number, number] = DEFAULT_DB_RANGE,
): Float32Array {
  const [lo, hi] = dbRange;
  return Float32Array.from(bytes, (b) => lo + (b / 255) * (hi - lo));
}

/** Bytes back to normalised anomaly (the inverse of {@link quantiseAnomaly} up to half a step). */
export function dequantiseAnomaly(bytes: Uint8Array, anomalyScale = DEFAULT_ANOMALY_SCALE): Float32Array {
  return Float32Array.from(bytes, (b) => (b / 255) * anomalyScale);
}

/** The values of a run of columns, before quantisation. */
export interface ColumnsInput {
  sensorId: string;
  /** Stream time (ms) of the first column. */
  t0: number;
  hopSeconds: number;
  nMels: number;
  /** `[nColumns, nMels]` dB, frame-major. */
  db: Float32Array;
  /** `[nColumns, nMels]` normalised anomaly, frame-major; null for zeros (unscored columns). */
  anomaly: Float32Array | null;
  scored: boolean;
  dbRange?: readonly [number, number];
  anomalyScale?: number;
  melHz?: number[];
}

/** Quantises a run of columns into a `ColumnsEvent`. */
export function buildColumnsEvent(c: ColumnsInput): ColumnsEvent {
  const dbRange = c.dbRange ?? DEFAULT_DB_RANGE;
  const anomalyScale = c.anomalyScale ?? DEFAULT_ANOMALY_SCALE;
  // columnsEvent checks the lengths (quantising keeps them).
  return columnsEvent({
    ...c,
    spectrogram: quantiseDb(c.db, dbRange),
    anomaly: c.anomaly ? quantiseAnomaly(c.anomaly, anomalyScale) : new Uint8Array(c.db.length),
    dbRange,
    anomalyScale,
  });
}

/** A run of columns already in this encoding (the column ring holds them so). */
export interface ColumnsBytes {
  sensorId: string;
  /** Stream time (ms) of the first column. */
  t0: number;
  hopSeconds: number;
  nMels: number;
  /** `[nColumns, nMels]` dB bytes over `dbRange`, frame-major. */
  spectrogram: Uint8Array;
  /** `[nColumns, nMels]` anomaly bytes over [0, anomalyScale], frame-major (zeros for unscored columns). */
  anomaly: Uint8Array;
  scored: boolean;
  dbRange: readonly [number, number];
  anomalyScale: number;
  melHz?: number[];
}

/** A `ColumnsEvent` of bytes in this encoding. */
export function columnsEvent(c: ColumnsBytes): ColumnsEvent {
  if (c.spectrogram.length % c.nMels !== 0)
    throw new RangeError(
      `db has ${c.spectrogram.length} values, not a whole number of ${c.nMels}-mel columns`,
    );
  if (c.anomaly.length !== c.spectrogram.length)
    throw new RangeError(`anomaly has ${c.anomaly.length} values; db has ${c.spectrogram.length}`);
  const event: ColumnsEvent = {
    sensorId: c.sensorId,
    t0: c.t0,
    hopSeconds: c.hopSeconds,
    nMels: c.nMels,
    nColumns: c.spectrogram.length / c.nMels,
    spectrogram: c.spectrogram,
    anomaly: c.anomaly,
    dbRange: [c.dbRange[0], c.dbRange[1]],
    anomalyScale: c.anomalyScale,
    scored: c.scored,
  };
  if (c.melHz) event.melHz = c.melHz;
  return event;
}

/** The dB and anomaly values of a `ColumnsEvent` (or `AlertSpectrogram` bytes), frame-major. */
export function decodeColumnsEvent(
  e: Pick<ColumnsEvent, 'spectrogram' | 'anomaly' | 'dbRange' | 'anomalyScale'>,
): { db: Float32Array; anomaly: Float32Array } {
  return {
    db: dequantiseDb(e.spectrogram, e.dbRange),
    anomaly: dequantiseAnomaly(e.anomaly, e.anomalyScale),
  };
}

/** Base64 of bytes (the `spectrogram` / `anomaly` strings of `AlertSpectrogram`). */
export const bytesToBase64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
