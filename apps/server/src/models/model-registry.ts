/**
 * The model registry: which detector each sensor scores with. Loads `DATA/models/<sensorId>/` (written by
 * `hark fit`, by enrolment or by an upload), notices directories placed or replaced by hand without a restart
 * (the watcher), fits new models in a worker thread and swaps them in atomically (`model-versions.ts`), and
 * applies operator feedback. Detectors in use are held by scoring's leases until released.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  loadModel,
  MIN_TRAINING_CLIPS,
  resolveDetectorConfig,
  type DetectorConfigInput,
  type FeedbackItem,
  type Detector,
} from '@hark/detection';
import { decodeWav, encodeWav } from '@hark/dsp';
import {
  enrolSecondsProblem,
  isSensorId,
  wavSampleRateProblem,
  type FitProgressEvent,
  type ModelStatus,
} from '@hark/protocol';
import { DetectorLeases, type DetectorLease } from '../scoring/leases.js';
import { ModelError } from './errors.js';
import { runFitWorker } from './fit-worker.js';
import { modelSignature, recoverSwaps, stagingDir, stampDir, swapIn } from './model-versions.js';
import { ModelWatcher } from './model-watcher.js';
import type { HarkEvents } from '../events.js';
import { pathInside } from '../paths.js';

export type ModelSource = 'enrol' | 'upload' | 'directory';

/** Where a fitted model came from, kept beside it as `source.json`. */
interface SourceJson {
  source: ModelSource;
  by: string | null;
  files: number;
  seconds: number;
}

export interface ModelRegistryOptions {
  dataDir: string;
  events: HarkEvents;
  pollMs: number;
  /** Records `seconds` of the sensor's live stream at the analysis rate (throws when it is not streaming). */
  record: (
    sensorId: string,
    seconds: number,
    progress: (done: number, total: number) => void,
  ) => Promise<Float32Array>;
  /** Active (not reverted) feedback of a sensor, read when a model is (re)loaded. */
  activeFeedback: (sensorId: string) => Promise<FeedbackItem[]>;
  /** Detector parameters of models fitted by the server. */
  fitConfig?: DetectorConfigInput;
  log?: (line: string) => void;
}

interface Slot {
  detector: Detector | null;
  signature: string;
  source: ModelSource | null;
  trainingSeconds: number | null;
  trainingClips: number | null;
  feedbackWindows: number;
  state: ModelStatus['state'];
  progress: FitProgressEvent | null;
  error: string | null;
  busy: boolean;
  onChange: Set<(d: Detector | null) => void>;
}

export class ModelRegistry {
  readonly modelsDir: string;
  readonly #slots = new Map<string, Slot>();
  readonly #leases = new DetectorLeases();
  readonly #watcher: ModelWatcher;
  readonly #log: (line: string) => void;

  constructor(readonly opts: ModelRegistryOptions) {
    this.modelsDir = join(opts.dataDir, 'models');
    this.#log = opts.log ?? (() => {});
    this.#watcher = new ModelWatcher(this.modelsDir, opts.pollMs, (ids) => this.#sync(ids), this.#log);
  }

  /** Loads every model directory, then keeps watching the folder. */
  async start(): Promise<void> {
    await mkdir(this.modelsDir, { recursive: true });
    await recoverSwaps(this.modelsDir);
    await this.#watcher.start();
  }

  async stop(): Promise<void> {
    await this.#watcher.stop();
    for (const slot of this.#slots.values()) {
      if (slot.detector) await this.#leases.retire(slot.detector);
      slot.detector = null;
    }
  }

  /** Subscribes to model swaps of a sensor (the stream reconfigures itself when the parameters change). */
  onChange(sensorId: string, cb: (d: Detector | null) => void): () => void {
    const slot = this.#slot(sensorId);
    slot.onChange.add(cb);
    return () => slot.onChange.delete(cb);
  }

