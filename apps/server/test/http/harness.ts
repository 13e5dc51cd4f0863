/**
 * Boots the REST API on a random port with the real plain classes (store on a temporary directory, tokens,
 * alert media, metrics, events) and small in-test runtimes backed by the same store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MediaTickets } from '../../src/auth/media-tickets.js';
import { TokenService } from '../../src/auth/token.service.js';
import type { Alert, ModelBurnIn, ModelStatus, ModelVersion, SensorStatus } from '@hark/protocol';
import { SERVER_DEFAULTS } from '../../src/config.js';
import { resolveMelParams } from '@hark/dsp';
import { HarkEvents } from '../../src/events.js';
import { melHz } from '../../src/ingest/timing.js';
import { HistoryService } from '../../src/history/history.service.js';
import { HTTP_CONTROLLERS, HTTP_PROVIDERS, setupHttp } from '../../src/http/index.js';
import { AlertMediaStore } from '../../src/alerts/alert-media.js';
import { AlertService } from '../../src/alerts/alert.service.js';
import { LiveHub } from '../../src/live/live-hub.js';
import { HarkMetrics } from '../../src/metrics/hark.metrics.js';
import { ModelError } from '../../src/models/errors.js';
import { ModelsPort, SensorsPort, type FeedbackInfo, type UploadedWav } from '../../src/http/ports.js';
import type { FeedbackRecord } from '../../src/store/feedback.repository.js';
import { NotificationService } from '../../src/notify/notification.service.js';
import type { SensorPatch } from '../../src/store/sensor.repository.js';
import { HarkStore } from '../../src/store/store.js';
import { Cluster } from '../../src/cluster/cluster.js';

const noModel = (sensorId: string): ModelStatus => ({
  sensorId,
  state: 'none',
  method: null,
  backbone: null,
  bankSize: null,
  threshold: null,
  fittedAt: null,
  trainingSeconds: null,
  trainingClips: null,
  source: null,
  feedbackWindows: 0,
  progress: null,
  error: null,
  version: null,
  shadowVersion: null,
  minTrainingClips: 6,
  recommendedEnrolSeconds: 100,
});

const toInfo = ({ path: _path, ...info }: FeedbackRecord): FeedbackInfo => info;

/** Models kept in memory; teaching records feedback in the store like the real service. */
export class TestModels extends ModelsPort {
  readonly models = new Map<string, ModelStatus>();
  /** What was uploaded, read back from the temporary files (which the controller removes afterwards). */
  readonly uploads: {
    sensorId: string;
    files: (UploadedWav & { data: Buffer })[];
    by: string;
    activateNow: boolean;
  }[] = [];
  readonly taught: { alertId: number; by: string }[] = [];

  constructor(private readonly store: HarkStore) {
    super();
  }

  /** Gives a sensor a ready model (teaching needs one). */
  ready(sensorId: string): void {
    this.models.set(sensorId, { ...noModel(sensorId), state: 'ready', method: 'patchcore', threshold: 1.5 });
  }

  status(sensorId: string): ModelStatus {
    const model = this.models.get(sensorId) ?? noModel(sensorId);
    return { ...model, feedbackWindows: this.feedbackWindows.get(sensorId) ?? 0 };
  }

  /** Taught windows per sensor, as the store counts them after each teach and revert. */
  readonly feedbackWindows = new Map<string, number>();

