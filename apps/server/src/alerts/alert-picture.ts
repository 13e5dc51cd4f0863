/**
 * An alert's picture: the quantised log-mel columns (and their anomaly) of its clip, read from the sensor's
 * column ring and quantised like the live `columns`.
 */
import type { SensorStream } from '../ingest/sensor-stream.js';
import { melHz } from '../ingest/timing.js';
import { DEFAULT_ANOMALY_SCALE, DEFAULT_DB_RANGE, quantiseAnomaly, quantiseDb } from '../live/quantise.js';
import type { AlertSpectrogramData } from './pictures.js';

/** Quantised columns (and anomaly) between two stream times, null when the ring holds none of them. */
export function alertPicture(stream: SensorStream, from: number, to: number): AlertSpectrogramData | null {
  const [first, end] = stream.frameRange;
  const hopMs = (stream.mel.hopLength / stream.mel.sampleRate) * 1000;
  const span = Math.ceil(((stream.streamTime ?? to) - from) / hopMs) + 4;
  const read = stream.columns(Math.max(first, end - span), end);
  const keep: number[] = [];
  for (let i = 0; i < read.times.length; i++) if (read.times[i] >= from && read.times[i] < to) keep.push(i);
  if (keep.length === 0) return null;
  const nMels = read.nMels;
  // The kept columns, frame-major, with unscored columns at zero anomaly; quantised like `columns`.
  const db = new Float32Array(keep.length * nMels);
  const anomalyValues = new Float32Array(keep.length * nMels);
  keep.forEach((src, j) => {
    db.set(read.db.subarray(src * nMels, (src + 1) * nMels), j * nMels);
    if (read.scored[src]) anomalyValues.set(read.anomaly.subarray(src * nMels, (src + 1) * nMels), j * nMels);
  });
  return {
    t0: read.times[keep[0]],
    hopSeconds: read.hopSeconds,
    nMels,
    nFrames: keep.length,
    melHz: melHz(stream.mel),
    dbRange: [DEFAULT_DB_RANGE[0], DEFAULT_DB_RANGE[1]],
    anomalyScale: DEFAULT_ANOMALY_SCALE,
    spectrogram: quantiseDb(db, DEFAULT_DB_RANGE),
    anomaly: quantiseAnomaly(anomalyValues, DEFAULT_ANOMALY_SCALE),
  };
}
