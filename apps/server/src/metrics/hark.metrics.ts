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

  readonly windowsScored = this.#counter('hark_windows_scored_total', 'Spectrogram windows scored.', [
    'sensor',
  ]);
  readonly windowsDropped = this.#counter(
    'hark_windows_dropped_total',
    'Windows dropped unscored because the scoring queue was full.',
    ['sensor'],
  );
  readonly scoringLatency = new Histogram({
    name: 'hark_scoring_latency_seconds',
    help: 'From the arrival of the last sample of a window to its score.',
    labelNames: ['sensor'] as const,
    buckets: SCORING_LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly windowsSkipped = this.#counter(
    'hark_windows_skipped_total',
    'Windows not scored because the scoring hop was widened past capacity (their columns still go out unscored).',
    ['sensor'],
  );
  readonly windowsConfirming = this.#counter(
    'hark_windows_confirming_total',
    "Windows scored off their sensor's turn at a widened hop because the alert rule needed them: the window after one over the threshold, or the skipped window before one that begins a run (also in hark_windows_skipped_total).",
    ['sensor'],
  );
  readonly scoringHop = new Gauge({
    name: 'hark_scoring_hop_seconds',
    help: "Seconds between the sensor's scored windows: the streams' hop, widened fairly for all sensors past capacity.",
    labelNames: ['sensor'] as const,
    registers: [this.registry],
  });
  readonly scoringDemand = this.#gauge(
    'hark_scoring_demand_windows_per_second',
    "Windows per second the sensors' streams offered over the scorer's last period (skipped ones included).",
  );
  readonly scoringCapacity = this.#gauge(
    'hark_scoring_capacity_windows_per_second',
    "Windows per second the scorer can score, by Little's law (slots / mean service time) over its last period, each model's first windows (one-time costs) left out; 0 before any.",
  );
  readonly searchThreads = this.#gauge(
    'hark_search_threads',
    "FAISS's threads per search: HARK_FAISS_THREADS (else OMP_NUM_THREADS) if set, else the cores less one left to the event loop.",
  );
  readonly searchJobs = this.#gauge(
    'hark_search_jobs',
    'FAISS jobs (searches) the process runs at once: HARK_SEARCH_JOBS, default 1 (one after another).',
  );
  readonly dspWorker = this.#gauge(
    'hark_dsp_worker',
    "1 while the streams' resampling and log-mel run in their worker thread (HARK_DSP_WORKER=1); 0 when they run on the event loop (the default, or the worker stopped).",
  );
  readonly backboneWorker = this.#gauge(
    'hark_backbone_worker',
    "1 when the backbones' sessions run in worker threads (HARK_BACKBONE_WORKER, the default); 0 when they run on the event loop.",
  );
  readonly alerts = this.#counter('hark_alerts_total', 'Alerts opened.', ['sensor', 'kind']);
  readonly sensorsConnected = this.#gauge('hark_sensors_connected', 'Sensors connected to /sensor now.');
  readonly audioSeconds = this.#counter('hark_audio_seconds_total', 'Seconds of audio received.', ['sensor']);
  readonly ingestRejections = this.#counter(
    'hark_ingest_rejections_total',
    'Sensor messages rejected, by error code.',
    ['code'],
  );
  readonly liveClients = this.#gauge('hark_live_clients', 'Dashboards connected to /live now.');
  readonly liveDropped = this.#counter(
    'hark_live_dropped_messages_total',
    'Messages to /live clients dropped because the client was too slow.',
  );
  readonly webhookDeliveries = this.#counter(
    'hark_webhook_deliveries_total',
    'Webhook delivery attempts, by outcome (delivered, retry, failed).',
    ['outcome'],
  );
  readonly notificationDeliveries = this.#counter(
    'hark_notification_deliveries_total',
    'Attempts to deliver to stored notification channels, by channel kind and outcome (delivered, retry, failed).',
    ['kind', 'outcome'],
  );

  readonly storageErrors = this.#counter(
    'hark_storage_errors_total',
    'Writes to the data directory that failed (a full disk, an I/O error), by what was written.',
    ['op'],
  );
  readonly storeInfo = new Gauge<'engine'>({
    name: 'hark_store_info',
    help: "The store's engine: 1 with engine=sqlite (the data directory's hark.db) or engine=postgres (--database).",
    labelNames: ['engine'],
    registers: [this.registry],
  });
  readonly alertWritesDropped = this.#counter(
    'hark_alert_writes_dropped_total',
    'Queued alert writes the store refused for good once writable (not a storage failure; logged). A full queue drops none.',
  );
  readonly alertWritesOverBound = this.#counter(
    'hark_alert_writes_over_bound_total',
    'Alert writes queued past the queue bound while the store fails: kept in memory all the same (an ERROR is logged).',
  );
  readonly storeUp = this.#gauge(
    'hark_store_up',
    '1 while the store takes writes; 0 while they fail (PostgreSQL unreachable, a full disk): data-path writes queue.',
  );
  /** The write queues' depths, read at each scrape (the server sets it once its queues exist). */
  writeQueues: () => Record<string, number> = () => ({});
  readonly writeQueueDepth = new Gauge<'queue'>({
    name: 'hark_write_queue_depth',
    help: 'Writes waiting in memory, by queue: alerts and sensors while the store fails; scores and history also between their flushes.',
    labelNames: ['queue'],
    registers: [this.registry],
    collect: () => {
      for (const [queue, n] of Object.entries(this.writeQueues())) this.writeQueueDepth.set({ queue }, n);
    },
  });
  readonly writeQueueDropped = this.#counter(
    'hark_write_queue_dropped_total',
    'Writes dropped from a full queue while the store fails, by queue (scores: points, history: blocks); alerts never.',
    ['queue'],
  );

  readonly sensorsKnown = this.#gauge(
    'hark_sensors_known',
    'Sensor ids the server knows (stored, streaming or with a model); new ids past HARK_MAX_SENSORS are refused.',
  );
  readonly sensorRingBytes = this.#gauge(
    'hark_sensor_ring_bytes',
    "Bytes the sensors' audio and column rings hold now (taken on first audio, given back after --sensor-idle-free).",
  );

  /** Forgets a deleted sensor's labelled series (its counters would otherwise be exported for good). */
  forgetSensor(sensor: string): void {
    for (const m of [
      this.windowsScored,
      this.windowsDropped,
      this.windowsSkipped,
      this.windowsConfirming,
      this.audioSeconds,
    ])
      m.remove({ sensor });
    this.scoringLatency.remove({ sensor });
    this.scoringHop.remove({ sensor });
    for (const kind of ['anomaly', 'silence', 'clipping', 'disconnected'])
      this.alerts.remove({ sensor, kind });
  }

  readonly historyBytes = new Gauge({
    name: 'hark_history_bytes',
    help: 'Bytes of stored spectrogram history (log-mel and anomaly columns), by tier (full, reduced, coarse).',
    labelNames: ['tier'] as const,
    registers: [this.registry],
  });
  readonly historyBudget = this.#gauge(
    'hark_history_budget_bytes',
    'Disk budget of the spectrogram history: beyond it the oldest blocks are deleted first.',
  );

  readonly scoresPruned = this.#counter(
    'hark_score_points_pruned_total',
    'Score history points deleted because they were older than the retention (HARK_SCORE_RETENTION_DAYS).',
  );
  readonly scoreRetention = this.#gauge(
    'hark_score_retention_seconds',
    'Retention of the score history: older points are deleted (their days stay in the trends).',
  );

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

  #counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  #gauge(name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] });
  }

  /** The Prometheus exposition text and its `Content-Type`. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
