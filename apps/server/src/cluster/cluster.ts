/**
 * This server among several (`hark serve --redis URL --instance NAME`): socket.io's Redis streams adapter,
 * the live relay to the other instances' dashboards, per-sensor ownership leases, and notices of model
 * changes and of sensor-record changes (each instance caches the records its data path reads). Without `--redis` only the instance name is used (metrics, status, health) and everything else
 * is off: the server behaves as it always did.
 */
import { hostname } from 'node:os';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { ClusterHealthReport, ColumnsEvent, SensorStatus } from '@hark/protocol';
import { Counter, Gauge } from 'prom-client';
import type { Server as IoServer } from 'socket.io';
import type { BurnInChanged, HarkEvents, ModelChanged, SensorChanged } from '../events.js';
import type { LiveHub } from '../live/live-hub.js';
import type { HarkMetrics } from '../metrics/hark.metrics.js';
import { LiveRelay } from './live-relay.js';
import { SensorOwnership, holderInstance, type ClaimResult } from './ownership.js';
import { RedisLink } from './redis-link.js';

/** The server-side event on `/live` that carries a model-change notice ({@link ModelChanged} + instance). */
export const MODEL_NOTICE_EVENT = 'hark:model';
/**
 * The server-side event on `/live` that carries a sensor-record notice ({@link SensorChanged} + instance): an
 * admin changed or deleted the sensor there; every other instance reads its record again at once.
 */
export const SENSOR_NOTICE_EVENT = 'hark:sensor';
/**
 * The server-side event on `/live` that carries a burn-in notice ({@link BurnInChanged} + instance): a burn-in's
 * record changed there (applied, refitted, reverted, restarted); every other instance reads it again at once.
 */
export const BURN_IN_NOTICE_EVENT = 'hark:burn-in';
/** The server-side request on `/live` for a sensor's recent columns, answered by the instance that holds it. */
export const BACKFILL_EVENT = 'hark:backfill';

export interface ClusterOptions {
  /** `--instance`; empty: host name and port, known once the server listens. */
  instance: string;
  redisUrl: string;
  leaseSeconds: number;
  hub: LiveHub;
  events: HarkEvents;
  metrics: HarkMetrics;
  /** Checks the models for changes now (another instance changed one; a sensor is taken over). */
  reloadModels: () => Promise<void>;
  log: (line: string) => void;
}

export class Cluster {
  #instance: string;
  readonly link: RedisLink | null;
  readonly ownership: SensorOwnership | null;
  readonly relay: LiveRelay | null;
  #io: IoServer | null = null;
  #vouch: NodeJS.Timeout | null = null;
  /** Drops this instance's connections of a sensor (set by the `/sensor` gateway). */
  dropSensor: (sensorId: string, reason: string) => void = () => {};
  /** Whether a `/sensor` connection still stands (set by the gateway; a lease of a vanished one is let go). */
  connectionAlive: (socketId: string) => boolean = () => true;
  /** The recent columns of a sensor streaming here (set by the sensors; another instance's subscriber wants them). */
  backfillHere: (sensorId: string, seconds: number) => ColumnsEvent[] = () => [];
  /** Publishes the status of every sensor streaming here (set by the sensors; used when Redis returns). */
  republish: () => void = () => {};
  /**
   * Reads a sensor's record again (set by the sensors): another instance changed it (`where`: `on instance
   * C`), or, with no sensor id, every record in use here (Redis returned: notices sent meanwhile were missed).
   */
  reloadSensor: (sensorId: string | null, where: string) => Promise<void> = async () => {};
  /**
   * Reads a sensor's burn-in record again (set by the server): another instance changed it; with no sensor id,
   * every one followed here (Redis returned: notices sent meanwhile were missed).
   */
  reloadBurnIn: (sensorId: string | null) => Promise<void> = async () => {};
  readonly #redisUp: Gauge | null = null;
  readonly #relayed: Counter<'direction'> | null = null;

