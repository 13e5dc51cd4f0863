/**
 * `createServer`: the whole hark server in one process: SQLite store, models on disk, sensor ingest on
 * `/sensor`, dashboards on `/live`, REST under `/api`, metrics, webhooks, and the dashboard at `/`.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { setBackboneThread } from '@hark/detection';
import { setMaxConcurrentJobs } from '@hark/native';
import { SERVER_SHUTDOWN_EVENT, type Alert, type ServerShutdown } from '@hark/protocol';
import type { Server as IoServer, ServerOptions as IoServerOptions } from 'socket.io';
import { AlertMediaStore } from './alerts/alert-media.js';
import { AlertService } from './alerts/alert.service.js';
import { MediaTickets } from './auth/media-tickets.js';
import { TokenService } from './auth/token.service.js';
import { AppModule } from './app.module.js';
import { resolveServerConfig, type ServerConfig, type ServerOptions } from './config.js';
import { lockDataDir } from './data-lock.js';
import { Cluster } from './cluster/cluster.js';
import { HarkEvents } from './events.js';
import { HistoryService } from './history/history.service.js';
import { ScoreRetention } from './history/score-retention.js';
import { setupHttp } from './http/index.js';
import { ModelsPort, SensorsPort } from './http/ports.js';
import { LiveHub } from './live/live-hub.js';
import { HarkMetrics } from './metrics/hark.metrics.js';
import { ModelRegistry } from './models/model-registry.js';
import { BurnInService } from './models/burn-in.service.js';
import { ModelService } from './models/model.service.js';
import { NotificationService } from './notify/notification.service.js';
import { WebhookNotifier } from './notify/webhook.notifier.js';
import { cpuTimes } from './scoring/hop-governor.js';
import { applySearchThreads } from './scoring/search-threads.js';
import { ShadowScorer } from './scoring/shadow-scorer.js';
import { WindowScorer } from './scoring/window-scorer.js';
import { Sensors } from './sensors/sensors.js';
import { BackupSchedule, type BackupResult } from './store/backup.js';
import { BlobCache } from './store/blob-cache.js';
import { HarkStore } from './store/store.js';
import { DspWorker } from './ingest/dsp-worker.js';

export interface HarkServer {
  app: INestApplication;
  config: ServerConfig;
  /** `http://host:port` */
  url: string;
  port: number;
  /** The admin token created on first start (empty data directory), else null. */
  adminToken: string | null;
  store: HarkStore;
  tokens: TokenService;
  sensors: Sensors;
  models: ModelRegistry;
  /** Live burn-ins of enrolled and uploaded model versions (`--burn-in-windows`). */
  burnIn: BurnInService;
  /** Each alert's clip, pictures and feedback arrays (blobs in the database, read through the cache). */
  media: AlertMediaStore;
  events: HarkEvents;
  metrics: HarkMetrics;
  /** The stored spectrogram history. */
  history: HistoryService;
  /** Notification channels, rules, deliveries and escalations. */
  notifications: NotificationService;
  /** Takes a rolling backup now (as the schedule does), into `DATA/backups/`; null when it failed (logged). */
  backup(): Promise<BackupResult | null>;
  /** The `/live` fan-out (broadcasts to dashboards, per-client flow control). */
  hub: LiveHub;
  /** This instance among several (`--redis`, `--instance`): leases, relay, Redis health. */
  cluster: Cluster;
  /**
   * Stops cleanly: stops accepting (HTTP and socket.io), tells sensors to reconnect (`server:shutdown`),
   * finishes in-flight windows, flushes scores and pending alert clips, checkpoints the WAL and closes the
   * database. `reason` is shown to the sensors (e.g. `SIGTERM`).
   */
  close(reason?: string): Promise<void>;
}

/** The built dashboard beside this package (apps/dashboard/dist), if it was built. */
export function defaultDashboardDir(): string | null {
  const dir = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));
  return existsSync(`${dir}/index.html`) ? dir : null;
}

/**
 * socket.io with a transport message limit above the largest accepted chunk, so oversize chunks get an ack,
 * and the configured heartbeat (socket.io's 25 s + 20 s default left a dead sensor "connected" for ~40 s); it
 * keeps the io server so a clean stop can tell the sensors before it disconnects them.
 */
class HarkIoAdapter extends IoAdapter {
  io: IoServer | null = null;

