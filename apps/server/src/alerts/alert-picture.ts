/**
 * An alert's picture: the quantised log-mel columns (and their anomaly) of its clip, read from the sensor's
 * column ring in the encoding it holds them in (that of the live `columns`).
 */
import type { SensorStream } from '../ingest/sensor-stream.js';
import { melHz } from '../ingest/timing.js';
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
  // The kept columns, frame-major, with unscored columns at zero anomaly, in the ring's (the live) encoding.
  const spectrogram = new Uint8Array(keep.length * nMels);
  const anomaly = new Uint8Array(keep.length * nMels);
  keep.forEach((src, j) => {
    spectrogram.set(read.spectrogram.subarray(src * nMels, (src + 1) * nMels), j * nMels);
    if (read.scored[src]) anomaly.set(read.anomaly.subarray(src * nMels, (src + 1) * nMels), j * nMels);
  });
  return {
    t0: read.times[keep[0]],
    hopSeconds: read.hopSeconds,
    nMels,
    nFrames: keep.length,
    melHz: melHz(stream.mel),
    dbRange: [read.dbRange[0], read.dbRange[1]],
    anomalyScale: read.anomalyScale,
    spectrogram,
    anomaly,
  };
}