  async #countFeedback(sensorId: string): Promise<void> {
    this.feedbackWindows.set(sensorId, await this.store.feedback.activeWindows(sensorId));
  }

  enrol(sensorId: string, seconds: number, _by: string): ModelStatus {
    if (seconds < 10 || seconds > 3600)
      throw new ModelError(`seconds must be a number from 10 to 3600 (got ${seconds})`);
    const progress = { sensorId, stage: 'recording' as const, done: 0, total: seconds };
    this.models.set(sensorId, { ...this.status(sensorId), state: 'recording', progress });
    return this.status(sensorId);
  }

  async upload(
    sensorId: string,
    files: UploadedWav[],
    by: string,
    o: { activateNow?: boolean } = {},
  ): Promise<ModelStatus> {
    if (files.length < 3) throw new ModelError(`upload at least 3 normal WAV clips (got ${files.length})`);
    const read = await Promise.all(files.map(async (f) => ({ ...f, data: await readFile(f.path) })));
    for (const f of read) {
      if (f.data.subarray(0, 4).toString('latin1') !== 'RIFF')
        throw new ModelError(`${f.name}: not a WAV file`, 'BAD_AUDIO');
    }
    this.uploads.push({ sensorId, files: read, by, activateNow: !!o.activateNow });
    this.models.set(sensorId, { ...this.status(sensorId), state: 'fitting', source: 'upload' });
    return this.status(sensorId);
  }

  async listFeedback(sensorId: string): Promise<FeedbackInfo[]> {
    if (sensorId === 'boom') throw new Error('disk on fire at /secret/path');
    return (await this.store.feedback.listBySensor(sensorId)).map(toInfo);
  }

  async teach(alertId: number, by: string): Promise<FeedbackInfo> {
    const alert = await this.store.alerts.require(alertId);
    if (this.models.get(alert.sensorId)?.state !== 'ready') {
      throw new ModelError(`sensor ${alert.sensorId} has no model`, 'NO_MODEL');
    }
    this.taught.push({ alertId, by });
    const record = await this.store.feedback.create({
      sensorId: alert.sensorId,
      alertId,
      windows: 4,
      patches: 96,
      path: `/feedback/${alertId}.f32`,
      createdBy: by,
    });
    await this.#countFeedback(alert.sensorId);
    return toInfo(record);
  }

  async revert(sensorId: string, feedbackId: number, by: string): Promise<FeedbackInfo> {
    const record = await this.store.feedback.revert(sensorId, feedbackId, by);
    await this.#countFeedback(sensorId);
    return toInfo(record);
  }

  /** Versions are the real registry's (test/server/models.test.ts); none here. */
  async versions(_sensorId: string): Promise<ModelVersion[]> {
    return [];
  }

  async activate(sensorId: string, version: number): Promise<ModelVersion> {
    throw new ModelError(`sensor ${sensorId} has no model version ${version}`, 'NO_VERSION');
  }

  async discard(sensorId: string, version: number): Promise<ModelVersion> {
    throw new ModelError(`sensor ${sensorId} has no model version ${version}`, 'NO_VERSION');
  }

  // Burn-ins as recorded in the store, like the real service (which also collects and applies them).
  burnIn(sensorId: string, version: number): Promise<ModelBurnIn> {
    return this.store.burnIns.require(sensorId, version);
  }

  revertBurnIn(sensorId: string, version: number, by: string): Promise<ModelBurnIn> {
    return this.store.burnIns.revert(sensorId, version, by);
  }

  async restartBurnIn(sensorId: string, version: number, by: string): Promise<ModelBurnIn> {
    const target = 1200;
    return (await this.store.burnIns.start({ sensorId, version, target, by, ifAbsent: false })).record;
  }
}

/** Sensors as stored, never connected. */
export class TestSensors extends SensorsPort {
  constructor(
    private readonly store: HarkStore,
    private readonly models: ModelsPort,
    private readonly alerts: AlertService,
  ) {
    super();
  }

  async list(): Promise<SensorStatus[]> {
    const out: SensorStatus[] = [];
    for (const s of await this.store.sensors.list()) out.push((await this.status(s.id)) as SensorStatus);
    return out;
  }

  async status(sensorId: string): Promise<SensorStatus | null> {
    const s = await this.store.sensors.get(sensorId);
    if (!s || s.deletedAt !== null) return null;
    return {
      id: s.id,
      name: s.name,
      labels: s.labels,
      state: 'disconnected',
      connected: false,
      lastSeen: s.lastSeen,
      stateSince: s.lastSeen,
      levelDbfs: null,
      peakDbfs: null,
      clipping: 0,
      clipped: false,
      silent: false,
      sampleRate: null,
      streamStartedAt: null,
      windowsScored: 0,
      windowsDropped: 0,
      dropRate: 0,
      queueDepth: 0,
      windowsSkipped: 0,
      scoringHopSeconds: 0.5,
      burnIn: null,
      lastScore: null,
      threshold: 1,
      openAlerts: (await this.store.alerts.unresolvedCounts()).get(s.id) ?? 0,
      needsAttention: (await this.store.alerts.attentionCounts()).get(s.id) ?? 0,
      activeAlertId: (await this.store.alerts.activeFor(s.id))?.id ?? null,
      activeSince: (await this.store.alerts.activeFor(s.id))?.start ?? null,
      snoozedUntil: s.snoozedUntil,
      severityThresholds: this.alerts.thresholds(s.id),
      model: this.models.status(s.id),
      instance: null,
    };
  }

  async update(sensorId: string, patch: SensorPatch): Promise<SensorStatus> {
    await this.store.sensors.update(sensorId, patch);
    return (await this.status(sensorId)) as SensorStatus;
  }

  async snooze(sensorId: string, until: number | null): Promise<SensorStatus> {
    await this.store.sensors.snooze(sensorId, until);
    return (await this.status(sensorId)) as SensorStatus;
  }

  /** The store's part of a delete (the live part is the real server's, test/server/sensor-delete.test.ts). */
  async remove(sensorId: string, o: { purge: boolean }): Promise<boolean> {
    if (!this.status(sensorId)) return false;
    if (o.purge) await this.store.sensors.purge(sensorId);
    else await this.store.sensors.markDeleted(sensorId, Date.now());
    return true;
  }

  /** The default analysis layout's bands (a stored sensor streams at the defaults). */
  melHz(sensorId: string): number[] | null {
    return this.store.sensors.cached(sensorId) ? melHz(resolveMelParams({})) : null;
  }
}

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  /** The raw bytes of a non-JSON answer. */
  bytes: Buffer;
}

