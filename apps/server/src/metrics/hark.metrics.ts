import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WebhookOutcome } from '../notify/webhook.notifier.js';

/** Buckets of `hark_scoring_latency_seconds`: 5 ms to 2 s, roughly doubling. */
export const SCORING_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2];

export interface HarkMetricsOptions {
  /** Register Node's default process metrics (`process_*`, `nodejs_*`) too (default true). */
  defaultMetrics?: boolean;
  /** Prefix of the default metrics (default none). */
  prefix?: string;
}

/**
 * The server's Prometheus metrics, on a registry of its own (not prom-client's global one), so several servers
 * can run in one process. Counters are labelled by sensor id; unbounded label sets are the caller's concern
 * (sensor ids are validated at the edge).
 */
export class HarkMetrics {
  readonly registry = new Registry();

  readonly windowsScored = new Counter({
    name: 'hark_windows_scored_total',
    help: 'Spectrogram windows scored.',
    labelNames: ['sensor'] as const,
    registers: [this.registry],
  });
  readonly windowsDropped = new Counter({
    name: 'hark_windows_dropped_total',
    help: 'Windows dropped unscored because the scoring queue was full.',
    labelNames: ['sensor'] as const,
    registers: [this.registry],
  });
  readonly scoringLatency = new Histogram({
    name: 'hark_scoring_latency_seconds',
    help: 'From the arrival of the last sample of a window to its score.',
    labelNames: ['sensor'] as const,
    buckets: SCORING_LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly alerts = new Counter({
    name: 'hark_alerts_total',
    help: 'Alerts opened.',
    labelNames: ['sensor', 'kind'] as const,
    registers: [this.registry],
  });
  readonly sensorsConnected = new Gauge({
    name: 'hark_sensors_connected',
    help: 'Sensors connected to /sensor now.',
    registers: [this.registry],
  });
  readonly audioSeconds = new Counter({
    name: 'hark_audio_seconds_total',
    help: 'Seconds of audio received.',
    labelNames: ['sensor'] as const,
    registers: [this.registry],
  });
  readonly ingestRejections = new Counter({
    name: 'hark_ingest_rejections_total',
    help: 'Sensor messages rejected, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly liveClients = new Gauge({
    name: 'hark_live_clients',
    help: 'Dashboards connected to /live now.',
    registers: [this.registry],
  });
  readonly liveDropped = new Counter({
    name: 'hark_live_dropped_messages_total',
    help: 'Messages to /live clients dropped because the client was too slow.',
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'hark_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome (delivered, retry, failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly storageErrors = new Counter({
    name: 'hark_storage_errors_total',
    help: 'Writes to the data directory that failed (a full disk, an I/O error), by what was written.',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });
  readonly alertWritesDropped = new Counter({
    name: 'hark_alert_writes_dropped_total',
    help: 'Alert writes dropped because the queue kept while the disk refuses writes was full.',
    registers: [this.registry],
  });

  constructor(options: HarkMetricsOptions = {}) {
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: options.prefix ?? '' });
    }
  }

  /** Records one scored window and its latency in seconds. */
  windowScored(sensor: string, latencySeconds: number): void {
    this.windowsScored.inc({ sensor });
    if (Number.isFinite(latencySeconds) && latencySeconds >= 0)
      this.scoringLatency.observe({ sensor }, latencySeconds);
  }

  /** For `WebhookNotifier`'s `onOutcome`. */
  webhookOutcome(outcome: WebhookOutcome): void {
    this.webhookDeliveries.inc({ outcome });
  }

  /** The Prometheus exposition text and its `Content-Type`. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
