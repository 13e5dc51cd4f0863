import {
  encodePng,
  heatmap,
  overlay,
  readableScale,
  upscale,
  type Grid,
  type RgbaImage,
} from '@hark/detection';
import type { AlertSpectrogram } from '@hark/protocol';

/** What `GET /api/alerts/:id/picture?kind=` draws. */
export type PictureKind = 'spectrogram' | 'anomaly' | 'overlay';
export const PICTURE_KINDS: readonly PictureKind[] = ['spectrogram', 'anomaly', 'overlay'];

/**
 * An alert's log-mel spectrogram and anomaly map as quantised bytes, frame-major `[nFrames, nMels]` like
 * `ColumnsEvent` (spectrogram byte b = `dbRange[0] + b / 255 * (dbRange[1] - dbRange[0])` dB; anomaly byte a
 * = `a / 255 * anomalyScale` times the threshold). `AlertSpectrogram` without the id and with raw bytes.
 */
export type AlertSpectrogramData = Omit<AlertSpectrogram, 'alertId' | 'spectrogram' | 'anomaly'> & {
  spectrogram: Uint8Array;
  anomaly: Uint8Array;
};

export interface PictureOptions {
  /** The picture is enlarged by whole factors to at least this size, px (defaults 640 x 256, factor <= 8). */
  minWidth?: number;
  minHeight?: number;
}

/** Checks the shape of `data`, naming what is wrong. */
export function checkSpectrogramData(data: AlertSpectrogramData): void {
  const { nFrames, nMels } = data;
  if (!Number.isInteger(nFrames) || nFrames < 1 || !Number.isInteger(nMels) || nMels < 1) {
    throw new RangeError(`alert spectrogram needs nFrames (${nFrames}) and nMels (${nMels}) >= 1`);
  }
  for (const key of ['spectrogram', 'anomaly'] as const) {
    if (data[key].length !== nFrames * nMels) {
      throw new RangeError(
        `alert ${key} has ${data[key].length} bytes, expected nFrames * nMels = ${nFrames} * ${nMels} = ${nFrames * nMels}`,
      );
    }
  }
  if (!(data.anomalyScale > 0)) throw new RangeError(`anomalyScale (${data.anomalyScale}) must be > 0`);
}

/** Frame-major `[nFrames, nMels]` bytes as a mel-major `Grid` (rows = mel bins, low first; cols = frames). */
function melGrid(bytes: Uint8Array, nFrames: number, nMels: number): Grid {
  const data = new Uint8Array(nFrames * nMels);
  for (let f = 0; f < nFrames; f++)
    for (let m = 0; m < nMels; m++) data[m * nFrames + f] = bytes[f * nMels + m];
  return { rows: nMels, cols: nFrames, data };
}

/**
 * Draws an alert picture, low frequencies at the bottom, time to the right, enlarged to a readable size:
 * `spectrogram` in magma over the stored dB range; `anomaly` in magma from 0 to `anomalyScale` x threshold;
 * `overlay` the spectrogram in grey with the anomaly map in magma fading in from half the threshold to the
 * threshold. Colour maps are perceptually uniform and colour-blind safe (no rainbow).
 */
export function renderAlertPicture(
  kind: PictureKind,
  data: AlertSpectrogramData,
  options: PictureOptions = {},
): RgbaImage {
  checkSpectrogramData(data);
  const { nFrames, nMels } = data;
  const full = { vmin: 0, vmax: 255 };
  let image: RgbaImage;
  if (kind === 'spectrogram') image = heatmap(melGrid(data.spectrogram, nFrames, nMels), full);
  else if (kind === 'anomaly') image = heatmap(melGrid(data.anomaly, nFrames, nMels), full);
  else if (kind === 'overlay') {
    const atThreshold = 255 / data.anomalyScale; // the byte of score 1.0
    image = overlay(melGrid(data.spectrogram, nFrames, nMels), melGrid(data.anomaly, nFrames, nMels), {
      spectrogramScale: full,
      anomalyScale: { vmin: 0, vmax: Math.min(255, 2 * atThreshold) },
      alphaFrom: atThreshold / 2,
      alphaTo: atThreshold,
    });
  } else {
    throw new RangeError(`picture kind '${String(kind)}' must be one of ${PICTURE_KINDS.join(', ')}`);
  }
  const [sx, sy] = readableScale(image.width, image.height, options.minWidth, options.minHeight);
  return upscale(image, sx, sy);
}

/** `renderAlertPicture` as PNG bytes. */
export function alertPicturePng(
  kind: PictureKind,
  data: AlertSpectrogramData,
  options: PictureOptions = {},
): Buffer {
  return encodePng(renderAlertPicture(kind, data, options));
}