export interface RequestOptions {
  method?: string;
  token?: string | null;
  /** JSON-encoded unless a string, FormData or Buffer. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Harness {
  app: INestApplication;
  base: string;
  dir: string;
  store: HarkStore;
  tokens: TokenService;
  tickets: MediaTickets;
  /** Moves the media tickets' clock forward (`offset` ms). */
  ticketClock: { offset: number };
  media: AlertMediaStore;
  metrics: HarkMetrics;
  events: HarkEvents;
  models: TestModels;
  sensors: TestSensors;
  /** The real spectrogram history over the store (not started: tests flush and prune by hand). */
  history: HistoryService;
  /** Secrets of an admin ('alice'), an operator ('olga') and a sensor token ('pump'). */
  admin: string;
  operator: string;
  sensor: string;
  /** `fetch` with the admin token unless `token` is given (null: none). */
  call<T = unknown>(path: string, options?: RequestOptions): Promise<Answer<T>>;
  /** A stored alert of `sensorId` (created with the sensor if new). */
  alert(sensorId?: string, start?: number): Promise<Alert>;
  close(): Promise<void>;
}

export async function startHarness(
  options: { dashboardDir?: string | null; maxFileBytes?: number; maxTotalBytes?: number } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'hark-http-'));
  const store = new HarkStore(dir);
  const tokens = new TokenService(store.tokens);
  // The media tickets' clock: real time plus what a test adds (`ticketClock.skip`).
  const ticketClock = { offset: 0 };
  const tickets = new MediaTickets({ dataDir: dir, now: () => Date.now() + ticketClock.offset });
  const media = new AlertMediaStore(dir, store);
  const metrics = new HarkMetrics({ defaultMetrics: false });
  const events = new HarkEvents();
  const alerts = new AlertService({ store, media, events, hub: new LiveHub(), metrics, log: () => {} });
  const models = new TestModels(store);
  const sensors = new TestSensors(store, models, alerts);
  const history = new HistoryService({
    store,
    metrics,
    config: {
      fullSeconds: SERVER_DEFAULTS.historyFullSeconds,
      reducedSeconds: SERVER_DEFAULTS.historyReducedSeconds,
      reduceSeconds: SERVER_DEFAULTS.historyReduceSeconds,
      budgetBytes: SERVER_DEFAULTS.historyBudgetBytes,
    },
  });
  const notifications = new NotificationService({ store, log: () => {} });

  @Module({
    controllers: HTTP_CONTROLLERS,
    providers: [
      ...HTTP_PROVIDERS,
      { provide: HarkStore, useValue: store },
      { provide: TokenService, useValue: tokens },
      { provide: MediaTickets, useValue: tickets },
      { provide: AlertMediaStore, useValue: media },
      { provide: AlertService, useValue: alerts },
      { provide: HarkMetrics, useValue: metrics },
      { provide: HarkEvents, useValue: events },
      { provide: SensorsPort, useValue: sensors },
      { provide: ModelsPort, useValue: models },
      { provide: HistoryService, useValue: history },
      { provide: NotificationService, useValue: notifications },
      {
        provide: Cluster,
        useValue: new Cluster({
          instance: 'harness',
          redisUrl: '',
          leaseSeconds: 5,
          hub: new LiveHub(),
          events,
          metrics,
          reloadModels: async () => {},
          log: () => {},
        }),
      },
    ],
  })
  class TestModule {}

  const app = await NestFactory.create(TestModule, { logger: false });
  setupHttp(app, {
    dashboardDir: options.dashboardDir ?? null,
    uploads: {
      dir: join(dir, 'tmp', 'uploads'),
      maxFileBytes: options.maxFileBytes ?? 50 * 1024 * 1024,
      maxTotalBytes: options.maxTotalBytes ?? 1024 * 1024 * 1024,
    },
  });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  const base = `http://127.0.0.1:${port}`;

  const admin = (await tokens.create('admin', 'alice')).token;
  const operator = (await tokens.create('operator', 'olga')).token;
  const sensor = (await tokens.create('sensor', 'pump')).token;

  let clock = 1_700_000_000_000;
  return {
    app,
    base,
    dir,
    store,
    tokens,
    tickets,
    ticketClock,
    media,
    metrics,
    events,
    models,
    history,
    sensors,
    admin,
    operator,
    sensor,
    async call<T>(path: string, opts: RequestOptions = {}): Promise<Answer<T>> {
      const headers: Record<string, string> = { ...opts.headers };
      const token = opts.token === undefined ? admin : opts.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let body: RequestInit['body'];
      if (typeof opts.body === 'string' || opts.body instanceof FormData) body = opts.body;
      else if (Buffer.isBuffer(opts.body)) body = opts.body;
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(base + path, { method: opts.method ?? 'GET', headers, body });
      const bytes = Buffer.from(await res.arrayBuffer());
      const json = (res.headers.get('content-type') ?? '').includes('application/json');
      return {
        status: res.status,
        headers: res.headers,
        bytes,
        body: (json ? JSON.parse(bytes.toString()) : null) as T,
      };
    },
    alert(sensorId = 'pump-1', start?: number): Promise<Alert> {
      clock += 60_000;
      const t = start ?? clock;
      return store.alerts.open({
        sensorId,
        kind: 'anomaly',
        start: t,
        peakScore: 2.5,
        peakAt: t + 500,
        threshold: 1,
      });
    },
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
