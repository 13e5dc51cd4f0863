/**
 * `createServer`: the whole hark server in one process: SQLite store, models on disk, sensor ingest on
 * `/sensor`, dashboards on `/live`, REST under `/api`, metrics, webhooks, and the dashboard at `/`.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { ServerOptions as IoServerOptions } from 'socket.io';
import { TokenService } from './auth/token.service.js';
import { AppModule } from './app.module.js';
import { resolveServerConfig, type ServerConfig, type ServerOptions } from './config.js';
import { HarkEvents } from './events.js';
import { setupHttp } from './http/index.js';
import { LiveHub } from './live/live-hub.js';
import { AlertMediaStore } from './media/alert-media.js';
import { HarkMetrics } from './metrics/hark.metrics.js';
import { WebhookNotifier } from './notify/webhook.notifier.js';
import { ModelRuntimeService } from './runtime/model-runtime.js';
import { ModelService } from './runtime/models.js';
import { ModelRuntime, SensorRuntime } from './runtime/ports.js';
import { SensorManager } from './runtime/sensor-manager.js';
import { HarkStore } from './store/store.js';

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
  sensors: SensorManager;
  models: ModelService;
  events: HarkEvents;
  metrics: HarkMetrics;
  close(): Promise<void>;
}

/** The built dashboard beside this package (apps/dashboard/dist), if it was built. */
export function defaultDashboardDir(): string | null {
  const dir = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));
  return existsSync(`${dir}/index.html`) ? dir : null;
}

/** socket.io with a transport message limit above the largest accepted chunk, so oversize chunks get an ack. */
class HarkIoAdapter extends IoAdapter {
  constructor(
    app: INestApplication,
    private readonly maxBytes: number,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: IoServerOptions) {
    return super.createIOServer(port, { ...options, maxHttpBufferSize: this.maxBytes } as IoServerOptions);
  }
}

export async function createServer(options: ServerOptions = {}): Promise<HarkServer> {
  const config = resolveServerConfig({ dashboardDir: defaultDashboardDir(), ...options });
  const log = config.log;
  await mkdir(config.dataDir, { recursive: true });
  const store = new HarkStore(config.dataDir);
  const tokens = new TokenService(store.tokens);
  const adminToken = tokens.ensureAdmin();
  const events = new HarkEvents();
  const metrics = new HarkMetrics();
  const hub = new LiveHub({ onDropped: (n) => metrics.liveDropped.inc(n) });
  const media = new AlertMediaStore(config.dataDir);
  // eslint-disable-next-line prefer-const -- the model service and the sensors refer to each other
  let sensors: SensorManager;
  // eslint-disable-next-line prefer-const
  let modelRuntime: ModelRuntimeService;
  const models = new ModelService({
    dataDir: config.dataDir,
    events,
    pollMs: config.modelPollMs,
    record: (id, seconds, progress) => sensors.record(id, seconds, progress),
    activeFeedback: (id) => modelRuntime.activeFeedback(id),
    log,
  });
  modelRuntime = new ModelRuntimeService(models, store, media, events);
  sensors = new SensorManager({ config, store, models, events, hub, metrics, media, log });

  events.on('alert', (a) => hub.broadcast('alert', a));
  events.on('alert:update', (a) => hub.broadcast('alert:update', a));
  events.on('sensor:status', (s) => hub.broadcast('sensor:status', s));
  events.on('model:progress', (p) => hub.broadcast('model:progress', p));

  let webhook: WebhookNotifier | null = null;
  if (config.webhookUrl) {
    webhook = new WebhookNotifier({
      url: config.webhookUrl,
      secret: config.webhookSecret,
      outbox: store.outbox,
      onOutcome: (o) => metrics.webhookOutcome(o),
      log,
    });
    webhook.attach(events);
    webhook.start();
  }

  await models.start();
  sensors.start();

  const app = await NestFactory.create(
    AppModule.forRoot([
      { provide: HarkStore, useValue: store },
      { provide: TokenService, useValue: tokens },
      { provide: HarkEvents, useValue: events },
      { provide: HarkMetrics, useValue: metrics },
      { provide: LiveHub, useValue: hub },
      { provide: AlertMediaStore, useValue: media },
      { provide: SensorManager, useValue: sensors },
      { provide: SensorRuntime, useValue: sensors },
      { provide: ModelRuntime, useValue: modelRuntime },
    ]),
    { logger: ['error', 'warn'], bodyParser: false },
  );
  app.useWebSocketAdapter(new HarkIoAdapter(app, config.maxChunkBytes * 4 + 65536));
  setupHttp(app, { dashboardDir: config.dashboardDir });
  app.enableShutdownHooks([]);
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
  if (adminToken) {
    log(`First start: created an admin token (shown once, keep it): ${adminToken}`);
  }
  log(`hark server listening on ${url} (data: ${config.dataDir})`);

  let closed: Promise<void> | null = null;
  return {
    app,
    config,
    url,
    port: address.port,
    adminToken,
    store,
    tokens,
    sensors,
    models,
    events,
    metrics,
    close: () =>
      (closed ??= (async () => {
        await app.close();
        await sensors.stop();
        await models.stop();
        await webhook?.stop();
        store.close();
      })()),
  };
}
