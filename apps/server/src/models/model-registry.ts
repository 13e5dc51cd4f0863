/**
 * The model registry: which detector each sensor scores with. Loads `DATA/models/<sensorId>/` (written by
 * `hark fit`, by enrolment or by an upload), notices directories placed or replaced by hand without a restart
 * (the watcher), fits new models in a worker thread and swaps them in atomically (`model-versions.ts`), and
 * applies operator feedback. Detectors in use are held by scoring's leases until released.
 *
 * Every model a sensor gets (a fit, an upload, an enrolment, a folder placed by hand) becomes a numbered
 * version kept on disk (`version-store.ts`). A new version does not replace a working model at once: it runs
 * in **shadow** beside it (`shadow-trial.ts`, scored by `scoring/shadow-scorer.ts`) until an admin activates
 * it, unless the request asks to activate it now. Any kept version can be activated again (roll back or
 * forward).
 */
import { cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  loadModel,
  MIN_TRAINING_CLIPS,
  resolveDetectorConfig,
  trainingNeeds,
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
  type ModelVersion,
  type ShadowTrial as ShadowTrialJson,
} from '@hark/protocol';
import { DetectorLeases, type DetectorLease } from '../scoring/leases.js';
import { ModelError } from './errors.js';
import { runFitWorker } from './fit-worker.js';
import { modelSignature, recoverSwaps, stagingDir, stampDir, swapIn } from './model-versions.js';
import { pullModels } from './model-sync.js';
import { ModelWatcher } from './model-watcher.js';
import { ShadowTrial } from './shadow-trial.js';
import { readVersionJson, VersionStore, writeVersionJson, type StoredVersion } from './version-store.js';
import type { HarkEvents } from '../events.js';
import { pathInside } from '../paths.js';
import type { BlobCache } from '../store/blob-cache.js';
import type { ModelVersionRepository } from '../store/model-version.repository.js';

export type ModelSource = 'enrol' | 'upload' | 'directory';

/** Where a fitted model came from, kept beside it as `source.json`. */
interface SourceJson {
  source: ModelSource;
  by: string | null;
  files: number;
  seconds: number;
}

/**
 * Longest wait of a poll for the pull of the database's models, ms: a fetch of a few MB takes well under a
 * second on a LAN, and a sensor's handshake (which polls) must stay well inside socket.io's 20 s connect
 * timeout.
 */
export const PULL_WAIT_MS = 5000;

/** Enrolment cuts its recording into clips of about this many seconds. */
export const ENROL_CLIP_SECONDS = 5;

/**
 * One active feedback item as the server keeps it: the alert's log-mel windows, and its patch embeddings
 * when the alert kept them (alerts raised before the patches were computed at teach time); null patches are
 * computed with the detector taught (`Detector.embedWindows`).
 */
export interface KeptFeedback {
  id: number;
  patches: Float32Array | null;
  windows: Float32Array | null;
}

export interface ModelRegistryOptions {
  dataDir: string;
  /** Where versions are kept for every instance (the database), and this instance's copies of their files. */
  versionStore: { versions: ModelVersionRepository; cache: BlobCache };
  events: HarkEvents;
  pollMs: number;
  /** Records `seconds` of the sensor's live stream at the analysis rate (throws when it is not streaming). */
  record: (
    sensorId: string,
    seconds: number,
    progress: (done: number, total: number) => void,
  ) => Promise<Float32Array>;
  /** Active (not reverted) feedback of a sensor, read when a model is (re)loaded. */
  activeFeedback: (sensorId: string) => Promise<KeptFeedback[]>;
  /**
   * Starts collecting the sensor's anomaly alerts (open now, or opening later); the function it returns
   * stops and gives their ids. An enrolment watches its recording: such alerts flag it.
   */
  watchAlerts?: (sensorId: string) => () => number[];
  /** Detector parameters of models fitted by the server. */
  fitConfig?: DetectorConfigInput;
  /** Versions kept per sensor, the active and shadow ones included (never deleted). Default 10. */
  keepVersions?: number;
  /** Sensors that may run a shadow model at once (each holds a second model in memory). Default 2. */
  maxShadowModels?: number;
  /** The live alert rule, which shadow trials replay on both models. */
  alertRule?: { openWindows: number; closeWindows: number };
  log?: (line: string) => void;
}

/** How a new version is put to use: on trial beside the active model (default), or at once. */
export interface NewVersionOptions {
  /** Skip the shadow trial and replace the active model now (`?activate=now`). */
  activateNow?: boolean;
}