  constructor(private readonly o: ClusterOptions) {
    this.#instance = o.instance;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const cluster = this;
    const registers = [o.metrics.registry];
    new Gauge({
      name: 'hark_instance_info',
      help: 'This server instance (`hark serve --instance`): always 1, the name is the label.',
      labelNames: ['instance'] as const,
      registers,
      collect: function (this: Gauge<'instance'>) {
        this.reset();
        this.set({ instance: cluster.instance }, 1);
      },
    });
    if (!o.redisUrl) {
      this.link = this.ownership = this.relay = null;
      return;
    }
    const link = (this.link = new RedisLink({ url: o.redisUrl, log: o.log }));
    this.#redisUp = new Gauge({
      name: 'hark_redis_up',
      help: '1 while the cluster Redis (`--redis`) answers; 0: degraded, this instance scores its own sensors only.',
      registers,
    });
    new Gauge({
      name: 'hark_cluster_leases_held',
      help: 'Sensors whose ownership lease this instance holds.',
      registers,
      collect: function (this: Gauge) {
        this.set(cluster.ownership?.held ?? 0);
      },
    });
    this.#relayed = new Counter({
      name: 'hark_cluster_relayed_total',
      help: 'Live events sent to (out) and received from (in) the other instances through Redis.',
      labelNames: ['direction'] as const,
      registers,
    });
    this.#redisUp.set(0);
    this.ownership = new SensorOwnership({
      redis: link.command,
      instance: () => this.instance,
      ttlMs: o.leaseSeconds * 1000,
      up: () => link.up,
      alive: (socketId) => this.connectionAlive(socketId),
      onLost: (id, holder) =>
        this.dropSensor(
          id,
          `instance ${this.instance} lost the lease of sensor ${id} to ${holderInstance(holder)}`,
        ),
      log: o.log,
    });
    this.relay = new LiveRelay({
      hub: o.hub,
      up: () => link.up,
      instance: () => this.instance,
      onHello: () => this.republish(),
      staleMs: 3 * o.leaseSeconds * 1000,
      onRelayed: (direction) => this.#relayed?.inc({ direction }),
    });
    let lostAt = Date.now();
    link.onChange((up) => {
      this.#redisUp?.set(up ? 1 : 0);
      if (!up) {
        lostAt = Date.now();
        return;
      }
      // Back: what changed meanwhile (alerts, status, models) reaches the others, and theirs reach us.
      this.relay?.reconnected(lostAt);
      this.republish();
      void this.ownership?.renew();
      void o.reloadModels().catch(() => undefined);
      void this.reloadSensor(null, 'on another instance while Redis was away').catch(() => undefined);
      void this.reloadBurnIn(null).catch(() => undefined);
    });
    o.events.on('model:changed', (m) => this.#notice(MODEL_NOTICE_EVENT, m));
    o.events.on('sensor:changed', (m) => this.#notice(SENSOR_NOTICE_EVENT, m));
    o.events.on('burn-in:changed', (m) => this.#notice(BURN_IN_NOTICE_EVENT, m));
  }

  /** This instance's name. */
  get instance(): string {
    return this.#instance;
  }

  get enabled(): boolean {
    return this.link !== null;
  }

  /** Redis configured and unreachable now. */
  get degraded(): boolean {
    return this.link !== null && !this.link.up;
  }

  /** The socket.io adapter to give the io server (undefined alone: socket.io's in-memory one). */
  adapter(): ReturnType<typeof createAdapter> | undefined {
    // Only our server-side emits go through Redis (the hub sends to each dashboard itself); a stream entry
    // per room broadcast is not used, so a short stream suffices.
    return this.link
      ? createAdapter(this.link.adapter, { streamName: 'hark:live', maxLen: 1000 })
      : undefined;
  }

  /** Starts connecting and renewing; the instance name defaults to host name and the port listened on. */
  start(port: number): void {
    if (!this.#instance) this.#instance = `${hostname()}:${port}`;
    if (!this.link) return;
    this.link.start();
    this.ownership?.start();
    // The others believe our sensors' status for three lease periods: say it again every period.
    this.#vouch = setInterval(() => {
      if (this.link?.up) this.republish();
    }, this.o.leaseSeconds * 1000);
    this.#vouch.unref();
  }

  /** The io server listens: relay `/live` events and model notices through it. */
  attach(io: IoServer): void {
    if (!this.link) return;
    this.#io = io;
    const nsp = io.of('/live');
    this.relay?.attach(nsp);
    nsp.on(MODEL_NOTICE_EVENT, (m: ModelChanged & { instance: string }) => {
      this.o.log(
        `cluster: instance ${m.instance} changed the model of sensor ${m.sensorId} (version ${m.version ?? 'none'}): reloading`,
      );
      void this.o
        .reloadModels()
        .catch((err: Error) => this.o.log(`cluster: model reload failed: ${err.message}`));
    });
    nsp.on(SENSOR_NOTICE_EVENT, (m: SensorChanged & { instance: string }) => {
      void this.reloadSensor(m.sensorId, `on instance ${m.instance}`).catch((err: Error) =>
        this.o.log(`cluster: reading sensor ${m.sensorId} again failed: ${err.message}`),
      );
    });
    nsp.on(BURN_IN_NOTICE_EVENT, (m: BurnInChanged & { instance: string }) => {
      this.o.log(
        `cluster: instance ${m.instance} changed the burn-in of sensor ${m.sensorId} version ${m.version}: reading it again`,
      );
      void this.reloadBurnIn(m.sensorId).catch((err: Error) =>
        this.o.log(`cluster: reading the burn-in of sensor ${m.sensorId} again failed: ${err.message}`),
      );
    });
    nsp.on(
      BACKFILL_EVENT,
      (req: { sensorId: string; seconds: number }, ack: (events: ColumnsEvent[]) => void) =>
        ack(this.ownership?.holds(req.sensorId) ? this.backfillHere(req.sensorId, req.seconds) : []),
    );
  }

  /**
   * A sensor's recent columns from the instance that holds it (for a subscriber here), or none: Redis away,
   * nobody holds it, or no answer within the adapter's 5 s.
   */
  async backfill(sensorId: string, seconds: number): Promise<ColumnsEvent[]> {
    if (!this.#io || !this.link?.up) return [];
    try {
      const answers = (await this.#io
        .of('/live')
        .serverSideEmitWithAck(BACKFILL_EVENT, { sensorId, seconds })) as ColumnsEvent[][];
      return answers.find((a) => Array.isArray(a) && a.length > 0) ?? [];
    } catch {
      return [];
    }
  }

  /**
   * Claims the sensor for connection `socketId` (always granted without Redis). Taking a sensor: its model as
   * the database names it (set on any instance, fetched by hash if this one never had it), before the first
   * window is scored.
   */
  async claim(sensorId: string, socketId: string): Promise<ClaimResult> {
    const r = this.ownership ? await this.ownership.claim(sensorId, socketId) : { ok: true as const };
    if (r.ok) await this.o.reloadModels().catch(() => undefined);
    return r;
  }

  release(sensorId: string, socketId: string): void {
    void this.ownership?.release(sensorId, socketId);
  }

  /** The last status another instance sent of a sensor that streams there. */
  remoteStatus(sensorId: string): SensorStatus | null {
    return this.relay?.remoteStatus(sensorId) ?? null;
  }

  /** The sensors streaming on other instances now, with their latest status. */
  remoteStatuses(): SensorStatus[] {
    return this.relay?.remoteStatuses() ?? [];
  }

  health(): ClusterHealthReport {
    return {
      instance: this.instance,
      redis: this.link ? (this.link.up ? 'up' : 'down') : 'off',
      downSince: this.link?.downSince ?? null,
      leasesHeld: this.ownership?.held ?? 0,
    };
  }

  /** Releases the leases (other instances may take the sensors at once) and closes the Redis connections. */
  async stop(): Promise<void> {
    if (this.#vouch) clearInterval(this.#vouch);
    this.relay?.detach();
    await this.ownership?.stop();
    await this.link?.close();
    this.#io = null;
  }

  /** Tells the other instances (lost while Redis is away: they read everything again when it returns). */
  #notice(event: string, m: ModelChanged | SensorChanged | BurnInChanged): void {
    if (!this.#io || !this.link?.up) return;
    this.#io.of('/live').serverSideEmit(event, { ...m, instance: this.instance });
  }
}
