import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWav } from '@hark/dsp';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { ALERTS_IMPORTED_MARKER, AlertMediaStore } from '../../src/alerts/alert-media.js';
import { PICTURE_KINDS, renderAlertPicture, type AlertSpectrogramData } from '../../src/alerts/pictures.js';
import { NotFoundError } from '../../src/store/index.js';
import { tempDir, tempStore } from '../store/helpers.js';

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

/** A store with `n` alerts (ids 1..n) and its media over a data directory. */
async function media(n: number, dataDir?: string) {
  const { store, dir } = tempStore();
  for (let i = 0; i < n; i++)
    await store.alerts.open({
      sensorId: 'pump-1',
      kind: 'anomaly',
      start: 1000 + i,
      peakScore: 2,
      peakAt: 1100,
      threshold: 1,
    });
  return { store, dir: dataDir ?? dir, media: new AlertMediaStore(dataDir ?? dir, store) };
}

describe('AlertMediaStore', () => {
  it('stores the clip as WAV in the database and reads it back through the cache', async () => {
    const { store, dir, media: m } = await media(12);
    const samples = Float32Array.from({ length: 16000 }, (_, i) => 0.5 * Math.sin(i / 10));
    const { sha256, seconds } = await m.writeClip(12, samples, 16000);
    expect(seconds).toBe(1);
    expect(await store.alertMedia.get(12, 'clip.wav')).toEqual({ sha256, size: 32044 });
    expect(await m.hasClip(12)).toBe(true);
    const wav = decodeWav(new Uint8Array(await m.readClip(12)), 'clip.wav');
    expect([wav.sampleRate, wav.channels, wav.bitsPerSample]).toEqual([16000, 1, 16]);
    expect(wav.samples.length).toBe(16000);
    expect(wav.samples[10]).toBeCloseTo(samples[10], 4);
    expect(readdirSync(join(dir, 'cache', 'blobs'))).toEqual([sha256]); // no temporary files left
    expect(existsSync(join(dir, 'alerts'))).toBe(false);
    await expect(m.readClip(11)).rejects.toThrow(new NotFoundError('alert 11 has no audio clip (yet)'));
    expect(await m.hasClip(11)).toBe(false);
    // A media write for an alert the store does not hold is refused, naming it.
    await expect(m.writeClip(13, samples, 16000)).rejects.toThrow(
      /cannot store alerts\/13\/clip.wav: .*FOREIGN KEY/i,
    );
  });

  it('stores the spectrogram and answers the AlertSpectrogram contract', async () => {
    const { media: m } = await media(5);
    const data = sample();
    await m.writeSpectrogram(3, data);
    const answer = await m.readSpectrogram(3);
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
    await expect(m.readSpectrogram(4)).rejects.toThrow('alert 4 has no spectrogram (yet)');
    await expect(m.writeSpectrogram(5, { ...data, nFrames: 99 })).rejects.toThrow(
      'alert spectrogram has 800 bytes, expected nFrames * nMels = 99 * 8 = 792',
    );
  });

  it('keeps patch embeddings; removing the alerts sweeps their blobs, not those another alert names', async () => {
    const { store, media: m } = await media(2);
    expect(await m.readPatches(1)).toBeNull();
    await m.writePatches(1, Float32Array.of(1.5, -2, 3.25));
    await m.writePatches(2, Float32Array.of(1.5, -2, 3.25)); // the same bytes: one blob
    await m.writeWindows(1, Float32Array.of(7));
    expect(await m.readPatches(1)).toEqual(Float32Array.of(1.5, -2, 3.25));
    expect((await store.blobs.totals()).blobs).toBe(2);
    await m.remove(1);
    expect(await m.readPatches(1)).toBeNull();
    expect(await m.readPatches(2)).toEqual(Float32Array.of(1.5, -2, 3.25));
    expect((await store.blobs.totals()).blobs).toBe(1);
    // Alerts deleted from the store (a purge) take their rows along; the sweep then removes the blobs.
    await store.database.db.deleteFrom('alerts').where('id', '=', 2).execute();
    await m.remove(2);
    expect(await store.blobs.totals()).toEqual({ blobs: 0, bytes: 0 });
    expect(() => m.ref(0, 'clip')).toThrow('alertId (0) must be an integer >= 1');
  });

  it('a file written again names its new blob and the old one is swept', async () => {
    const { store, media: m } = await media(1);
    await m.writeClip(1, new Float32Array(1600), 16000);
    const { sha256 } = await m.writeClip(1, new Float32Array(1600).fill(0.5), 16000);
    expect(
      (await store.database.db.selectFrom('blobs').select('sha256').execute()).map((r) => r.sha256),
    ).toEqual([sha256]);
  });

  it('imports the files of an older data directory once, for alerts the store holds', async () => {
    const { store, dir } = tempStore();
    for (let i = 0; i < 2; i++)
      await store.alerts.open({
        sensorId: 'pump-1',
        kind: 'anomaly',
        start: 1000 + i,
        peakScore: 2,
        peakAt: 1100,
        threshold: 1,
      });
    // Written by the previous hark: DATA/alerts/<id>/clip.wav and patches.f32; alert 7 is gone from the store.
    for (const id of [1, 7]) mkdirSync(join(dir, 'alerts', String(id)), { recursive: true });
    writeFileSync(join(dir, 'alerts', '1', 'clip.wav'), 'RIFF old clip');
    writeFileSync(join(dir, 'alerts', '1', 'patches.f32'), Buffer.from(Float32Array.of(4).buffer));
    writeFileSync(join(dir, 'alerts', '7', 'clip.wav'), 'RIFF orphan');
    const logs: string[] = [];
    const m = new AlertMediaStore(dir, store, (l) => logs.push(l));
    await m.start();
    expect((await m.readClip(1)).toString()).toBe('RIFF old clip');
    expect(await m.readPatches(1)).toEqual(Float32Array.of(4));
    expect(logs.join('\n')).toMatch(/alert 7 is not in the store; not imported/);
    expect(logs.join('\n')).toMatch(/2 media file\(s\) under .* stored in the database/);
    // Again: nothing to do (the marker), and nothing doubled if the marker were lost.
    rmSync(join(dir, 'alerts', ALERTS_IMPORTED_MARKER));
    await new AlertMediaStore(dir, store).start();
    expect((await store.blobs.totals()).blobs).toBe(2);
    expect(readFileSync(join(dir, 'alerts', '1', 'clip.wav'), 'utf8')).toBe('RIFF old clip'); // the files stay
  });

  it('another instance (another data directory, the same database) serves the clip', async () => {
    const { store, media: a } = await media(1);
    await a.writeClip(1, new Float32Array(800).fill(0.25), 8000);
    const b = new AlertMediaStore(tempDir(), store);
    expect((await b.readClip(1)).equals(await a.readClip(1))).toBe(true);
  });

  it('renders every picture kind as a readable PNG', async () => {
    const { media: m } = await media(9);
    await m.writeSpectrogram(9, sample());
    for (const kind of PICTURE_KINDS) {
      const png = PNG.sync.read(await m.picture(9, kind));
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
