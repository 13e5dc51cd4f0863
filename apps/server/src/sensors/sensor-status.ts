/**
 * A sensor's `SensorStatus` (connection, level, scoring counters, alerts, snooze, model), and its publication
 * as `sensor:status` to the dashboards when something an operator sees changed.
 */
import type { SensorState, SensorStatus } from '@hark/protocol';
import type { SensorLine } from './sensor-line.js';
import type { SensorsDeps } from './sensors.js';

/** What the status reads: the sensors' own dependencies (models for the model status, scorer for the counters). */
export type SensorStatusDeps = Pick<
  SensorsDeps,
  'store' | 'models' | 'scorer' | 'alerts' | 'hub' | 'instance' | 'burnIn'
>;

/** Drop rate over the last minute above which a sensor counts as overloaded. */
const OVERLOADED_DROP_RATE = 0.02;
/** Unforced status messages of one sensor are at least this far apart, ms. */
const STATUS_MIN_INTERVAL_MS = 1000;

export class SensorStatusBoard {
  readonly #sent = new Map<string, { key: string; at: number }>();
  /** Each sensor's `state` and since when (server ms) it has held. */
  readonly #since = new Map<string, { state: SensorState; at: number }>();

  constructor(private readonly d: SensorStatusDeps) {}

  of(line: SensorLine): SensorStatus {
    const { d } = this;
    const rec = d.store.sensors.cached(line.id);
    const model = d.models.status(line.id);
    const stats = d.scorer.stats(line.id);
    const meter = line.stream.meter();
    const connected = line.ingest.streaming;
    let state: SensorState;
    if (!connected) state = 'disconnected';
    else if (model.state === 'recording' || model.state === 'fitting') state = 'enrolling';
    else if (!d.models.detector(line.id)) state = 'no-model';
    else if (stats.dropRate > OVERLOADED_DROP_RATE) state = 'overloaded';
    else if (stats.scored > 0) state = 'scoring';
    else state = 'connected';
    const now = Date.now();
    const snoozedUntil = rec?.snoozedUntil && rec.snoozedUntil > now ? rec.snoozedUntil : null;
    const lastSeen = line.ingest.lastSeen ?? rec?.lastSeen ?? null;
    let since = this.#since.get(line.id);
    if (since?.state !== state) {
      // First look at a sensor not connected since the server started: disconnected since it was last seen.
      const at = !since && state === 'disconnected' ? (lastSeen ?? now) : now;
      this.#since.set(line.id, (since = { state, at }));
    }
    return {
      id: line.id,
      name: rec?.name ?? line.id,
      labels: rec?.labels ?? {},
      state,
      connected,
      lastSeen,
      stateSince: since.at,
      levelDbfs: round1(meter.levelDbfs),
      peakDbfs: round1(meter.peakDbfs),
      clipping: meter.clipping,
      clipped: meter.clipped,
      silent: meter.silent,
      sampleRate: line.stream.format?.sampleRate ?? null,
      streamStartedAt: line.stream.streamStartedAt ?? null,
      windowsScored: stats.scored,
      windowsDropped: stats.dropped,
      dropRate: stats.dropRate,
      queueDepth: stats.queueDepth,
      windowsSkipped: stats.skipped,
      scoringHopSeconds: stats.scoringHopSeconds,
      lastScore: line.lastScore,
      threshold: 1,
      openAlerts: d.alerts.counts.unresolved.get(line.id) ?? 0,
      needsAttention: d.alerts.counts.attention.get(line.id) ?? 0,
      activeAlertId: line.alerts.activeAlertId,
      activeSince: line.alerts.activeAlertId === null ? null : line.alerts.activeSince,
      snoozedUntil,
      severityThresholds: d.alerts.thresholds(line.id),
      model,
      burnIn: d.burnIn?.summary(line.id) ?? null,
      instance: line.ingest.connected ? (d.instance?.() ?? null) : null,
    };
  }

  /** Sends `sensor:status` when something an operator sees changed (at most once a second unless `now`). */
  publish(line: SensorLine, now: boolean): void {
    const s = this.of(line);
    const key = JSON.stringify([
      s.state,
      s.connected,
      s.levelDbfs === null ? null : Math.round(s.levelDbfs),
      s.clipped,
      s.silent,
      s.windowsDropped,
      s.scoringHopSeconds,
      s.openAlerts,
      s.needsAttention,
      s.activeAlertId,
      s.snoozedUntil,
      s.model.state,
      s.model.fittedAt,
      s.model.feedbackWindows,
      s.burnIn?.state,
      s.burnIn?.factor,
      s.name,
      s.labels,
    ]);
    const t = Date.now();
    const sent = this.#sent.get(line.id) ?? { key: '', at: 0 };
    if (key === sent.key && !now) return;
    if (!now && t - sent.at < STATUS_MIN_INTERVAL_MS) return;
    this.#sent.set(line.id, { key, at: t });
    this.d.hub.broadcast('sensor:status', s);
  }
}

const round1 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 10) / 10);