interface Shadow {
  version: number;
  detector: Detector;
  trial: ShadowTrial;
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
  /** The version in use (from its `version.json`), null without one. */
  version: number | null;
  /** `model.json`'s `burnIn` field of the model in use (null: not set; see models/burn-in.service.ts). */
  burnIn: boolean | null;
  shadow: Shadow | null;
  onChange: Set<(d: Detector | null) => void>;
}

/** What a fit's version records of its training audio besides the model's own summary. */
interface VersionPlan {
  flags: ModelVersion['flags'];
  warnings: string[];
  activateNow: boolean;
}

export class ModelRegistry {
  readonly modelsDir: string;
  readonly versions: VersionStore;
  readonly #slots = new Map<string, Slot>();
  readonly #leases = new DetectorLeases();
  readonly #watcher: ModelWatcher;
  readonly #log: (line: string) => void;
  readonly #maxShadows: number;
  /** Each sensor's active version in the database at the last pull (`model-sync.ts`). */
  readonly #seenActive = new Map<string, string>();
  #pulling: Promise<void> | null = null;

  constructor(readonly opts: ModelRegistryOptions) {
    this.modelsDir = join(opts.dataDir, 'models');
    this.#log = opts.log ?? (() => {});
    this.versions = new VersionStore(
      opts.dataDir,
      opts.keepVersions ?? 10,
      opts.versionStore.versions,
      opts.versionStore.cache,
      this.#log,
    );
    this.#maxShadows = opts.maxShadowModels ?? 2;
    this.#watcher = new ModelWatcher(
      this.modelsDir,
      opts.pollMs,
      (ids) => this.#sync(ids),
      this.#log,
      () => this.#pull(),
    );
  }

  /**
   * Stores the versions of an older data directory in the database (once), installs the versions the
   * database names active, loads every model directory (a model without a version becomes the next version of
   * its sensor: an existing single model is version 1), resumes the shadow trials a stop left running, then
   * keeps watching (and pulling the database's changes before each look).
   */
  async start(): Promise<void> {
    await mkdir(this.modelsDir, { recursive: true });
    await recoverSwaps(this.modelsDir);
    await this.versions.start();
    await this.#watcher.start();
    for (const sensorId of await this.versions.sensorIds()) {
      const slot = this.#slots.get(sensorId);
      if (!slot?.detector) continue;
      const running = (await this.versions.list(sensorId)).filter(
        (v) => v.meta.trial?.outcome === 'running' && v.meta.version !== slot.version,
      );
      const last = running.at(-1);
      if (last) await this.#startShadow(sensorId, slot, last.meta.version, last.meta.trial!);
    }
  }

  async stop(): Promise<void> {
    await this.#watcher.stop();
    await this.#pulling?.catch(() => undefined);
    for (const [id, slot] of this.#slots) {
      if (slot.shadow) {
        // Left running in the store: the next start resumes the trial. Every instance of a cluster resumes it
        // at its start, but only the one scoring the sensor advances it: the record with more windows wins,
        // so an instance that merely held the shadow does not set the trial back.
        const { version, detector, trial } = slot.shadow;
        slot.shadow = null;
        const mine = trial.toJSON();
        const stored = (await this.versions.get(id, version).catch(() => null))?.meta.trial;
        if (!stored || stored.outcome !== 'running' || mine.windows >= stored.windows)
          await this.versions.update(id, version, { trial: mine }).catch(() => null);
        await this.#leases.retire(detector);
      }
      if (slot.detector) await this.#leases.retire(slot.detector);
      slot.detector = null;
    }
  }

  /** Throws `BUSY` while the sensor enrols or fits (it cannot be deleted then). */
  checkRemovable(sensorId: string): void {
    const slot = this.#slots.get(sensorId);
    if (slot?.busy)
      throw new ModelError(
        `sensor ${sensorId} is ${slot.state === 'recording' ? 'enrolling' : 'fitting'}: delete it when that ends`,
        'BUSY',
      );
  }

  /**
   * A deleted sensor: its model and shadow are unloaded, its versions leave the database (and their blobs,
   * unless another version names them; other instances retire their copies at their next pull) and its folders
   * (`models/<id>`, `model-versions/<id>`) leave the registry's view. Kept here (for the record: which model
   * raised its alerts) under `DATA/retired/<id>-<time>/`, or removed when `purge`. Returns where they were
   * kept (null: nothing, or purged). Refused (`BUSY`) while the sensor enrols or fits.
   */
  async remove(sensorId: string, o: { purge: boolean; at: number }): Promise<string | null> {
    this.checkRemovable(sensorId);
    const slot = this.#slots.get(sensorId);
    if (slot) {
      this.#slots.delete(sensorId);
      if (slot.shadow) await this.#leases.retire(slot.shadow.detector);
      if (slot.detector) await this.#leases.retire(slot.detector);
      slot.shadow = null;
      slot.detector = null;
      for (const cb of slot.onChange) cb(null);
    }
    if (!o.purge) {
      // Kept for the record here: the versions made on other instances come to this disk first.
      for (const n of await this.versions.numbers(sensorId))
        await this.versions
          .materialise(sensorId, n)
          .catch((err: Error) =>
            this.#log(`models: ${sensorId}: version ${n} could not be kept: ${err.message}`),
          );
    }
    await this.versions.removeSensor(sensorId);
    const dirs = [
      { from: pathInside(this.modelsDir, sensorId), name: 'models' },
      { from: pathInside(this.versions.root, sensorId), name: 'model-versions' },
    ];
    const present = [];
    for (const d of dirs) if (await stat(d.from).catch(() => null)) present.push(d);
    if (present.length === 0) return null;
    if (o.purge) {
      for (const d of present) await rm(d.from, { recursive: true, force: true });
      this.#log(`models: ${sensorId}: deleted with the sensor (purge)`);
      return null;
    }
    const stamp = new Date(o.at).toISOString().replace(/[:.]/g, '-');
    const kept = pathInside(join(this.opts.dataDir, 'retired'), `${sensorId}-${stamp}`);
    await mkdir(kept, { recursive: true });
    for (const d of present) await rename(d.from, join(kept, d.name));
    this.#log(`models: ${sensorId}: the sensor was deleted; its model and versions are kept in ${kept}`);
    return kept;
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

  /** The sensor's shadow detector (held like `acquire`) and its trial, or null. */
  acquireShadow(sensorId: string): { lease: DetectorLease; trial: ShadowTrial } | null {
    const shadow = this.#slots.get(sensorId)?.shadow;
    return shadow ? { lease: this.#leases.acquire(shadow.detector), trial: shadow.trial } : null;
  }

  /** Sensors with a model, or with an enrolment or fit under way. */
  sensorIds(): string[] {
    return [...this.#slots].filter(([, s]) => s.state !== 'none' || s.busy).map(([id]) => id);
  }

  detector(sensorId: string): Detector | null {
    return this.#slots.get(sensorId)?.detector ?? null;
  }

  /** `model.json`'s `burnIn` field of the sensor's model in use (null: not set, or no model). */
  burnInAsked(sensorId: string): boolean | null {
    return this.#slots.get(sensorId)?.burnIn ?? null;
  }

  /** What a fit needs, for clips of `clipSeconds` (enrolment's by default). */
  needs(clipSeconds = ENROL_CLIP_SECONDS) {
    return trainingNeeds(this.opts.fitConfig ?? {}, clipSeconds);
  }

  status(sensorId: string): ModelStatus {
    const slot = this.#slots.get(sensorId);
    const d = slot?.detector ?? null;
    const needs = this.needs();
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
      version: d ? (slot?.version ?? null) : null,
      shadowVersion: slot?.shadow?.version ?? null,
      minTrainingClips: needs.minClips,
      recommendedEnrolSeconds: needs.recommendedSeconds,
    };
  }

  /** The sensor's kept versions, newest first, with which is active and which on trial. */
  async listVersions(sensorId: string): Promise<ModelVersion[]> {
    const slot = this.#slots.get(sensorId);
    return (await this.versions.list(sensorId)).reverse().map((v) => this.#toVersion(sensorId, slot, v));
  }

  async version(sensorId: string, version: number): Promise<ModelVersion> {
    const v = await this.versions.get(sensorId, version);
    if (!v)
      throw new ModelError(
        `sensor ${sensorId} has no model version ${version} (GET /api/sensors/${sensorId}/models lists them)`,
        'NO_VERSION',
      );
    return this.#toVersion(sensorId, this.#slots.get(sensorId), v);
  }

  /**
   * Makes `version` the model in use (roll back or forward); a shadow of that version is promoted (its trial
   * ends as such). The sensor must not be fitting or enrolling meanwhile.
   */
  async activate(sensorId: string, version: number, by: string): Promise<ModelVersion> {
    await this.version(sensorId, version);
    const slot = this.#claim(sensorId);
    try {
      if (slot.version !== version || !slot.detector) await this.#install(sensorId, slot, version, by);
      if (slot.shadow?.version === version) await this.#endShadow(sensorId, slot, 'promoted', by);
      await this.#prune(sensorId, slot);
    } finally {
      slot.busy = false;
    }
    return this.version(sensorId, version);
  }

  /** Ends the shadow trial of `version` without activating it (the version is kept). */
  async discard(sensorId: string, version: number, by: string): Promise<ModelVersion> {
    await this.version(sensorId, version);
    const slot = this.#slots.get(sensorId);
    if (slot?.shadow?.version !== version)
      throw new ModelError(
        `version ${version} of sensor ${sensorId} is not on trial (the shadow is ${slot?.shadow?.version ?? 'none'})`,
        'NOT_SHADOW',
      );
    await this.#endShadow(sensorId, slot, 'discarded', by);
    return this.version(sensorId, version);
  }

  /** Records `seconds` of the live stream, cuts it into clips, and fits on them in the background. */
  enrol(sensorId: string, seconds: number, by: string, o: NewVersionOptions = {}): ModelStatus {
    const problem = enrolSecondsProblem(seconds);
    if (problem) throw new ModelError(problem);
    this.#checkShadowRoom(sensorId, o);
    const slot = this.#claim(sensorId);
    const before = slot.state;
    const alertsDuring = this.#watchAlerts(sensorId);
    let recording: Promise<Float32Array>;
    try {
      // Throws at once when the sensor is not streaming.
      recording = this.opts.record(sensorId, seconds, (done, total) =>
        this.#progress(sensorId, slot, { stage: 'recording', done, total }),
      );
    } catch (err) {
      alertsDuring();
      slot.busy = false;
      slot.state = before;
      throw err instanceof ModelError ? err : new ModelError((err as Error).message, 'NOT_STREAMING');
    }
    slot.state = 'recording';
    this.#progress(sensorId, slot, { stage: 'recording', done: 0, total: seconds });
    let alerts: number[] = [];
    void (async () => {
      try {
        const audio = await recording.finally(() => (alerts = alertsDuring()));
        const plan = this.#plan(seconds, this.needs().recommendedSeconds, 's', o, alerts);
        const rate = resolveDetectorConfig(this.opts.fitConfig ?? {}).mel.sampleRate;
        const dir = await stampDir(this.opts.dataDir, 'enrol', sensorId);
        // Clips of about 5 s, at least MIN_TRAINING_CLIPS + 2 so some are held out for the threshold.
        const n = Math.max(MIN_TRAINING_CLIPS + 2, Math.round(audio.length / rate / ENROL_CLIP_SECONDS));
        const len = Math.floor(audio.length / n);
        const files: string[] = [];
        for (let i = 0; i < n; i++) {
          const f = join(dir, `clip-${String(i).padStart(3, '0')}.wav`);
          await writeFile(f, encodeWav(audio.subarray(i * len, (i + 1) * len), rate, 'f32'));
          files.push(f);
        }
        await this.#fit(
          sensorId,
          slot,
          files,
          { source: 'enrol', by, files: n, seconds: audio.length / rate },
          plan,
        );
      } catch (err) {
        this.#fail(sensorId, slot, err);
      }
    })();
    return this.status(sensorId);
  }

  /** Checks the WAVs now (a clear error names the bad file), then fits on them in the background. */
  async upload(
    sensorId: string,
    files: { name: string; path: string }[],
    by: string,
    o: NewVersionOptions = {},
  ): Promise<ModelStatus> {
    if (files.length < MIN_TRAINING_CLIPS)
      throw new ModelError(
        `upload at least ${MIN_TRAINING_CLIPS} normal WAV clips (got ${files.length}): each is held out once to calibrate the threshold (hark fit needs the same); cut long recordings into ~5 s clips`,
      );
    let seconds = 0;
    // One file in memory at a time: the upload itself is on disk (temporary files).
    for (const f of files) {
      try {
        const data = await readFile(f.path);
        const w = decodeWav(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), f.name);
        const rateProblem = wavSampleRateProblem(w.sampleRate);
        if (rateProblem) throw new Error(`${f.name}: ${rateProblem}`);
        if (w.samples.length < w.sampleRate)
          throw new Error(`${f.name}: ${(w.samples.length / w.sampleRate).toFixed(2)} s is shorter than 1 s`);
        seconds += w.samples.length / w.sampleRate;
      } catch (err) {
        throw new ModelError((err as Error).message, 'BAD_AUDIO');
      }
    }
    this.#checkShadowRoom(sensorId, o);
    const slot = this.#claim(sensorId);
    const needs = this.needs(seconds / files.length);
    const plan = this.#plan(files.length, needs.recommendedClips, 'clips', o, []);
    // Fitting from here on (the answer says so), while the current model, if any, keeps scoring.
    slot.state = 'fitting';
    this.#progress(sensorId, slot, { stage: 'spectrogram', done: 0, total: files.length });
    try {
      const dir = await stampDir(this.opts.dataDir, 'uploads', sensorId);
      const paths: string[] = [];
      for (const [i, f] of files.entries()) {
        const safe = f.name.replace(/[^A-Za-z0-9._-]/g, '_').slice(-80);
        const p = pathInside(dir, `${String(i).padStart(3, '0')}-${safe}`);
        await rename(f.path, p);
        paths.push(p);
      }
      void this.#fit(
        sensorId,
        slot,
        paths,
        { source: 'upload', by, files: files.length, seconds },
        plan,
      ).catch((err) => this.#fail(sensorId, slot, err));
    } catch (err) {
      this.#fail(sensorId, slot, err);
      throw err;
    }
    return this.status(sensorId);
  }

  /** Re-reads the sensor's active feedback and rebuilds its bank (after teach / revert), and the shadow's. */
  async applyFeedback(sensorId: string): Promise<number> {
    const slot = this.#slots.get(sensorId);
    if (!slot?.detector) throw new ModelError(`sensor ${sensorId} has no model`, 'NO_MODEL');
    if (slot.shadow) await this.#teachShadow(sensorId, slot.shadow.detector);
    return this.#applyFeedback(sensorId, slot, slot.detector);
  }

  /**
   * Checks now: installs the versions the database names active (set on another instance too), then loads
   * new or changed model directories and unloads removed ones.
   */
  poll(): Promise<void> {
    return this.#watcher.poll();
  }

  /**
   * The database's active versions installed here, models deleted elsewhere retired (`model-sync.ts`). One
   * pull at a time; a poll (and a sensor's handshake, which polls) waits for it at most `PULL_WAIT_MS`, so a
   * database that does not answer (a network partition) holds neither: the pull goes on behind, and the
   * next poll loads what it installed.
   */
  async #pull(): Promise<void> {
    this.#pulling ??= pullModels({
      modelsDir: this.modelsDir,
      dataDir: this.opts.dataDir,
      versions: this.versions,
      busy: (id) => this.#slots.get(id)?.busy ?? false,
      seen: this.#seenActive,
      mayHaveChanged: (id) => this.#watcher.pullMayHaveChanged(id),
      log: this.#log,
    })
      .then(() => undefined)
      .finally(() => (this.#pulling = null));
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, PULL_WAIT_MS);
      timer.unref();
    });
    try {
      await Promise.race([this.#pulling, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The watcher's list of model folders: load what is new or changed, unload what was removed. */
  async #sync(names: string[]): Promise<void> {
    for (const id of names) {
      const slot = this.#slot(id);
      if (slot.busy || !this.#watcher.mayHaveChanged(id)) continue;
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
      slot.version = null;
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
      slot.burnIn = await readFile(join(dir, 'model.json'), 'utf8')
        .then((t) => (JSON.parse(t) as { burnIn?: unknown }).burnIn)
        .then((b) => (typeof b === 'boolean' ? b : null))
        .catch(() => null);
      slot.source = src?.source ?? fallbackSource;
      slot.trainingSeconds = src?.seconds ?? detector.fitted.training.seconds;
      slot.trainingClips = src?.files ?? detector.fitted.training.clips;
      slot.feedbackWindows = 0;
      slot.version = await this.#versionOf(sensorId, slot, dir, detector, src).catch((err) => {
        this.#log(`models: ${sensorId}: the model was not kept as a version: ${(err as Error).message}`);
        return null;
      });
      // Every instance installs it (`pullModels`): the one in use here is the sensor's model everywhere.
      if (slot.version !== null)
        await this.versions
          .setActive(sensorId, slot.version)
          .catch((err) =>
            this.#log(
              `models: ${sensorId}: version ${slot.version} not made active in the database: ${(err as Error).message}`,
            ),
          );
      const taught = await this.#applyFeedback(sensorId, slot, detector).catch((err) => {
        this.#log(`models: ${sensorId}: feedback not applied: ${(err as Error).message}`);
        return 0;
      });
      if (taught > 0) await this.#warmUp(sensorId, detector);
      slot.detector = detector;
      slot.state = 'ready';
      slot.error = null;
      if (old) await this.#leases.retire(old);
      this.#log(
        `models: ${sensorId}: loaded ${detector.config.method} / ${detector.config.backbone} from ${dir}` +
          (slot.version ? ` (version ${slot.version})` : ''),
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

  /**
   * A model's one-time costs paid before it scores a live window (`Detector.warmUp`), so that they do not
   * delay its sensor's first windows nor read as a slow scorer to the hop governor. `loadModel` already scored
   * a window; this is for a model taught feedback since, whose new memories pay their first search again.
   * Logged, never fatal: the model scores as well without it.
   */
  async #warmUp(sensorId: string, detector: Detector): Promise<void> {
    await detector
      .warmUp()
      .catch((err) => this.#log(`models: ${sensorId}: warm-up failed: ${(err as Error).message}`));
  }

  /**
   * The version number of the model in `dir` (the active folder): its `version.json` when that names a kept
   * version of this sensor with the same fit; otherwise (a model placed by hand, or the single model of an
   * older data directory) the model is kept as the sensor's next version first.
   */
  async #versionOf(
    sensorId: string,
    slot: Slot,
    dir: string,
    detector: Detector,
    src: SourceJson | null,
  ): Promise<number> {
    const fittedAt = detector.fitted.training.fittedAt;
    const meta = await readVersionJson(dir);
    if (meta?.sensorId === sensorId) {
      const kept = await this.versions.get(sensorId, meta.version);
      if (kept?.meta.fittedAt === fittedAt) return meta.version;
    }
    const now = Date.now();
    const v = await this.versions.add(sensorId, dir, {
      createdAt: now,
      source: src?.source ?? 'directory',
      by: src?.by ?? null,
      flags: { short: false, alertsDuring: [] },
      warnings: [],
      activatedAt: now,
      activatedBy: null,
      trial: null,
    });
    await writeVersionJson(dir, v);
    slot.signature = await modelSignature(dir);
    this.#log(`models: ${sensorId}: the model in use is kept as version ${v.version}`);
    await this.#prune(sensorId, { ...slot, version: v.version });
    return v.version;
  }

  /** Copies kept `version` into the active folder (staging, then the atomic swap) and loads it. */
  async #install(sensorId: string, slot: Slot, version: number, by: string | null): Promise<void> {
    const staging = await stagingDir(this.modelsDir, sensorId);
    try {
      await cp(await this.versions.materialise(sensorId, version), staging, { recursive: true });
      const meta = await this.versions.update(sensorId, version, {
        activatedAt: Date.now(),
        activatedBy: by,
      });
      if (meta) await writeVersionJson(staging, meta);
      await swapIn(this.modelsDir, sensorId, staging);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    slot.signature = await modelSignature(pathInside(this.modelsDir, sensorId));
    if (!(await this.#load(sensorId, slot, 'directory')))
      throw new Error(slot.error ?? `version ${version} did not load`);
  }

  /** Loads kept `version` as the sensor's shadow, replacing a shadow it had (that trial ends 'replaced'). */
  async #startShadow(sensorId: string, slot: Slot, version: number, saved?: ShadowTrialJson): Promise<void> {
    if (slot.shadow) await this.#endShadow(sensorId, slot, 'replaced', null);
    const detector = await loadModel(await this.versions.materialise(sensorId, version));
    const active = slot.detector;
    const same =
      !active ||
      (active.config.windowSeconds === detector.config.windowSeconds &&
        JSON.stringify(active.config.mel) === JSON.stringify(detector.config.mel));
    if (!same) {
      await detector.release();
      const warning =
        'not run in shadow: its analysis parameters (window, log-mel) differ from the active model, so it cannot score the same windows; activate it to use it';
      const meta = (await this.versions.get(sensorId, version))?.meta;
      await this.versions.update(sensorId, version, { warnings: [...(meta?.warnings ?? []), warning] });
      this.#log(`models: ${sensorId}: version ${version} ${warning}`);
      return;
    }
    if (await this.#teachShadow(sensorId, detector)) await this.#warmUp(sensorId, detector);
    const trial = new ShadowTrial(
      version,
      {
        mel: detector.config.mel,
        openWindows: this.opts.alertRule?.openWindows ?? 2,
        closeWindows: this.opts.alertRule?.closeWindows ?? 2,
      },
      saved,
    );
    slot.shadow = { version, detector, trial };
    await this.versions.update(sensorId, version, { trial: trial.toJSON() });
    this.#log(`models: ${sensorId}: version ${version} runs in shadow beside version ${slot.version}`);
    for (const cb of slot.onChange) cb(slot.detector);
  }

  async #endShadow(
    sensorId: string,
    slot: Slot,
    outcome: 'promoted' | 'discarded' | 'replaced',
    by: string | null,
  ): Promise<void> {
    const shadow = slot.shadow;
    if (!shadow) return;
    slot.shadow = null;
    const trial = shadow.trial.end(outcome, by);
    await this.#leases.retire(shadow.detector);
    await this.versions.update(sensorId, shadow.version, { trial });
    this.#log(`models: ${sensorId}: the shadow trial of version ${shadow.version} ended: ${outcome}`);
    for (const cb of slot.onChange) cb(slot.detector);
  }

  /**
   * The shadow learns the sensor's feedback too, so the trial compares like with like. Whether it was taught
   * anything.
   */
  async #teachShadow(sensorId: string, detector: Detector): Promise<boolean> {
    if (!detector.teachable) return false;
    try {
      return detector.applyFeedback(await this.#feedbackFor(sensorId, detector)).used.length > 0;
    } catch (err) {
      this.#log(`models: ${sensorId}: feedback not applied to the shadow: ${(err as Error).message}`);
      return false;
    }
  }

  /** A new version needs a shadow slot unless it is activated now or is the sensor's first model. */
  #checkShadowRoom(sensorId: string, o: NewVersionOptions): void {
    const slot = this.#slots.get(sensorId);
    if (o.activateNow || !slot?.detector || slot.shadow) return;
    if (this.#maxShadows === 0)
      throw new ModelError(
        'shadow trials are off (HARK_MAX_SHADOW_MODELS=0): add ?activate=now to replace the model without a trial',
        'SHADOW_LIMIT',
      );
    const running = [...this.#slots].filter(([, s]) => s.shadow).map(([id]) => id);
    if (running.length >= this.#maxShadows)
      throw new ModelError(
        `${running.length} sensor(s) already run a shadow model (${running.join(', ')}), the most at once ` +
          `(HARK_MAX_SHADOW_MODELS=${this.#maxShadows}): promote or discard one first, or add ?activate=now ` +
          'to replace the model without a trial',
        'SHADOW_LIMIT',
      );
  }

  /** Flags and warnings of a new version's training audio, and whether it may replace the model at once. */
  #plan(
    amount: number,
    recommended: number,
    unit: 's' | 'clips',
    o: NewVersionOptions,
    alerts: number[],
  ): VersionPlan {
    const needs = this.needs();
    const short = amount < recommended;
    const warnings: string[] = [];
    if (short)
      warnings.push(
        `trained on ${amount} ${unit}, less than the recommended ${recommended} ${unit}: ${needs.reason}`,
      );
    if (alerts.length)
      warnings.push(
        `${alerts.length} alert(s) were open during the enrolment (${alerts.map((a) => `#${a}`).join(', ')}): ` +
          'the recording may hold the fault it should detect; it runs in shadow first' +
          (o.activateNow ? ' although ?activate=now was asked' : ''),
      );
    return {
      flags: { short, alertsDuring: alerts },
      warnings,
      // A recording that held an alert is never put in use without a trial.
      activateNow: !!o.activateNow && alerts.length === 0,
    };
  }

  /** `opts.watchAlerts` for `sensorId`, or nothing to watch; a failure is logged, not fatal. */
  #watchAlerts(sensorId: string): () => number[] {
    try {
      return this.opts.watchAlerts?.(sensorId) ?? (() => []);
    } catch (err) {
      this.#log(`models: ${sensorId}: alerts during the enrolment not watched: ${(err as Error).message}`);
      return () => [];
    }
  }

  async #prune(sensorId: string, slot: Pick<Slot, 'version' | 'shadow'>): Promise<void> {
    const gone = await this.versions.prune(sensorId, [slot.version, slot.shadow?.version ?? null]);
    if (gone.length)
      this.#log(
        `models: ${sensorId}: removed old version(s) ${gone.join(', ')} (keeping ${this.versions.keep})`,
      );
  }

  #toVersion(sensorId: string, slot: Slot | undefined, v: StoredVersion): ModelVersion {
    const { meta, model } = v;
    const c = model.fitted.calibration;
    const t = model.fitted.training;
    const shadow = slot?.shadow?.version === meta.version ? slot.shadow : null;
    return {
      sensorId,
      version: meta.version,
      active: !!slot?.detector && slot.version === meta.version,
      shadow: !!shadow,
      createdAt: meta.createdAt,
      source: meta.source,
      by: meta.by,
      method: model.config.method,
      backbone: model.config.backbone,
      threshold: c.threshold,
      fittedAt: t.fittedAt,
      trainingSeconds: t.seconds,
      trainingClips: t.clips,
      trainingWindows: t.windows,
      calibration: {
        method: c.method,
        clips: t.calibrationClips,
        scores: c.n,
        mean: c.mean,
        std: c.std,
        q: c.q,
        perDay: c.rate?.perDay ?? null,
      },
      flags: meta.flags,
      warnings: meta.warnings,
      activatedAt: meta.activatedAt,
      activatedBy: meta.activatedBy ?? null,
      trial: shadow ? shadow.trial.toJSON() : meta.trial,
      burnIn: null, // the model service adds it (models/burn-in.service.ts)
    };
  }

  /**
   * The sensor's active feedback as `detector` is taught it: an item kept without patches gets the
   * detector's patches of its windows (`embedWindows`: the rows a live window's score used); one whose
   * windows do not fit this detector is left out, and said.
   */
  async #feedbackFor(sensorId: string, detector: Detector): Promise<FeedbackItem[]> {
    const size = detector.config.mel.nMels * detector.windowFrames;
    const out: FeedbackItem[] = [];
    let misfit = 0;
    for (const f of await this.opts.activeFeedback(sensorId)) {
      if (f.patches) out.push({ id: f.id, patches: f.patches, windows: f.windows });
      else if (f.windows && f.windows.length > 0 && f.windows.length % size === 0)
        out.push({ id: f.id, patches: await detector.embedWindows(f.windows), windows: f.windows });
      else misfit++;
    }
    if (misfit > 0)
      this.#log(
        `models: ${sensorId}: ${misfit} feedback item(s) kept log-mel windows of another size than this model's; they are not taught`,
      );
    return out;
  }

  /** Teaches the detector the sensor's active feedback (detection's own API), from its fitted state. */
  async #applyFeedback(sensorId: string, slot: Slot, detector: Detector): Promise<number> {
    if (!detector.teachable) {
      slot.feedbackWindows = 0;
      return 0;
    }
    const summary = detector.applyFeedback(await this.#feedbackFor(sensorId, detector));
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

  /**
   * Fits in the worker into a staging folder, keeps the result as the sensor's next version, then puts it in
   * use (no model yet, or `activateNow`) or on trial in shadow.
   */
  async #fit(
    sensorId: string,
    slot: Slot,
    files: string[],
    source: SourceJson,
    plan: VersionPlan,
  ): Promise<void> {
    const staging = await stagingDir(this.modelsDir, sensorId);
    slot.state = 'fitting';
    this.#progress(sensorId, slot, { stage: 'spectrogram', done: 0, total: files.length });
    let version: number;
    try {
      await runFitWorker({ files, config: this.opts.fitConfig ?? {}, outDir: staging, source }, (p) =>
        this.#progress(sensorId, slot, p),
      );
      version = (
        await this.versions.add(
          sensorId,
          staging,
          {
            createdAt: Date.now(),
            source: source.source,
            by: source.by,
            flags: plan.flags,
            warnings: plan.warnings,
            activatedAt: null,
            activatedBy: null,
            trial: null,
          },
          true,
        )
      ).version;
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    if (plan.activateNow || !slot.detector) await this.#install(sensorId, slot, version, source.by);
    else await this.#startShadow(sensorId, slot, version);
    await this.#prune(sensorId, slot);
    slot.busy = false;
    slot.state = slot.detector ? 'ready' : 'failed';
    this.#progress(sensorId, slot, { stage: 'done', done: 1, total: 1 });
    slot.progress = null;
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
        version: null,
        burnIn: null,
        shadow: null,
        onChange: new Set(),
      };
      const slot = s;
      // Every swap (a load, a fit done, an activation, a shadow started or ended, a folder removed) is told
      // to listeners off the data path too: other instances of a cluster reload the sensor's model.
      s.onChange.add(() =>
        this.opts.events.emit('model:changed', {
          sensorId,
          version: slot.detector ? slot.version : null,
          shadowVersion: slot.shadow?.version ?? null,
        }),
      );
      this.#slots.set(sensorId, s);
    }
    return s;
  }
}
