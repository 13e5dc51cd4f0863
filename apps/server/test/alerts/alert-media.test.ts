import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWav } from '@hark/dsp';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { AlertMediaStore } from '../../src/alerts/alert-media.js';
import { PICTURE_KINDS, renderAlertPicture, type AlertSpectrogramData } from '../../src/alerts/pictures.js';
import { NotFoundError } from '../../src/store/index.js';
import { tempDir } from '../store/helpers.js';

/** 100 frames x 8 mels: a ramp in frequency, with an anomaly (3x threshold) in frames 40-59, mels 2-3. */
function sample(): AlertSpectrogramData {
  const nFrames = 100;
  const nMels = 8;
  const anomalyScale = 4; // byte 255 = 4x threshold, so the threshold is byte 63.75
  const spectrogram = new Uint8Array(nFrames * nMels);
  const anomaly = new Uint8Array(nFrames * nMels);
  for (let f = 0; f < nFrames; f++) {
    for (let m = 0; m < nMels; m++) {
      spectrogram[f * nMels + m] = m * 32;
      anomaly[f * nMels + m] =
        f >= 40 && f < 60 && (m === 2 || m === 3) ? Math.round((3 / anomalyScale) * 255) : 0;
    }
  }
  return {
    t0: 1000,
    hopSeconds: 0.01,
    nFrames,
    nMels,
    melHz: Array.from({ length: nMels }, (_, i) => 100 * (i + 1)),
    dbRange: [-80, 0],
    anomalyScale,
    spectrogram,
    anomaly,
  };
}

const pixel = (img: { width: number; data: Uint8Array }, x: number, y: number) =>
  Array.from(img.data.subarray(4 * (y * img.width + x), 4 * (y * img.width + x) + 3));

describe('AlertMediaStore', () => {
  it('writes the clip as WAV under DATA/alerts/<id>/ and reads it back', async () => {
    const dir = tempDir();
    const media = new AlertMediaStore(dir);
    const samples = Float32Array.from({ length: 16000 }, (_, i) => 0.5 * Math.sin(i / 10));
    const { path, seconds } = await media.writeClip(12, samples, 16000);
    expect(path).toBe(join(dir, 'alerts', '12', 'clip.wav'));
    expect(seconds).toBe(1);
    expect(await media.hasClip(12)).toBe(true);
    const wav = decodeWav(new Uint8Array(await media.readClip(12)), 'clip.wav');
    expect([wav.sampleRate, wav.channels, wav.bitsPerSample]).toEqual([16000, 1, 16]);
    expect(wav.samples.length).toBe(16000);
    expect(wav.samples[10]).toBeCloseTo(samples[10], 4);
    expect(readdirSync(join(dir, 'alerts', '12'))).toEqual(['clip.wav']); // no temporary files left
    await expect(media.readClip(13)).rejects.toThrow(new NotFoundError('alert 13 has no audio clip (yet)'));
    expect(await media.hasClip(13)).toBe(false);
  });

  it('stores the spectrogram and answers the AlertSpectrogram contract', async () => {
    const media = new AlertMediaStore(tempDir());
    const data = sample();
    await media.writeSpectrogram(3, data);
    const answer = await media.readSpectrogram(3);
    expect(answer).toMatchObject({
      alertId: 3,
      t0: 1000,
      hopSeconds: 0.01,
      nFrames: 100,
      nMels: 8,
      anomalyScale: 4,
    });
    expect(answer.dbRange).toEqual([-80, 0]);
    expect(new Uint8Array(Buffer.from(answer.spectrogram, 'base64'))).toEqual(data.spectrogram);
    expect(new Uint8Array(Buffer.from(answer.anomaly, 'base64'))).toEqual(data.anomaly);
    await expect(media.readSpectrogram(4)).rejects.toThrow('alert 4 has no spectrogram (yet)');
    await expect(media.writeSpectrogram(5, { ...data, nFrames: 99 })).rejects.toThrow(
      'alert spectrogram has 800 bytes, expected nFrames * nMels = 99 * 8 = 792',
    );
  });

  it('keeps patch embeddings and removes everything', async () => {
    const media = new AlertMediaStore(tempDir());
    expect(await media.readPatches(1)).toBeNull();
    await media.writePatches(1, Float32Array.of(1.5, -2, 3.25));
    expect(await media.readPatches(1)).toEqual(Float32Array.of(1.5, -2, 3.25));
    await media.remove(1);
    expect(await media.readPatches(1)).toBeNull();
    expect(() => media.dir(0)).toThrow('alertId (0) must be an integer >= 1');
  });

  it('renders every picture kind as a readable PNG', async () => {
    const media = new AlertMediaStore(tempDir());
    await media.writeSpectrogram(9, sample());
    for (const kind of PICTURE_KINDS) {
      const png = PNG.sync.read(await media.picture(9, kind));
      expect([png.width, png.height]).toEqual([700, 64]); // 100 x 8 cells, x7 to reach 640, x32 capped at x8
    }
  });
});

describe('renderAlertPicture', () => {
  const data = sample();
  const opts = { minWidth: 1, minHeight: 1 }; // one pixel per cell
  // Frame f is column x = f; mel m is row y = nMels - 1 - m (low frequencies at the bottom).
  const y = (mel: number) => data.nMels - 1 - mel;

  it('draws the spectrogram in magma, low frequencies at the bottom', () => {
    const img = renderAlertPicture('spectrogram', data, opts);
    expect([img.width, img.height]).toEqual([100, 8]);
    expect(pixel(img, 0, y(0))).toEqual([0, 0, 4]); // byte 0 = darkest magma
    expect(pixel(img, 0, y(7))).not.toEqual([0, 0, 4]);
  });

  it('draws the anomaly map bright only where the anomaly is', () => {
    const img = renderAlertPicture('anomaly', data, opts);
    expect(pixel(img, 10, y(2))).toEqual([0, 0, 4]);
    const hot = pixel(img, 50, y(2));
    expect(hot[0]).toBeGreaterThan(150);
  });

  it('overlays magma on a grey spectrogram only over the anomaly', () => {
    const img = renderAlertPicture('overlay', data, opts);
    const grey = pixel(img, 10, y(5));
    expect(grey[0]).toBe(grey[1]);
    expect(grey[1]).toBe(grey[2]);
    expect(grey[0]).toBe(5 * 32);
    const hot = pixel(img, 50, y(3));
    expect(hot[0]).not.toBe(hot[2]); // coloured, not grey
  });

  it('rejects a bad kind or shape', () => {
    // @ts-expect-error: not a kind
    expect(() => renderAlertPicture('rainbow', data)).toThrow(
      "picture kind 'rainbow' must be one of spectrogram, anomaly, overlay",
    );
    expect(() => renderAlertPicture('overlay', { ...data, anomalyScale: 0 })).toThrow(
      'anomalyScale (0) must be > 0',
    );
  });
});