  /** The current detector, held until `release()` so a swap does not free it under a running score. */
  acquire(sensorId: string): DetectorLease | null {
    const slot = this.#slots.get(sensorId);
    const detector = slot?.detector;
    return detector ? this.#leases.acquire(detector) : null;
  }

  /** Sensors with a model, or with an enrolment or fit under way. */
  sensorIds(): string[] {
    return [...this.#slots].filter(([, s]) => s.state !== 'none' || s.busy).map(([id]) => id);
  }

  detector(sensorId: string): Detector | null {
    return this.#slots.get(sensorId)?.detector ?? null;
  }

  status(sensorId: string): ModelStatus {
    const slot = this.#slots.get(sensorId);
    const d = slot?.detector ?? null;
    return {
      sensorId,
      state: slot?.state ?? 'none',
      method: d?.config.method ?? null,
      backbone: d?.config.backbone ?? null,
      bankSize: d?.bankSize ?? null,
      threshold: d?.fitted.calibration.threshold ?? null,
      fittedAt: d?.fitted.training.fittedAt ?? null,
      trainingSeconds: slot?.trainingSeconds ?? null,
      trainingClips: slot?.trainingClips ?? null,
      source: slot?.source ?? null,
      feedbackWindows: slot?.feedbackWindows ?? 0,
      progress: slot?.progress ?? null,
      error: slot?.error ?? null,
    };
  }

  /** Records `seconds` of the live stream, cuts it into clips, and fits on them in the background. */
  enrol(sensorId: string, seconds: number, by: string): ModelStatus {
    const problem = enrolSecondsProblem(seconds);
    if (problem) throw new ModelError(problem);
    const slot = this.#claim(sensorId);
    const before = slot.state;
    let recording: Promise<Float32Array>;
    try {
      // Throws at once when the sensor is not streaming.
      recording = this.opts.record(sensorId, seconds, (done, total) =>
        this.#progress(sensorId, slot, { stage: 'recording', done, total }),
      );
    } catch (err) {
      slot.busy = false;
      slot.state = before;
      throw err instanceof ModelError ? err : new ModelError((err as Error).message, 'NOT_STREAMING');
    }
    slot.state = 'recording';
    this.#progress(sensorId, slot, { stage: 'recording', done: 0, total: seconds });
    void (async () => {
      try {
        const audio = await recording;
        const rate = resolveDetectorConfig(this.opts.fitConfig ?? {}).mel.sampleRate;
        const dir = await stampDir(this.opts.dataDir, 'enrol', sensorId);
        // Clips of about 5 s, at least MIN_TRAINING_CLIPS + 2 so some are held out for the threshold.
        const n = Math.max(MIN_TRAINING_CLIPS + 2, Math.round(audio.length / rate / 5));
        const len = Math.floor(audio.length / n);
        const files: string[] = [];
        for (let i = 0; i < n; i++) {
          const f = join(dir, `clip-${String(i).padStart(3, '0')}.wav`);
          await writeFile(f, encodeWav(audio.subarray(i * len, (i + 1) * len), rate, 'f32'));
          files.push(f);
        }
        await this.#fit(sensorId, slot, files, {
          source: 'enrol',
          by,
          files: n,
          seconds: audio.length / rate,
        });
      } catch (err) {
        this.#fail(sensorId, slot, err);
      }
    })();
    return this.status(sensorId);
  }

  /** Checks the WAVs now (a clear error names the bad file), then fits on them in the background. */
  async upload(sensorId: string, files: { name: string; data: Buffer }[], by: string): Promise<ModelStatus> {
    if (files.length < MIN_TRAINING_CLIPS + 1)
      throw new ModelError(
        `upload at least ${MIN_TRAINING_CLIPS + 1} normal WAV clips (got ${files.length}): some are held out to set the threshold`,
      );
    let seconds = 0;
    for (const f of files) {
      try {
        const w = decodeWav(new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength), f.name);
        const rateProblem = wavSampleRateProblem(w.sampleRate);
        if (rateProblem) throw new Error(`${f.name}: ${rateProblem}`);
        if (w.samples.length < w.sampleRate)
          throw new Error(`${f.name}: ${(w.samples.length / w.sampleRate).toFixed(2)} s is shorter than 1 s`);
        seconds += w.samples.length / w.sampleRate;
      } catch (err) {
        throw new ModelError((err as Error).message, 'BAD_AUDIO');
      }
    }
    const slot = this.#claim(sensorId);
    // Fitting from here on (the answer says so), while the current model, if any, keeps scoring.
    slot.state = 'fitting';
    this.#progress(sensorId, slot, { stage: 'spectrogram', done: 0, total: files.length });
    try {
      const dir = await stampDir(this.opts.dataDir, 'uploads', sensorId);
      const paths: string[] = [];
      for (const [i, f] of files.entries()) {
        const safe = f.name.replace(/[^A-Za-z0-9._-]/g, '_').slice(-80);
        const p = pathInside(dir, `${String(i).padStart(3, '0')}-${safe}`);
        await writeFile(p, f.data);
        paths.push(p);
      }
      void this.#fit(sensorId, slot, paths, { source: 'upload', by, files: files.length, seconds }).catch(
        (err) => this.#fail(sensorId, slot, err),
      );
    } catch (err) {
      this.#fail(sensorId, slot, err);
      throw err;
    }
    return this.status(sensorId);
  }

  /** Re-reads the sensor's active feedback and rebuilds its bank (after teach / revert). */
  async applyFeedback(sensorId: string): Promise<number> {
    const slot = this.#slots.get(sensorId);
    if (!slot?.detector) throw new ModelError(`sensor ${sensorId} has no model`, 'NO_MODEL');
    return this.#applyFeedback(sensorId, slot, slot.detector);
  }

  /** Checks the models folder: loads new or changed model directories, unloads removed ones. */
  /** Checks the models folder now: loads new or changed model directories, unloads removed ones. */
  poll(): Promise<void> {
    return this.#watcher.poll();
  }

  /** The watcher's list of model folders: load what is new or changed, unload what was removed. */
  async #sync(names: string[]): Promise<void> {
    for (const id of names) {
      const slot = this.#slot(id);
      if (slot.busy) continue;
      const sig = await modelSignature(pathInside(this.modelsDir, id));
      if (sig === slot.signature) continue;
      slot.signature = sig;
      await this.#load(id, slot, 'directory');
    }
    for (const [id, slot] of this.#slots) {
      if (names.includes(id) || slot.busy || !slot.detector) continue;
      this.#log(`models: ${id}: model directory removed; the sensor has no model now`);
      await this.#leases.retire(slot.detector);
      slot.detector = null;
      slot.signature = '';
      slot.state = 'none';
      for (const cb of slot.onChange) cb(null);
    }
  }

  async #load(sensorId: string, slot: Slot, fallbackSource: ModelSource): Promise<boolean> {
    const dir = pathInside(this.modelsDir, sensorId);
    try {
      const detector = await loadModel(dir);
      const src = await readFile(join(dir, 'source.json'), 'utf8')
        .then((t) => JSON.parse(t) as SourceJson)
        .catch(() => null);
      const old = slot.detector;
      slot.source = src?.source ?? fallbackSource;
      slot.trainingSeconds = src?.seconds ?? detector.fitted.training.seconds;
      slot.trainingClips = src?.files ?? detector.fitted.training.clips;
      slot.feedbackWindows = 0;
      await this.#applyFeedback(sensorId, slot, detector).catch((err) =>
        this.#log(`models: ${sensorId}: feedback not applied: ${(err as Error).message}`),
      );
      slot.detector = detector;
      slot.state = 'ready';
      slot.error = null;
      if (old) await this.#leases.retire(old);
      this.#log(
        `models: ${sensorId}: loaded ${detector.config.method} / ${detector.config.backbone} from ${dir}`,
      );
      for (const cb of slot.onChange) cb(detector);
      return true;
    } catch (err) {
      // Some loader errors (a bad calibration or method field) do not say which model they are about.
      const message = (err as Error).message;
      slot.error = message.includes(dir) ? message : `${dir}: ${message}`;
      if (!slot.detector) slot.state = 'failed';
      this.#log(`models: ${sensorId}: ${slot.error}`);
      return false;
    }
  }

  /** Teaches the detector the sensor's active feedback (detection's own API), from its fitted state. */
  async #applyFeedback(sensorId: string, slot: Slot, detector: Detector): Promise<number> {
    if (!detector.teachable) {
      slot.feedbackWindows = 0;
      return 0;
    }
    const summary = detector.applyFeedback(await this.opts.activeFeedback(sensorId));
    if (summary.refused.length)
      this.#log(
        `models: ${sensorId}: ${summary.refused.length} feedback item(s) do not fit this model's dimension`,
      );
    if (summary.windowsRefused.length)
      this.#log(
        `models: ${sensorId}: ${summary.windowsRefused.length} feedback item(s) kept log-mel windows of another size than this model's; only their patches are taught`,
      );
    slot.feedbackWindows = summary.windows;
    return summary.used.length;
  }

  async #fit(sensorId: string, slot: Slot, files: string[], source: SourceJson): Promise<void> {
    const staging = await stagingDir(this.modelsDir, sensorId);
    slot.state = 'fitting';
    this.#progress(sensorId, slot, { stage: 'spectrogram', done: 0, total: files.length });
    try {
      await runFitWorker({ files, config: this.opts.fitConfig ?? {}, outDir: staging, source }, (p) =>
        this.#progress(sensorId, slot, p),
      );
      await swapIn(this.modelsDir, sensorId, staging);
      slot.signature = await modelSignature(pathInside(this.modelsDir, sensorId));
      if (!(await this.#load(sensorId, slot, source.source)))
        throw new Error(slot.error ?? 'model did not load');
      slot.busy = false;
      this.#progress(sensorId, slot, { stage: 'done', done: 1, total: 1 });
      slot.progress = null;
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
  }

  #claim(sensorId: string): Slot {
    if (!isSensorId(sensorId)) throw new ModelError(`sensor id ${JSON.stringify(sensorId)} is not valid`);
    const slot = this.#slot(sensorId);
    if (slot.busy)
      throw new ModelError(
        `sensor ${sensorId} is already ${slot.state === 'recording' ? 'enrolling' : 'fitting'}`,
        'BUSY',
      );
    slot.busy = true;
    slot.error = null;
    return slot;
  }

  #fail(sensorId: string, slot: Slot, err: unknown): void {
    slot.busy = false;
    slot.error = err instanceof Error ? err.message : String(err);
    slot.state = slot.detector ? 'ready' : 'failed';
    this.#progress(sensorId, slot, { stage: 'failed', done: 0, total: 0, message: slot.error });
    slot.progress = null;
    this.#log(`models: ${sensorId}: ${slot.error}`);
  }

  #progress(sensorId: string, slot: Slot, p: Omit<FitProgressEvent, 'sensorId'>): void {
    slot.progress = { sensorId, ...p };
    this.opts.events.emit('model:progress', slot.progress);
  }

  #slot(sensorId: string): Slot {
    let s = this.#slots.get(sensorId);
    if (!s) {
      s = {
        detector: null,
        signature: '',
        source: null,
        trainingSeconds: null,
        trainingClips: null,
        feedbackWindows: 0,
        state: 'none',
        progress: null,
        error: null,
        busy: false,
        onChange: new Set(),
      };
      this.#slots.set(sensorId, s);
    }
    return s;
  }
}
