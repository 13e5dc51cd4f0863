import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWav } from '@hark/dsp';
import type { AlertSpectrogram } from '@hark/protocol';
import type { AlertMediaRepository } from '../store/alert-media.repository.js';
import { BlobCache } from '../store/blob-cache.js';
import type { BlobRepository } from '../store/blob.repository.js';
import { NotFoundError } from '../store/errors.js';
import {
  alertPicturePng,
  checkSpectrogramData,
  type AlertSpectrogramData,
  type PictureKind,
  type PictureOptions,
} from './pictures.js';

/**
 * The names of an alert's files (`alert_media.name`; also the file names under `DATA/alerts/<alertId>/` of data
 * directories from before the database held them).
 */
export const ALERT_FILES = {
  clip: 'clip.wav',
  spectrogram: 'spectrogram.bin',
  anomaly: 'anomaly.bin',
  meta: 'spectrogram.json',
  patches: 'patches.f32',
  windows: 'windows.f32',
} as const;

type SpectrogramMeta = Omit<AlertSpectrogramData, 'spectrogram' | 'anomaly'>;

/** Written in `DATA/alerts` once the files found there were stored in the database. */
export const ALERTS_IMPORTED_MARKER = '.imported-to-database';

/**
 * What is kept for each alert: the audio clip, the quantised spectrogram and anomaly map (with their
 * metadata), and for feedback the patch embeddings and log-mel windows the model scored. Each is a blob in the
 * database (`store/alert-media.repository.ts`), so any instance serves it; reads go through this instance's
 * blob cache (`DATA/cache/blobs`), which checks every copy against its hash.
 */
export class AlertMediaStore {
  readonly #cache: BlobCache;
  readonly #repo: AlertMediaRepository;

  constructor(
    readonly dataDir: string,
    store: { alertMedia: AlertMediaRepository; blobs: BlobRepository },
    private readonly log: (line: string) => void = () => {},
  ) {
    this.#repo = store.alertMedia;
    this.#cache = new BlobCache(dataDir, store.blobs, log);
  }

  /** `alerts/<alertId>/<file>`: how the alert's file is named in records (feedback) and logs. */
  ref(alertId: number, file: keyof typeof ALERT_FILES): string {
    return `alerts/${checkAlertId(alertId)}/${ALERT_FILES[file]}`;
  }