  constructor(
    app: INestApplication,
    private readonly options: {
      maxBytes: number;
      pingIntervalMs: number;
      pingTimeoutMs: number;
      /** socket.io's Redis adapter of a cluster (`--redis`), else its in-memory one. */
      adapter?: IoServerOptions['adapter'];
    },
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: IoServerOptions) {
    const io = super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: this.options.maxBytes,
      pingInterval: this.options.pingIntervalMs,
      pingTimeout: this.options.pingTimeoutMs,
      ...(this.options.adapter ? { adapter: this.options.adapter } : {}),
    } as IoServerOptions) as IoServer;
    this.io ??= io;
    return io;
  }
}

/** The plain objects of one server, built and wired along the data path (no Nest yet). */
interface Runtime {
  store: HarkStore;
  tokens: TokenService;
  tickets: MediaTickets;
  events: HarkEvents;
  metrics: HarkMetrics;
  hub: LiveHub;
  media: AlertMediaStore;
  alerts: AlertService;
  models: ModelRegistry;
  modelService: ModelService;
  burnIn: BurnInService;
  sensors: Sensors;
  history: HistoryService;
  webhook: WebhookNotifier | null;
  notifications: NotificationService;
  backups: BackupSchedule;
  scoreRetention: ScoreRetention;
  cluster: Cluster;
  /** The streams' resampling and log-mel, off the event loop (null: on it). */
  dsp: DspWorker | null;
}

