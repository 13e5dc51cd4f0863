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

export class AlertService {
  constructor(private readonly d: AlertServiceDeps) {}

  // ---- the data path ----

  /** Closes the alerts a crash left active (their signal is unknown since). */
  recover(now: number): void {
    for (const a of this.d.store.alerts.deactivateAll(now)) this.publish(a);
  }

  opened(alert: NewAlert): Alert {
    const stored = this.d.store.alerts.open(alert);
    this.d.metrics.alerts.inc({ sensor: alert.sensorId, kind: alert.kind });
    return this.publish(stored, 'alert');
  }

  changed(id: number, patch: AlertPatch): Alert {
    return this.publish(this.d.store.alerts.update(id, patch));
  }

  /** Keeps an anomaly alert's log-mel windows and patch embeddings for feedback (in the background). */
  keepFeedback(id: number, windows: Float32Array, patches: Float32Array): void {
    // Windows first: an alert is teachable once its patches exist, and then its windows do too.
    void this.d.media
      .writeWindows(id, windows)
      .then(() => this.d.media.writePatches(id, patches))
      .catch((err) => this.d.log(`alert ${id}: feedback windows not kept: ${(err as Error).message}`));
  }

  /** Keeps an alert's audio clip and its picture, then records the clip on the alert. */
  async keepClip(
    id: number,
    clip: { samples: Float32Array; sampleRate: number; start: number },
    picture: AlertSpectrogramData | null,
  ): Promise<void> {
    await this.d.media.writeClip(id, clip.samples, clip.sampleRate);
    if (picture) await this.d.media.writeSpectrogram(id, picture);
    const seconds = clip.samples.length / clip.sampleRate;
    this.publish(this.d.store.alerts.setClip(id, { start: clip.start, seconds }));
  }

  /** Unresolved alerts per sensor. */
  unresolvedCounts(): Map<string, number> {
    return this.d.store.alerts.unresolvedCounts();
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
