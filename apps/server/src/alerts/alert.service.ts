/**
 * Alerts: what the data path opens, updates and closes, what operators do with them, and the media kept for
 * each (clip, picture, feedback windows). Every change goes the same way: to the store, then to the
 * dashboards (`/live`) and to the in-process bus (webhooks).
 */
import type {
  Alert,
  AlertAction,
  AlertNeighbours,
  AlertSeverity,
  AnnotationLabel,
  BulkAlertResult,
  Page,
  SeverityThresholds,
} from '@hark/protocol';
import { SERVER_DEFAULTS } from '../config.js';
import type { HarkEvents } from '../events.js';
import type { LiveHub } from '../live/live-hub.js';
import type { HarkMetrics } from '../metrics/hark.metrics.js';
import type { AlertFilters } from '../store/alert.filters.js';
import type { AlertOrder } from '../store/alert.order.js';
import type { AlertPatch, NewAlert } from '../store/alert.repository.js';
import { ConflictError, NotFoundError } from '../store/errors.js';
import type { HarkStore } from '../store/store.js';
import type { AlertMediaStore } from './alert-media.js';
import { AlertWrites } from './alert-writes.js';
import type { AlertSpectrogramData } from './pictures.js';

export interface AlertServiceDeps {
  store: HarkStore;
  media: AlertMediaStore;
  events: HarkEvents;
  hub: LiveHub;
  metrics: HarkMetrics;
  log: (line: string) => void;
  /** The lifecycle: quiet time, repeat window, default severity thresholds (default: the server's defaults). */
  policy?: Partial<AlertPolicy>;
}

/** How alerts live: see `ServerConfig` (`--alert-quiet`, `--alert-repeat`, `--critical-peak`, `--critical-seconds`). */
export interface AlertPolicy {
  alertQuietSeconds: number;
  alertRepeatSeconds: number;
  criticalPeak: number;
  criticalSeconds: number;
}

/** Most alerts one bulk step changes. */
export const MAX_BULK_ALERTS = 500;

/** What teaching an alert's sound to its sensor's model needs (the model service). */
export interface AlertTeacher {
  teach(alertId: number, by: string): Promise<unknown>;
}

/**
 * The data path's writes never throw a storage error: while the store fails they wait in {@link AlertWrites}
 * (an alert opened meanwhile has a provisional id < 0 until stored). Operators' actions do throw it: the
 * operator sees the error and tries again.
 */
/**
 * Bytes of media (clips, pictures, feedback windows) kept in memory for alerts opened while the store fails,
 * until they are stored. A clip is ~0.3-2 MB (its seconds x 16 kHz x 4 bytes): 64 MB hold the media of
 * dozens of alerts, more than an outage of minutes opens; past it an alert's media are dropped (logged), never
 * the alert.
 */
export const MAX_WAITING_MEDIA_BYTES = 64e6;

export class AlertService {
  readonly #writes: AlertWrites;
  readonly policy: AlertPolicy;