async function buildRuntime(config: ServerConfig): Promise<Runtime> {
  const log = config.log;
  const metrics = new HarkMetrics();
  const search = applySearchThreads();
  metrics.searchThreads.set(search.threads);
  setMaxConcurrentJobs(config.searchJobs);
  metrics.searchJobs.set(config.searchJobs);
  // Every backbone the process loads from now on (models, enrolments, uploads) runs where this says.
  setBackboneThread(config.backboneWorker ? 'worker' : 'caller');
  metrics.backboneWorker.set(config.backboneWorker ? 1 : 0);
  log(
    config.backboneWorker
      ? "backbones' sessions in worker threads (HARK_BACKBONE_WORKER=0 runs them on the event loop)"
      : "backbones' sessions on the event loop (HARK_BACKBONE_WORKER=0)",
  );
  log(
    `FAISS searches on ${search.threads} thread(s) of ${availableParallelism()} core(s) (` +
      (search.source === 'environment'
        ? 'HARK_FAISS_THREADS or OMP_NUM_THREADS)'
        : 'a core left to the event loop; HARK_FAISS_THREADS sets it)') +
      `, ${config.searchJobs} search(es) at once (HARK_SEARCH_JOBS)`,
  );
  // Score points dropped from the full queue while the store fails: counted, and one ERROR line a minute.
  let scoresDroppedLoggedAt = -Infinity;
  let scoresDroppedUnlogged = 0;
  const scoresDropped = (n: number) => {
    metrics.writeQueueDropped.inc({ queue: 'scores' }, n);
    scoresDroppedUnlogged += n;
    if (Date.now() - scoresDroppedLoggedAt < 60_000) return;
    scoresDroppedLoggedAt = Date.now();
    log(
      `STORAGE ERROR: the score points kept while the store fails reached their bound of ` +
        `${store.scores.maxQueued}; dropped the oldest ${scoresDroppedUnlogged} since the last line ` +
        `(alerts are kept regardless)`,
    );
    scoresDroppedUnlogged = 0;
  };
  const store = await HarkStore.open(
    config.database
      ? { engine: 'postgres', url: config.database }
      : { engine: 'sqlite', dataDir: config.dataDir },
    {
      scores: {
        retentionMs: config.scoreRetentionDays * 86_400_000,
        maxQueued: config.writeQueueMax,
        onDropped: scoresDropped,
      },
      health: {
        log,
        onError: (op) => metrics.storageErrors.inc({ op }),
        onChange: (writable) => metrics.storeUp.set(writable ? 1 : 0),
      },
    },
  );
  metrics.storeInfo.set({ engine: store.engine }, 1);
  metrics.storeUp.set(store.health.report().writable ? 1 : 0);
  const tokens = new TokenService(store.tokens, {
    health: store.health,
    maxSensorsPerToken: config.maxSensorsPerToken,
  });
  const tickets = new MediaTickets({ dataDir: config.dataDir, log });
  const history = new HistoryService({
    store,
    metrics,
    config: {
      fullSeconds: config.historyFullSeconds,
      reducedSeconds: config.historyReducedSeconds,
      reduceSeconds: config.historyReduceSeconds,
      budgetBytes: config.historyBudgetBytes,
    },
  });
  const events = new HarkEvents();
  metrics.writeQueues = () => ({
    alerts: 0,
    sensors: 0,
    ...store.health.report().waitingWrites,
    scores: store.scores.buffered,
    history: history.recorder.waiting,
  });
  const hub = new LiveHub({ onDropped: (n) => metrics.liveDropped.inc(n) });
  const media = new AlertMediaStore(config.dataDir, store, log);
  // An older data directory's alert files go to the database once.
  await media.start();
  const alerts = new AlertService({ store, media, events, hub, metrics, log, policy: config });
  // The registry records enrolments from the sensors' streams and reads the feedback the model service
  // keeps; both are built after it.
  // eslint-disable-next-line prefer-const
  let sensors: Sensors;
  // eslint-disable-next-line prefer-const
  let modelService: ModelService;
  const blobCache = new BlobCache(config.dataDir, store.blobs, log);
  // Copies of blobs swept while this instance was away (in the background: disk only, never a wrong read).
  void blobCache
    .prune()
    .then((n) => n > 0 && log(`blob cache: removed ${n} stale file(s) from ${blobCache.dir}`))
    .catch((err: Error) => log(`blob cache: not pruned: ${err.message}`));
  const models = new ModelRegistry({
    dataDir: config.dataDir,
    versionStore: { versions: store.modelVersions, cache: blobCache },
    events,
    pollMs: config.modelPollMs,
    fitConfig: config.fitConfig,
    record: (id, seconds, progress) => sensors.record(id, seconds, progress),
    activeFeedback: (id) => modelService.activeFeedback(id),
    watchAlerts: (id) => {
      // The anomaly alerts of the sensor open during a recording: the one open at its start and every one
      // that opens (or, folded, occurs again) before it ends.
      const seen = new Set<number>();
      void store.alerts
        .activeFor(id, 'anomaly')
        .then((open) => open && seen.add(open.id))
        .catch(() => {});
      const on = (a: Alert) => {
        if (a.sensorId === id && a.kind === 'anomaly' && a.active) seen.add(a.id);
      };
      events.on('alert', on);
      events.on('alert:update', on);
      return () => {
        events.off('alert', on);
        events.off('alert:update', on);
        return [...seen];
      };
    },
    keepVersions: config.modelVersionsKept,
    maxShadowModels: config.maxShadowModels,
    alertRule: { openWindows: config.alertOpenWindows, closeWindows: config.alertCloseWindows },
    log,
  });
  const burnIn = new BurnInService({
    store,
    events,
    models,
    windows: config.burnInWindows,
    hopSeconds: config.hopSeconds,
    alertWindows: config.alertOpenWindows,
    log,
  });
  modelService = new ModelService(models, store, media, events, burnIn);
  const cluster = new Cluster({
    instance: config.instance,
    redisUrl: config.redisUrl,
    leaseSeconds: config.leaseSeconds,
    hub,
    events,
    metrics,
    reloadModels: () => models.poll(),
    log,
  });
  if (config.redisUrl && store.engine === 'sqlite')
    log(
      'cluster: this instance keeps its own SQLite store: its alerts, scores and history are its own, and the ' +
        "instances number their alerts alike (a dashboard may show one instance's alert in place of another's); " +
        'for one store shared by every instance use --database postgres://USER@HOST:PORT/DB',
    );
  events.on('model:progress', (p) => hub.broadcast('model:progress', p));
  const scorer = new WindowScorer({
    concurrency: config.scoringConcurrency,
    queuePerSensor: config.queuePerSensor,
    hopSeconds: config.hopSeconds,
    models,
    metrics,
    log,
    cpu: { cores: availableParallelism(), times: cpuTimes },
  });
  const shadow = new ShadowScorer(scorer.scheduler, models, log);
  const dsp = config.dspWorker
    ? new DspWorker(log, (running) => metrics.dspWorker.set(running ? 1 : 0))
    : null;
  metrics.dspWorker.set(dsp ? 1 : 0);
  log(
    dsp
      ? "streams' resampling and log-mel in a worker thread (HARK_DSP_WORKER=1)"
      : "streams' resampling and log-mel on the event loop (HARK_DSP_WORKER=1 moves them to a worker thread)",
  );
  cluster.reloadBurnIn = (id) => (id === null ? burnIn.syncAll() : burnIn.sync(id));
  sensors = new Sensors({
    config,
    dsp: dsp ?? undefined,
    store,
    models,
    scorer,
    shadow,
    burnIn,
    alerts,
    hub,
    metrics,
    history,
    instance: () => cluster.instance,
    remoteStatus: (id) => cluster.remoteStatus(id),
    remoteStatuses: () => cluster.remoteStatuses(),
    events,
    log,
  });
  cluster.republish = () => sensors.publishAll();
  events.on('burn-in:changed', (m) => sensors.burnInChanged(m.sensorId));
  cluster.backfillHere = (id, seconds) => sensors.backfill(id, seconds);
  cluster.reloadSensor = (id, where) =>
    id === null ? sensors.reloadRecords(where) : sensors.recordChanged(id, where);
  const webhook = config.webhookUrl
    ? new WebhookNotifier({
        url: config.webhookUrl,
        secret: config.webhookSecret,
        outbox: store.outbox,
        onOutcome: (o) => metrics.webhookOutcome(o),
        onStoreError: (err) => store.health.failed('webhook', err),
        log,
      })
    : null;
  webhook?.attach(events);
  // Channels and rules stored by admins; the env webhook above keeps working beside them.
  const notifications = new NotificationService({
    store,
    onOutcome: (outcome, d) => metrics.notificationDeliveries.inc({ kind: d.channelKind, outcome }),
    log,
  });
  notifications.attach(events);
  // Rolling backups are SQLite's (its online backup API); PostgreSQL is backed up with its own tools.
  const backups = new BackupSchedule({
    db: store.engine === 'sqlite' ? store.database.sqlite : null,
    dataDir: config.dataDir,
    intervalMs: store.engine === 'sqlite' ? config.backupIntervalMinutes * 60_000 : 0,
    keep: config.backupKeep,
    log,
    onError: () => metrics.storageErrors.inc({ op: 'backup' }),
  });
  const scoreRetention = new ScoreRetention({ store, metrics });
  return {
    store,
    tokens,
    tickets,
    events,
    metrics,
    hub,
    media,
    alerts,
    models,
    modelService,
    burnIn,
    sensors,
    history,
    webhook,
    notifications,
    backups,
    scoreRetention,
    cluster,
    dsp,
  };
}