  /**
   * The upgrade of a data directory from before the database held alert media: the files under
   * `DATA/alerts/<id>/` of alerts the store knows are stored as blobs, once (idempotent; the files stay).
   */
  async start(): Promise<void> {
    const root = join(this.dataDir, 'alerts');
    const marker = join(root, ALERTS_IMPORTED_MARKER);
    if (!existsSync(root) || existsSync(marker)) return;
    let stored = 0;
    for (const name of await readdir(root)) {
      if (!/^[1-9]\d*$/.test(name)) continue;
      const alertId = Number(name);
      const have = new Set(await this.#repo.names(alertId));
      for (const file of Object.values(ALERT_FILES)) {
        if (have.has(file)) continue;
        const bytes = await readFile(join(root, name, file)).catch(() => null);
        if (!bytes) continue;
        try {
          await this.#repo.put(alertId, file, bytes);
          stored++;
        } catch (err) {
          // An alert deleted since (its row is gone: the foreign key refuses it): nothing to keep.
          if (!/foreign key/i.test((err as Error).message)) throw err;
          this.log(`alerts: ${join(root, name, file)}: alert ${alertId} is not in the store; not imported`);
        }
      }
    }
    await writeFile(marker, `${new Date().toISOString()}\n`);
    if (stored)
      this.log(
        `alerts: ${stored} media file(s) under ${root} stored in the database; the folder is no longer read and may be removed`,
      );
  }

  /** Writes the clip as 16-bit mono WAV; returns its blob's hash and its length in seconds. */
  async writeClip(
    alertId: number,
    samples: Float32Array,
    sampleRate: number,
  ): Promise<{ sha256: string; seconds: number }> {
    const sha256 = await this.#put(alertId, 'clip', encodeWav(samples, sampleRate, 's16'));
    return { sha256, seconds: samples.length / sampleRate };
  }

  /** The clip's WAV bytes; `NotFoundError` when there is none. */
  async readClip(alertId: number): Promise<Buffer> {
    return this.read(alertId, 'clip', `alert ${alertId} has no audio clip (yet)`);
  }

  /** True when the alert has a clip. */
  async hasClip(alertId: number): Promise<boolean> {
    return (await this.#repo.get(checkAlertId(alertId), ALERT_FILES.clip)) !== null;
  }

  /** Stores the alert's spectrogram and anomaly map (checked for shape). */
  async writeSpectrogram(alertId: number, data: AlertSpectrogramData): Promise<void> {
    checkSpectrogramData(data);
    const { spectrogram, anomaly, ...meta } = data;
    await this.#put(alertId, 'spectrogram', spectrogram);
    await this.#put(alertId, 'anomaly', anomaly);
    // The metadata last: a reader finds it only once both arrays are there.
    await this.#put(alertId, 'meta', Buffer.from(JSON.stringify(meta)));
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

  /**
   * Stores the alert's patch embeddings (float32, little-endian, as the model lays them out). Alerts kept
   * them until the patches were computed again from the windows at teach time; theirs are still read.
   */
  writePatches(alertId: number, patches: Float32Array): Promise<string> {
    return this.#writeF32(alertId, 'patches', patches);
  }

  /** The alert's patch embeddings, or null when none were kept. */
  readPatches(alertId: number): Promise<Float32Array | null> {
    return this.#readF32(alertId, 'patches');
  }

  /** Stores the over-threshold log-mel windows (`[nMels, windowFrames]` dB each, back to back) for feedback. */
  writeWindows(alertId: number, windows: Float32Array): Promise<string> {
    return this.#writeF32(alertId, 'windows', windows);
  }

  /** The alert's log-mel windows, or null when none were kept (alerts raised before they were). */
  readWindows(alertId: number): Promise<Float32Array | null> {
    return this.#readF32(alertId, 'windows');
  }

  async #writeF32(alertId: number, file: 'patches' | 'windows', data: Float32Array): Promise<string> {
    return this.#put(alertId, file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  async #readF32(alertId: number, file: 'patches' | 'windows'): Promise<Float32Array | null> {
    const row = await this.#repo.get(checkAlertId(alertId), ALERT_FILES[file]);
    if (!row) return null;
    const bytes = await this.#cache.read(row.sha256);
    if (bytes.byteLength % 4 !== 0)
      throw new Error(
        `${this.ref(alertId, file)} is ${bytes.byteLength} bytes, not a whole number of float32`,
      );
    const out = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }

  /** Deletes everything kept for the alerts (their blobs, unless something else names them). */
  async remove(...alertIds: number[]): Promise<void> {
    await this.#cache.forget(await this.#repo.remove(alertIds.map(checkAlertId)));
  }

  private async read(alertId: number, file: keyof typeof ALERT_FILES, missing: string): Promise<Buffer> {
    const row = await this.#repo.get(checkAlertId(alertId), ALERT_FILES[file]);
    if (!row) throw new NotFoundError(missing);
    return this.#cache.read(row.sha256);
  }

  #put(alertId: number, file: keyof typeof ALERT_FILES, bytes: Uint8Array): Promise<string> {
    return this.#repo.put(checkAlertId(alertId), ALERT_FILES[file], bytes).catch((err: Error) => {
      throw Object.assign(new Error(`cannot store ${this.ref(alertId, file)}: ${err.message}`), {
        code: (err as NodeJS.ErrnoException).code,
      });
    });
  }
}

function checkAlertId(alertId: number): number {
  if (!Number.isInteger(alertId) || alertId < 1)
    throw new RangeError(`alertId (${alertId}) must be an integer >= 1`);
  return alertId;
}
