/**
 * The models as the REST API sees them: status, enrolment, uploads and operator feedback, over the model
 * registry, the store and the alert media, and the record of each fit in the store. Feedback is reversible:
 * the detector returns to its fitted state and is taught the active feedback each time it changes.
 */
import type { ModelBurnIn, ModelStatus, ModelVersion } from '@hark/protocol';
import type { HarkEvents } from '../events.js';
import type { AlertMediaStore } from '../alerts/alert-media.js';
import type { HarkStore } from '../store/store.js';
import { ModelsPort, type FeedbackInfo, type UploadedWav } from '../http/ports.js';
import { NotFoundError } from '../store/errors.js';
import { ModelError } from './errors.js';
import type { BurnInService } from './burn-in.service.js';
import type { KeptFeedback, ModelRegistry } from './model-registry.js';

export class ModelService extends ModelsPort {
  constructor(
    readonly models: ModelRegistry,
    readonly store: HarkStore,
    readonly media: AlertMediaStore,
    readonly events: HarkEvents,
    /** Live burn-ins (absent: none; a version's `burnIn` is then null and its routes answer 404). */
    readonly burnIns: BurnInService | null = null,
  ) {
    super();
    events.on('model:progress', (p) => {
      if (p.stage !== 'done' && p.stage !== 'failed') return;
      const s = this.models.status(p.sensorId);
      // A fit that went to shadow (the newest version) is recorded when it is activated, not now.
      if (p.stage === 'done' && s.shadowVersion !== null && s.shadowVersion > (s.version ?? 0)) return;
      // The model itself is on disk; its history row is bookkeeping (best-effort on a full disk).
      void this.store.health.attempt('model', () =>
        this.store.models.record({
          sensorId: p.sensorId,
          source: s.source ?? 'directory',
          fittedAt: p.stage === 'done' ? s.fittedAt : null,
          trainingSeconds: s.trainingSeconds,
          trainingClips: s.trainingClips,
          method: s.method,
          backbone: s.backbone,
          bankSize: s.bankSize,
          threshold: s.threshold,
          error: p.stage === 'failed' ? (p.message ?? 'fit failed') : null,
        }),
      );
    });
  }

  status(sensorId: string): ModelStatus {
    return this.models.status(sensorId);
  }

  enrol(sensorId: string, seconds: number, by: string, o: { activateNow?: boolean } = {}): ModelStatus {
    return this.models.enrol(sensorId, seconds, by, o);
  }

  upload(
    sensorId: string,
    files: UploadedWav[],
    by: string,
    o: { activateNow?: boolean } = {},
  ): Promise<ModelStatus> {
    return this.models.upload(sensorId, files, by, o);
  }

  async versions(sensorId: string): Promise<ModelVersion[]> {
    const versions = await this.models.listVersions(sensorId);
    const burnIns = new Map((await this.burnIns?.list(sensorId))?.map((b) => [b.version, b]));
    return versions.map((v) => ({ ...v, burnIn: burnIns.get(v.version) ?? null }));
  }

  async burnIn(sensorId: string, version: number): Promise<ModelBurnIn> {
    return this.#burnIns().get(sensorId, version);
  }

  revertBurnIn(sensorId: string, version: number, by: string): Promise<ModelBurnIn> {
    return this.#burnIns().revert(sensorId, version, by);
  }

  restartBurnIn(sensorId: string, version: number, by: string): Promise<ModelBurnIn> {
    return this.#burnIns().restart(sensorId, version, by);
  }

