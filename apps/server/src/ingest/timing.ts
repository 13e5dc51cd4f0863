/**
 * Stream time of log-mel columns, one convention for the whole server:
 *
 * - Analysis sample n of a segment (a run of continuous audio, see `SensorStream`) is at
 *   `anchor + n / sampleRate` (ms). The resampler has zero phase, so this holds for resampled audio too.
 * - Column k of a segment covers samples [k * hopLength, k * hopLength + nFft) and is stamped with the
 *   **centre of its FFT frame**: `anchor + (k * hopLength + nFft / 2) / sampleRate`. This is the time
 *   `frameCentreTimes` of @hark/detection gives (boxes, ground truth), so a column and a box agree.
 * - A run of columns [a, b) spans `[time(a), time(b))`: its `t0` is the first column's stamp and its `t1` the
 *   stamp the next column would have, so `t1 - t0 = (b - a) * hopSeconds` exactly. A window of one second
 *   has `t1 - t0 = windowFrames * hopLength / sampleRate` (1.008 s at the defaults: 63 x 16 ms).
 */
import { melCentreFrequencies, type MelParams } from '@hark/dsp';

/** Stream time (ms) of column `k` of a segment whose sample 0 is at `anchorMs`. */
export function frameTimeMs(
  anchorMs: number,
  k: number,
  mel: Pick<MelParams, 'nFft' | 'hopLength' | 'sampleRate'>,
): number {
  return anchorMs + ((k * mel.hopLength + mel.nFft / 2) * 1000) / mel.sampleRate;
}

/** Seconds between columns. */
export const hopSecondsOf = (mel: Pick<MelParams, 'hopLength' | 'sampleRate'>): number =>
  mel.hopLength / mel.sampleRate;

/** Milliseconds from a frame's start sample to its centre (the offset of the time stamp). */
export const frameCentreOffsetMs = (mel: Pick<MelParams, 'nFft' | 'sampleRate'>): number =>
  (mel.nFft / 2 / mel.sampleRate) * 1000;

/** Mel bin centre frequencies in Hz as a plain array (the `melHz` of `ColumnsEvent` / `AlertSpectrogram`). */
export function melHz(mel: Pick<MelParams, 'nMels' | 'fMin' | 'fMax' | 'melScale'>): number[] {
  return Array.from(melCentreFrequencies(mel));
}