/** The Nest app (REST, `/sensor`, `/live`) over the runtime's objects, listening. */
async function startApp(
  config: ServerConfig,
  rt: Runtime,
): Promise<{ app: INestApplication; io: HarkIoAdapter }> {
  const app = await NestFactory.create(
    AppModule.forRoot([
      { provide: HarkStore, useValue: rt.store },
      { provide: TokenService, useValue: rt.tokens },
      { provide: MediaTickets, useValue: rt.tickets },
      { provide: HarkMetrics, useValue: rt.metrics },
      { provide: LiveHub, useValue: rt.hub },
      { provide: AlertMediaStore, useValue: rt.media },
      { provide: AlertService, useValue: rt.alerts },
      { provide: Sensors, useValue: rt.sensors },
      { provide: SensorsPort, useValue: rt.sensors },
      { provide: HistoryService, useValue: rt.history },
      { provide: ModelsPort, useValue: rt.modelService },
      { provide: NotificationService, useValue: rt.notifications },
      { provide: Cluster, useValue: rt.cluster },
    ]),
    { logger: ['error', 'warn'], bodyParser: false },
  );
  const io = new HarkIoAdapter(app, {
    maxBytes: config.maxChunkBytes * 4 + 65536,
    pingIntervalMs: config.pingIntervalSeconds * 1000,
    pingTimeoutMs: config.pingTimeoutSeconds * 1000,
    adapter: rt.cluster.adapter(),
  });
  app.useWebSocketAdapter(io);
  setupHttp(app, {
    dashboardDir: config.dashboardDir,
    uploads: {
      dir: join(config.dataDir, 'tmp', 'uploads'),
      maxFileBytes: config.uploadMaxFileMb * 1024 * 1024,
      maxTotalBytes: config.uploadMaxTotalMb * 1024 * 1024,
    },
  });
  // No Nest shutdown hooks: they re-raise the signal after closing (exit 143, no flush); `hark serve` owns
  // SIGTERM / SIGINT and calls `close()`, which stops in data-path order.
  await app.listen(config.port, config.host);
  rt.cluster.start((app.getHttpServer().address() as { port: number }).port);
  if (io.io) rt.cluster.attach(io.io);
  return { app, io };
}