  #burnIns(): BurnInService {
    if (!this.burnIns) throw new NotFoundError('this server keeps no burn-ins');
    return this.burnIns;
  }

  async activate(sensorId: string, version: number, by: string): Promise<ModelVersion> {
    const v = await this.models.activate(sensorId, version, by);
    await this.store.health.attempt('model', () =>
      this.store.models.record({
        sensorId,
        source: v.source,
        fittedAt: v.fittedAt,
        trainingSeconds: v.trainingSeconds,
        trainingClips: v.trainingClips,
        method: v.method,
        backbone: v.backbone,
        bankSize: this.models.status(sensorId).bankSize,
        threshold: v.threshold,
      }),
    );
    return v;
  }

  discard(sensorId: string, version: number, by: string): Promise<ModelVersion> {
    return this.models.discard(sensorId, version, by);
  }

  async listFeedback(sensorId: string): Promise<FeedbackInfo[]> {
    return (await this.store.feedback.listBySensor(sensorId)).map(({ path: _path, ...info }) => info);
  }

  async teach(alertId: number, by: string): Promise<FeedbackInfo> {
    const alert = await this.store.alerts.require(alertId);
    if (alert.kind !== 'anomaly')
      throw new ModelError(
        `alert ${alertId} is a ${alert.kind} alert: there is no sound to learn`,
        'NOT_TEACHABLE',
      );
    const d = this.models.detector(alert.sensorId);
    if (!d) throw new ModelError(`sensor ${alert.sensorId} has no model to teach`, 'NO_MODEL');
    if (!d.teachable)
      throw new ModelError(
        `feedback extends a PatchCore memory bank; sensor ${alert.sensorId} uses ${d.config.method}`,
        'NOT_TEACHABLE',
      );
    const existing = await this.store.feedback.latestForAlert(alertId);
    if (existing && existing.revertedAt === null)
      throw new ModelError(`alert ${alertId} was already taught (feedback ${existing.id})`, 'ALREADY_TAUGHT');
    const { grid } = d.fitted;
    const perWindow = grid.height * grid.width;
    // Alerts kept their patches until the patches were computed from the windows (`Detector.embedWindows`);
    // those are taught as they were kept.
    const patches = await this.media.readPatches(alertId);
    const windows = patches ? null : await this.media.readWindows(alertId);
    let counts: { windows: number; patches: number; file: 'patches' | 'windows' };
    if (patches && patches.length > 0) {
      if (patches.length % grid.dim !== 0)
        throw new ModelError(
          `alert ${alertId}'s patches (${patches.length} values) do not fit this model (dim ${grid.dim}); the model changed since`,
          'NOT_TEACHABLE',
        );
      const rows = patches.length / grid.dim;
      counts = { windows: Math.max(1, Math.round(rows / perWindow)), patches: rows, file: 'patches' };
    } else if (windows && windows.length > 0) {
      const size = d.config.mel.nMels * d.windowFrames;
      if (windows.length % size !== 0)
        throw new ModelError(
          `alert ${alertId}'s log-mel windows (${windows.length} values) do not fit this model (${d.config.mel.nMels} x ${d.windowFrames}); the model changed since`,
          'NOT_TEACHABLE',
        );
      const n = windows.length / size;
      counts = { windows: n, patches: n * perWindow, file: 'windows' };
    } else
      throw new ModelError(
        `alert ${alertId} has no kept windows (it is still active, or was raised before a restart)`,
        'NOT_TEACHABLE',
      );
    const rec = await this.store.feedback.create({
      sensorId: alert.sensorId,
      alertId,
      windows: counts.windows,
      patches: counts.patches,
      path: this.media.ref(alertId, counts.file),
      createdBy: by,
    });
    await this.models.applyFeedback(alert.sensorId);
    const { path: _path, ...info } = rec;
    return info;
  }

  async revert(sensorId: string, feedbackId: number, by: string): Promise<FeedbackInfo> {
    const rec = await this.store.feedback.revert(sensorId, feedbackId, by);
    if (this.models.detector(sensorId)) await this.models.applyFeedback(sensorId);
    const { path: _path, ...info } = rec;
    return info;
  }

  /**
   * Active feedback of a sensor, as kept (for the model registry): the log-mel windows, and the patches of
   * alerts that kept them (null for the others: the registry computes them with the detector it teaches).
   */
  async activeFeedback(sensorId: string): Promise<KeptFeedback[]> {
    const out: KeptFeedback[] = [];
    for (const f of await this.store.feedback.listBySensor(sensorId, true)) {
      const patches = await this.media.readPatches(f.alertId).catch(() => null);
      const windows = await this.media.readWindows(f.alertId).catch(() => null);
      if (patches || windows) out.push({ id: f.id, patches, windows });
    }
    return out;
  }
}