  constructor(private readonly d: AlertServiceDeps) {
    const { alertQuietSeconds, alertRepeatSeconds, criticalPeak, criticalSeconds } = SERVER_DEFAULTS;
    this.policy = { alertQuietSeconds, alertRepeatSeconds, criticalPeak, criticalSeconds, ...d.policy };
    this.#writes = new AlertWrites({
      store: d.store,
      publish: (a, event) => this.publish(a, event),
      onDropped: () => d.metrics.alertWritesDropped.inc(),
      onOverBound: () => d.metrics.alertWritesOverBound.inc(),
      onStored: (provisional, id) => this.#mediaStored(provisional, id),
      log: d.log,
    });
  }

  /** Media (clip and picture, feedback windows) of alerts opened while the store failed, by provisional id. */
  readonly #waitingMedia = new Map<number, { bytes: number; write: (id: number) => Promise<void> }[]>();
  #waitingMediaBytes = 0;
  /** Those media being written, now that their alert is stored. */
  readonly #mediaWrites = new Set<Promise<unknown>>();

  /** Keeps `write` of an alert not stored yet until it is (within {@link MAX_WAITING_MEDIA_BYTES}). */
  #holdMedia(id: number, what: string, bytes: number, write: (id: number) => Promise<void>): void {
    if (this.#waitingMediaBytes + bytes > MAX_WAITING_MEDIA_BYTES) {
      this.d.log(
        `STORAGE ERROR: alert ${id}: ${what} not kept: ${(this.#waitingMediaBytes / 1e6).toFixed(0)} MB of ` +
          `alert media already wait for the store (bound ${MAX_WAITING_MEDIA_BYTES / 1e6} MB); the alert itself is kept`,
      );
      return;
    }
    this.#waitingMediaBytes += bytes;
    const jobs = this.#waitingMedia.get(id) ?? [];
    jobs.push({ bytes, write });
    this.#waitingMedia.set(id, jobs);
  }

  /** The alert opened as `provisional` is stored as `id`: its media are written now (in the background). */
  #mediaStored(provisional: number, id: number): void {
    const jobs = this.#waitingMedia.get(provisional) ?? [];
    this.#waitingMedia.delete(provisional);
    for (const job of jobs) {
      this.#waitingMediaBytes -= job.bytes;
      const write = job
        .write(id)
        .catch((err: unknown) => this.d.log(`alert ${id}: media not kept: ${(err as Error).message}`))
        .finally(() => this.#mediaWrites.delete(write));
      this.#mediaWrites.add(write);
    }
  }

  // ---- the data path ----

  /** Closes the alerts a crash left active (their signal is unknown since). */
  recover(now: number): Promise<void> {
    return this.#writes.recover(now);
  }

  /**
   * Resolves once every data-path write made so far has ended (stored, or queued while the store fails),
   * the media of alerts stored late included.
   */
  async settled(): Promise<void> {
    await this.#writes.settled();
    await Promise.all(this.#mediaWrites);
    await this.#writes.settled();
  }

  /**
   * A condition began. A repeat (the sensor's latest alert of the kind ended within the repeat window and no
   * person resolved it) folds into that alert as a new occurrence; otherwise a new alert opens. Returns the
   * stored alert, or while the store fails the alert under a provisional id (< 0), stored later.
   */
  opened(alert: NewAlert, now = Date.now()): Promise<Alert> {
    this.d.metrics.alerts.inc({ sensor: alert.sensorId, kind: alert.kind });
    const input = {
      ...alert,
      openedAt: now,
      severity: alert.severity ?? this.severity(alert.sensorId, alert.peakScore, 0),
    };
    return this.#writes.opened(input, () => this.#foldTarget(alert, now));
  }

  /** The latest alert a new one folds into, or null (also when the store cannot be read). */
  async #foldTarget(alert: NewAlert, now: number): Promise<Alert | null> {
    if (this.policy.alertRepeatSeconds <= 0) return null; // 0: folding off
    try {
      const since = now - this.policy.alertRepeatSeconds * 1000;
      return await this.d.store.alerts.foldTarget(alert.sensorId, alert.kind, since);
    } catch (err) {
      this.d.log(`sensor ${alert.sensorId}: repeat not folded: ${(err as Error).message}`);
      return null;
    }
  }

  /** Deletes the media (clip, pictures, patches) of alerts removed from the store. */
  async removeMedia(alertIds: readonly number[]): Promise<void> {
    await this.d.media.remove(...alertIds);
  }

  /** The sensor's severity thresholds: its own where set, else the server's defaults. */
  thresholds(sensorId: string): SeverityThresholds {
    const rec = this.d.store.sensors.cached(sensorId);
    return {
      criticalPeak: rec?.criticalPeak ?? this.policy.criticalPeak,
      criticalSeconds: rec?.criticalSeconds ?? this.policy.criticalSeconds,
      custom: rec?.criticalPeak != null || rec?.criticalSeconds != null,
    };
  }

  /** `critical` when the peak (normalised) or the duration (ms) of an occurrence reaches the sensor's thresholds. */
  severity(sensorId: string, peakScore: number, durationMs: number): AlertSeverity {
    const t = this.thresholds(sensorId);
    return peakScore >= t.criticalPeak || durationMs >= t.criticalSeconds * 1000 ? 'critical' : 'warning';
  }

  /**
   * The lifecycle's clock, once a second: alerts cleared for the quiet time resolve by themselves, and active
   * warnings that have lasted the sensor's `criticalSeconds` turn critical. Returns the alerts changed.
   */
  async sweep(now = Date.now()): Promise<Alert[]> {
    const changed: Alert[] = [];
    const store = this.d.store;
    const resolved = await store.health.attempt('alert', () =>
      store.alerts.autoResolve(now - this.policy.alertQuietSeconds * 1000, now),
    );
    changed.push(...(resolved ?? []));
    for (const w of await store.alerts.activeWarnings()) {
      if (now - w.openedAt < this.thresholds(w.sensorId).criticalSeconds * 1000) continue;
      const raised = await store.health.attempt('alert', () => store.alerts.escalate(w.id));
      if (raised) changed.push(raised);
    }
    for (const a of changed) await this.publish(a);
    return changed;
  }

  changed(id: number, patch: AlertPatch): Promise<void> {
    return this.#writes.update(id, patch);
  }

  /** The stored id of an alert the data path opened (null while its opening waits for the store). */
  storedId(id: number): number | null {
    return this.#writes.storedId(id);
  }

  /**
   * Keeps an anomaly alert's over-threshold log-mel windows for feedback (in the background). Teaching
   * computes the method's patches from them (`ModelService.teach`).
   */
  keepFeedback(id: number, windows: Float32Array): void {
    const stored = this.storedId(id);
    if (stored === null) {
      this.#holdMedia(id, 'feedback windows', windows.byteLength, async (real) =>
        this.keepFeedback(real, windows),
      );
      return;
    }
    void this.d.media.writeWindows(stored, windows).catch((err) => {
      this.d.store.health.failed('feedback', err);
      this.d.log(`alert ${stored}: feedback windows not kept: ${(err as Error).message}`);
    });
  }

  /** Keeps an alert's audio clip and its picture, then records the clip on the alert. */
  async keepClip(
    id: number,
    clip: { samples: Float32Array; sampleRate: number; start: number },
    picture: AlertSpectrogramData | null,
  ): Promise<void> {
    const stored = this.storedId(id);
    if (stored === null) {
      // Written once the alert is stored (its opening waits in the queue, e.g. while PostgreSQL is down).
      const bytes =
        clip.samples.byteLength + (picture ? picture.spectrogram.byteLength + picture.anomaly.byteLength : 0);
      this.#holdMedia(id, 'clip', bytes, (real) => this.keepClip(real, clip, picture));
      return;
    }
    try {
      await this.d.media.writeClip(stored, clip.samples, clip.sampleRate);
      if (picture) await this.d.media.writeSpectrogram(stored, picture);
    } catch (err) {
      this.d.store.health.failed('clip', err);
      throw err;
    }
    const seconds = clip.samples.length / clip.sampleRate;
    await this.#writes.clip(stored, { start: clip.start, seconds });
  }

  /**
   * Per sensor: alerts not resolved, and alerts that need a person (open: neither acknowledged nor resolved),
   * as of the last alert change this service published (sensor statuses read them synchronously).
   */
  counts: { unresolved: Map<string, number>; attention: Map<string, number> } = {
    unresolved: new Map(),
    attention: new Map(),
  };

  /** Reads the counts again (before every publish; at start). A failed read keeps the last counts. */
  async refreshCounts(): Promise<void> {
    try {
      const [unresolved, attention] = await Promise.all([
        this.d.store.alerts.unresolvedCounts(),
        this.d.store.alerts.attentionCounts(),
      ]);
      this.counts = { unresolved, attention };
    } catch (err) {
      this.d.log(`alert counts not refreshed: ${(err as Error).message}`);
    }
  }

  // ---- operators ----

  list(filters: AlertFilters, limit: number, offset: number, order: AlertOrder = {}): Promise<Page<Alert>> {
    return this.d.store.alerts.list(filters, limit, offset, order);
  }

  /** The alerts before and after `id` in the list of `filters` and `order` (next / previous). */
  neighbours(id: number, filters: AlertFilters, order: AlertOrder): Promise<AlertNeighbours> {
    return this.d.store.alerts.neighbours(id, filters, order);
  }

  /** Every acknowledge or resolve asked of the alert, applied or refused, oldest first. */
  actions(id: number): Promise<AlertAction[]> {
    return this.d.store.alerts.actions(id);
  }

  /** The alert, or a `NotFoundError`. */
  get(id: number): Promise<Alert> {
    return this.d.store.alerts.require(id);
  }

  find(id: number): Promise<Alert | null> {
    return this.d.store.alerts.get(id);
  }

  /** Answers once the step is committed (and published). */
  async acknowledge(id: number, by: string): Promise<Alert> {
    return this.publish(await this.d.store.alerts.acknowledge(id, by));
  }

  async resolve(id: number, by: string): Promise<Alert> {
    return this.publish(await this.d.store.alerts.resolve(id, by));
  }

  /**
   * Acknowledges or resolves many alerts: `ids`, or (without ids) every alert matching `filters` that can
   * take the step. Alerts that cannot (unknown, already done) are skipped with the reason, not an error.
   */
  async bulk(
    step: 'acknowledge' | 'resolve',
    target: { ids: number[] } | { filters: AlertFilters },
    by: string,
  ): Promise<BulkAlertResult> {
    const ids =
      'ids' in target
        ? target.ids
        : await this.d.store.alerts.ids(
            { ...target.filters, state: step === 'acknowledge' ? 'open' : ['open', 'acknowledged'] },
            MAX_BULK_ALERTS,
          );
    const out: BulkAlertResult = { changed: [], skipped: [] };
    for (const id of ids) {
      try {
        out.changed.push(await (step === 'acknowledge' ? this.acknowledge(id, by) : this.resolve(id, by)));
      } catch (err) {
        if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
        out.skipped.push({ id, reason: err.message });
      }
    }
    return out;
  }

  async annotate(id: number, note: { label: AnnotationLabel; text: string }, by: string): Promise<Alert> {
    return this.publish(await this.d.store.alerts.annotate(id, { ...note, author: by }));
  }

  /**
   * Marks a false alarm, which resolves the alert (a person looked at it and nothing is left to do; one that
   * is resolved already stays as it is); with `teach`, its sound is first taught to the model as normal.
   */
  async falseAlarm(
    id: number,
    input: { teach: boolean; text: string },
    by: string,
    models: AlertTeacher,
  ): Promise<Alert> {
    await this.d.store.alerts.require(id);
    // Teach first: when it fails (no model, no patches kept) nothing is recorded and the operator can retry.
    if (input.teach) await models.teach(id, by);
    const alert = await this.d.store.alerts.annotate(id, {
      label: 'false alarm',
      text: input.text,
      author: by,
    });
    if (alert.state === 'resolved') return this.publish(alert);
    return this.publish(await this.d.store.alerts.resolve(id, by));
  }

  /**
   * Sends an alert (new: `alert`, changed: `alert:update`) to the dashboards and the bus, once the per-sensor
   * counts include it.
   */
  async publish(alert: Alert, event: 'alert' | 'alert:update' = 'alert:update'): Promise<Alert> {
    if (alert.id > 0) await this.refreshCounts();
    this.d.hub.broadcast(event, alert);
    this.d.events.emit(event, alert);
    return alert;
  }
}