export async function createServer(options: ServerOptions = {}): Promise<HarkServer> {
  const config = resolveServerConfig({ dashboardDir: defaultDashboardDir(), ...options });
  let rt: Runtime | null = null;
  if (config.redisUrl || config.instance) {
    // Among several instances every line says which one wrote it (the name is known once it listens).
    const base = config.log;
    config.log = (line) => base(`[${rt?.cluster.instance || config.instance || 'starting'}] ${line}`);
  }
  await mkdir(config.dataDir, { recursive: true });
  // Before anything else touches the directory: a second server on it stops here, naming the first.
  const lock = lockDataDir(config.dataDir);
  if (lock.replaced)
    config.log(
      `took over the lock of ${config.dataDir} left by hark pid ${lock.replaced.pid} on ${lock.replaced.host}, which is gone`,
    );
  let app: INestApplication;
  let io: HarkIoAdapter;
  let adminToken: string | null;
  try {
    rt = await buildRuntime(config);
    adminToken = await rt.tokens.ensureAdmin();
    await rt.alerts.refreshCounts();
    rt.webhook?.start();
    rt.notifications.start();
    rt.backups.start();
    await rt.models.start();
    await rt.sensors.start();
    rt.history.start();
    rt.scoreRetention.start();
    ({ app, io } = await startApp(config, rt));
  } catch (err) {
    await rt?.scoreRetention.stop();
    await rt?.dsp?.stop();
    await rt?.cluster.stop();
    await rt?.backups.stop();
    await rt?.store.close();
    lock.release();
    throw err;
  }
  const runtime = rt;
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
  if (adminToken) config.log(`First start: created an admin token (shown once, keep it): ${adminToken}`);
  if (runtime.store.database.readOnlyReason)
    config.log(
      `STORAGE ERROR: started READ-ONLY: ${runtime.store.database.path} takes no writes ` +
        `(${runtime.store.database.readOnlyReason}); free space on the disk of ${config.dataDir}: writes resume by themselves`,
    );
  config.log(
    `hark server listening on ${url} (data: ${config.dataDir}; store: ${runtime.store.engine} ` +
      `${runtime.store.database.path}; instance ${runtime.cluster.instance}` +
      `${config.redisUrl ? ', cluster through Redis' : ''})`,
  );

  let closed: Promise<void> | null = null;
  return {
    app,
    config,
    url,
    port: address.port,
    adminToken,
    store: runtime.store,
    tokens: runtime.tokens,
    sensors: runtime.sensors,
    models: runtime.models,
    burnIn: runtime.burnIn,
    media: runtime.media,
    events: runtime.events,
    metrics: runtime.metrics,
    history: runtime.history,
    notifications: runtime.notifications,
    hub: runtime.hub,
    cluster: runtime.cluster,
    backup: () => runtime.backups.run(),
    close: (reason = 'close') =>
      (closed ??= (async () => {
        try {
          // Stop accepting: no new HTTP connections (open keep-alive ones are closed by app.close below).
          const http = app.getHttpServer() as import('node:http').Server;
          http.close();
          // Tell the sensors first, so they take the disconnect as "reconnect" and keep their audio.
          const sensorNs = io.io?.of('/sensor');
          if (sensorNs) {
            const notice: ServerShutdown = {
              reason: 'shutdown',
              message: `server shutting down (${reason})`,
            };
            // `local`: with a cluster adapter, a namespace-wide emit or disconnect reaches every instance.
            sensorNs.local.emit(SERVER_SHUTDOWN_EVENT, notice);
            sensorNs.local.disconnectSockets(true);
          }
          http.closeIdleConnections?.();
          await app.close();
          await runtime.sensors.stop();
          await runtime.dsp?.stop();
          await runtime.burnIn.stop();
          // After the sensors stopped: their leases are released for the other instances to take at once.
          await runtime.cluster.stop();
          await runtime.history.stop();
          await runtime.scoreRetention.stop();
          await runtime.models.stop();
          await runtime.webhook?.stop();
          // A short grace: an attempt cut off stays pending and is sent after the next start.
          await runtime.notifications.stop(2000);
          await runtime.backups.stop();
          await runtime.store.close();
        } finally {
          lock.release();
        }
      })()),
  };
}
