/**
 * Alerts: what the data path opens, updates and closes, what operators do with them, and the media kept for
 * each (clip, picture, feedback windows). Every change goes the same way: to the store, then to the
 * dashboards (`/live`) and to the in-process bus (webhooks).
 */
import type { Alert, AnnotationLabel, Page } from '@hark/protocol';
import type { HarkEvents } from '../events.js';
import type { LiveHub } from '../live/live-hub.js';
import type { HarkMetrics } from '../metrics/hark.metrics.js';
import type { AlertFilters } from '../store/alert.filters.js';
import type { AlertPatch, NewAlert } from '../store/alert.repository.js';
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
}

/** What teaching an alert's sound to its sensor's model needs (the model service). */
export interface AlertTeacher {
  teach(alertId: number, by: string): Promise<unknown>;
}

/**
 * The data path's writes never throw a storage error: while the store fails they wait in {@link AlertWrites}
 * (an alert opened meanwhile has a provisional id < 0 until stored). Operators' actions do throw it: the
 * operator sees the error and tries again.
 */
export class AlertService {
  readonly #writes: AlertWrites;

  constructor(private readonly d: AlertServiceDeps) {
    this.#writes = new AlertWrites({
      store: d.store,
      publish: (a, event) => this.publish(a, event),
      onDropped: () => d.metrics.alertWritesDropped.inc(),
      log: d.log,
    });
  }

  // ---- the data path ----

  /** Closes the alerts a crash left active (their signal is unknown since). */
  recover(now: number): void {
    this.#writes.recover(now);
  }

  /** The stored alert, or while the store fails the alert under a provisional id (< 0), stored later. */
  opened(alert: NewAlert): Alert {
    this.d.metrics.alerts.inc({ sensor: alert.sensorId, kind: alert.kind });
    return this.#writes.open(alert);
  }

  changed(id: number, patch: AlertPatch): void {
    this.#writes.update(id, patch);
  }

  /** The stored id of an alert the data path opened (null while its opening waits for the store). */
  storedId(id: number): number | null {
    return this.#writes.storedId(id);
  }

  /** Keeps an anomaly alert's log-mel windows and patch embeddings for feedback (in the background). */
  keepFeedback(id: number, windows: Float32Array, patches: Float32Array): void {
    const stored = this.storedId(id);
    if (stored === null) {
      this.d.log(`alert ${id}: feedback windows not kept: the alert is not stored yet (writes fail)`);
      return;
    }
    // Windows first: an alert is teachable once its patches exist, and then its windows do too.
    void this.d.media
      .writeWindows(stored, windows)
      .then(() => this.d.media.writePatches(stored, patches))
      .catch((err) => {
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
    if (stored === null) throw new Error('the alert is not stored yet (writes fail)');
    try {
      await this.d.media.writeClip(stored, clip.samples, clip.sampleRate);
      if (picture) await this.d.media.writeSpectrogram(stored, picture);
    } catch (err) {
      this.d.store.health.failed('clip', err);
      throw err;
    }
    const seconds = clip.samples.length / clip.sampleRate;
    this.#writes.clip(stored, { start: clip.start, seconds });
  }

  /** Unresolved alerts per sensor. */
  unresolvedCounts(): Map<string, number> {
    return this.d.store.alerts.unresolvedCounts();
  }

  /** Alerts that need a person (open: neither acknowledged nor resolved) per sensor. */
  attentionCounts(): Map<string, number> {
    return this.d.store.alerts.attentionCounts();
  }

  // ---- operators ----

  list(filters: AlertFilters, limit: number, offset: number): Page<Alert> {
    return this.d.store.alerts.list(filters, limit, offset);
  }

  /** The alert, or a `NotFoundError`. */
  get(id: number): Alert {
    return this.d.store.alerts.require(id);
  }

  find(id: number): Alert | null {
    return this.d.store.alerts.get(id);
  }

  acknowledge(id: number, by: string): Alert {
    return this.publish(this.d.store.alerts.acknowledge(id, by));
  }

  resolve(id: number, by: string): Alert {
    return this.publish(this.d.store.alerts.resolve(id, by));
  }

  annotate(id: number, note: { label: AnnotationLabel; text: string }, by: string): Alert {
    return this.publish(this.d.store.alerts.annotate(id, { ...note, author: by }));
  }

  /** Marks a false alarm; with `teach`, its sound is first taught to the model as normal. */
  async falseAlarm(
    id: number,
    input: { teach: boolean; text: string },
    by: string,
    models: AlertTeacher,
  ): Promise<Alert> {
    this.d.store.alerts.require(id);
    // Teach first: when it fails (no model, no patches kept) nothing is recorded and the operator can retry.
    if (input.teach) await models.teach(id, by);
    this.d.store.alerts.annotate(id, { label: 'false alarm', text: input.text, author: by });
    return this.publish(this.d.store.alerts.require(id));
  }

  /** Sends an alert (new: `alert`, changed: `alert:update`) to the dashboards and the bus. */
  publish(alert: Alert, event: 'alert' | 'alert:update' = 'alert:update'): Alert {
    this.d.hub.broadcast(event, alert);
    this.d.events.emit(event, alert);
    return alert;
  }
}
