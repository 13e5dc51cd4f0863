import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encodeWav } from '@hark/dsp';
import type { AlertSpectrogram } from '@hark/protocol';
import { NotFoundError } from '../store/errors.js';
import {
  alertPicturePng,
  checkSpectrogramData,
  type AlertSpectrogramData,
  type PictureKind,
  type PictureOptions,
} from './pictures.js';
import { pathInside } from '../paths.js';

/** File names inside `DATA/alerts/<alertId>/`. */
export const ALERT_FILES = {
  clip: 'clip.wav',
  spectrogram: 'spectrogram.bin',
  anomaly: 'anomaly.bin',
  meta: 'spectrogram.json',
  patches: 'patches.f32',
  windows: 'windows.f32',
} as const;

type SpectrogramMeta = Omit<AlertSpectrogramData, 'spectrogram' | 'anomaly'>;

/**
 * The files kept for each alert under `DATA/alerts/<alertId>/`: the audio clip, the quantised spectrogram and
 * anomaly map (with their metadata), and for feedback the patch embeddings and log-mel windows the model scored. Every write goes to a temporary
 * file, is fsynced and renamed into place, so readers never see half a file.
 */
export class AlertMediaStore {
  /** `DATA/alerts`. */
  readonly root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'alerts');
  }

  /** The alert's directory. */
  dir(alertId: number): string {
    if (!Number.isInteger(alertId) || alertId < 1)
      throw new RangeError(`alertId (${alertId}) must be an integer >= 1`);
    return pathInside(this.root, String(alertId));
  }

  /** Path of one of the alert's files (whether or not it exists). */
  path(alertId: number, file: keyof typeof ALERT_FILES): string {
    return join(this.dir(alertId), ALERT_FILES[file]);
  }

  /** Writes the clip as 16-bit mono WAV; returns its path and length in seconds. */
  async writeClip(
    alertId: number,
    samples: Float32Array,
    sampleRate: number,
  ): Promise<{ path: string; seconds: number }> {
    const path = this.path(alertId, 'clip');
    await atomicWrite(path, encodeWav(samples, sampleRate, 's16'));
    return { path, seconds: samples.length / sampleRate };
  }

  /** The clip's WAV bytes; `NotFoundError` when there is none. */
  async readClip(alertId: number): Promise<Buffer> {
    return this.read(alertId, 'clip', `alert ${alertId} has no audio clip (yet)`);
  }

  /** True when the clip file exists. */
  async hasClip(alertId: number): Promise<boolean> {
    return exists(this.path(alertId, 'clip'));
  }

  /** Stores the alert's spectrogram and anomaly map (checked for shape). */
  async writeSpectrogram(alertId: number, data: AlertSpectrogramData): Promise<void> {
    checkSpectrogramData(data);
    const { spectrogram, anomaly, ...meta } = data;
    await atomicWrite(this.path(alertId, 'spectrogram'), spectrogram);
    await atomicWrite(this.path(alertId, 'anomaly'), anomaly);
    await atomicWrite(this.path(alertId, 'meta'), Buffer.from(JSON.stringify(meta)));
  }

  /** The stored spectrogram with raw bytes; `NotFoundError` when there is none. */
  async readSpectrogramData(alertId: number): Promise<AlertSpectrogramData> {
    const missing = `alert ${alertId} has no spectrogram (yet)`;
    const meta = JSON.parse((await this.read(alertId, 'meta', missing)).toString('utf8')) as SpectrogramMeta;
    const spectrogram = new Uint8Array(await this.read(alertId, 'spectrogram', missing));
    const anomaly = new Uint8Array(await this.read(alertId, 'anomaly', missing));
    const data = { ...meta, spectrogram, anomaly };
    checkSpectrogramData(data);
    return data;
  }

  /** `GET /api/alerts/:id/spectrogram`. */
  async readSpectrogram(alertId: number): Promise<AlertSpectrogram> {
    const data = await this.readSpectrogramData(alertId);
    return {
      alertId,
      t0: data.t0,
      hopSeconds: data.hopSeconds,
      nMels: data.nMels,
      nFrames: data.nFrames,
      melHz: data.melHz,
      dbRange: data.dbRange,
      anomalyScale: data.anomalyScale,
      spectrogram: Buffer.from(data.spectrogram).toString('base64'),
      anomaly: Buffer.from(data.anomaly).toString('base64'),
    };
  }

  /** `GET /api/alerts/:id/picture?kind=`: a PNG rendered from the stored spectrogram. */
  async picture(alertId: number, kind: PictureKind, options: PictureOptions = {}): Promise<Buffer> {
    return alertPicturePng(kind, await this.readSpectrogramData(alertId), options);
  }

  /** Stores the alert's patch embeddings (float32, little-endian, as the model lays them out). */
  writePatches(alertId: number, patches: Float32Array): Promise<string> {
    return this.#writeF32(alertId, 'patches', patches);
  }

  /** The alert's patch embeddings, or null when none were kept. */
  readPatches(alertId: number): Promise<Float32Array | null> {
    return this.#readF32(alertId, 'patches');
  }

  /** Stores the log-mel windows (`[nMels, windowFrames]` dB each, back to back) whose patches were kept. */
  writeWindows(alertId: number, windows: Float32Array): Promise<string> {
    return this.#writeF32(alertId, 'windows', windows);
  }

  /** The alert's log-mel windows, or null when none were kept (alerts raised before they were). */
  readWindows(alertId: number): Promise<Float32Array | null> {
    return this.#readF32(alertId, 'windows');
  }

  async #writeF32(alertId: number, file: 'patches' | 'windows', data: Float32Array): Promise<string> {
    const path = this.path(alertId, file);
    await atomicWrite(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return path;
  }

  async #readF32(alertId: number, file: 'patches' | 'windows'): Promise<Float32Array | null> {
    const path = this.path(alertId, file);
    if (!(await exists(path))) return null;
    const bytes = await readFile(path);
    if (bytes.byteLength % 4 !== 0)
      throw new Error(`${path} is ${bytes.byteLength} bytes, not a whole number of float32`);
    const out = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }

  /** Deletes everything kept for the alert. */
  async remove(alertId: number): Promise<void> {
    await rm(this.dir(alertId), { recursive: true, force: true });
  }

  private async read(alertId: number, file: keyof typeof ALERT_FILES, missing: string): Promise<Buffer> {
    try {
      return await readFile(this.path(alertId, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(missing);
      throw err;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes `bytes` to a temporary sibling, fsyncs it and renames it over `path` (creating the directory). */
async function atomicWrite(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw new Error(`cannot write ${path}: ${(err as Error).message}`);
  }
}
