import { InvalidArgumentError, type Command } from 'commander';
import { configOverrides } from '../options.js';
import { isRole, ROLES, sensorIdProblem, type Role } from '@hark/protocol';
import {
  createServer,
  HarkStore,
  resolveServerConfig,
  SERVER_DEFAULTS,
  TokenService,
  type ServerOptions,
} from '@hark/server';

/** Options of `hark serve`; what is not given comes from `HARK_*` variables, else the server's defaults. */
export interface ServeOptions {
  port?: number;
  host?: string;
  data?: string;
  database?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  hopSeconds?: number;
  burnInWindows?: number;
  fitConfig?: Record<string, unknown>;
  dashboard?: string;
  shutdownGrace?: number;
  pingInterval?: number;
  pingTimeout?: number;
  dataTimeout?: number;
  alertQuiet?: number;
  alertRepeat?: number;
  criticalPeak?: number;
  criticalSeconds?: number;
  backupInterval?: number;
  backupKeep?: number;
  sensorIdleFree?: number;
  scoreRetention?: number;
  writeQueueMax?: number;
  instance?: string;
  redis?: string;
}

/** The server options `hark serve` gives: only those on its command line (the server fills in the rest). */
export function serveOptions(o: ServeOptions): ServerOptions {
  return {
    port: o.port,
    host: o.host,
    dataDir: o.data,
    database: o.database,
    webhookUrl: o.webhookUrl,
    webhookSecret: o.webhookSecret,
    hopSeconds: o.hopSeconds,
    burnInWindows: o.burnInWindows,
    fitConfig: o.fitConfig,
    shutdownGraceSeconds: o.shutdownGrace,
    pingIntervalSeconds: o.pingInterval,
    pingTimeoutSeconds: o.pingTimeout,
    dataTimeoutSeconds: o.dataTimeout,
    alertQuietSeconds: o.alertQuiet,
    alertRepeatSeconds: o.alertRepeat,
    criticalPeak: o.criticalPeak,
    criticalSeconds: o.criticalSeconds,
    backupIntervalMinutes: o.backupInterval,
    backupKeep: o.backupKeep,
    sensorIdleFreeSeconds: o.sensorIdleFree,
    scoreRetentionDays: o.scoreRetention,
    writeQueueMax: o.writeQueueMax,
    instance: o.instance,
    redisUrl: o.redis,
    ...(o.dashboard ? { dashboardDir: o.dashboard } : {}),
  };
}

/**
 * The node flag that keeps V8's garbage collection on the main thread: measured on 2 cores at 16 sensors,
 * 33.4 against 39.6 ms of CPU per scored window (8.9 ms less on V8's helper threads, 2.7 ms more on the event
 * loop; BENCHMARKS.md). It cannot
 * be set once the process runs (V8 aborts) nor through NODE_OPTIONS, so the launchers pass it.
 */
export const SINGLE_THREADED_GC = '--single-threaded-gc';

/**
 * The node flag that gives V8's old generation a floor of OLD_SPACE_MB before it counts as full. V8 sizes the
 * old generation from what survives a full collection (about 50 MB of objects here) and counts the bytes of
 * array buffers allocated since that collection against the same allowance, so a server that streams some 50 MB
 * of short-lived sample and feature arrays a second through a 50 MB heap ran a full mark-compact every 0.4-0.6 s
 * (60-70 ms of marking each, on the event loop). With the floor the heap collects every few seconds instead;
 * it is a floor, not a reservation: memory is taken only as the heap fills (BENCHMARKS.md, "V8's old-generation
 * floor"). Like SINGLE_THREADED_GC it is read when V8 starts, so the launchers pass it.
 */
export const OLD_SPACE_MB = 256;
export const OLD_SPACE_FLAG = `--initial-old-space-size=${OLD_SPACE_MB}`;

/** The node flags the launchers start `hark serve` with (Dockerfile, docker-compose.yml, scripts/demo.sh). */
export const SERVER_NODE_FLAGS = [SINGLE_THREADED_GC, OLD_SPACE_FLAG] as const;

/**
 * Which of SERVER_NODE_FLAGS `execArgv` lacks. An old-space size of any value counts (`--initial-old-space-size`
 * or `--initial-heap-size`, with `=` or as the next argument): whoever chose one chose it.
 */
export function missingNodeFlags(execArgv: readonly string[]): string[] {
  const missing: string[] = [];
  if (!execArgv.includes(SINGLE_THREADED_GC)) missing.push(SINGLE_THREADED_GC);
  if (!execArgv.some((a) => /^--initial[-_](old[-_]space|heap)[-_]size(=|$)/.test(a)))
    missing.push(OLD_SPACE_FLAG);
  return missing;
}

/**
 * `hark serve`: runs the server until SIGINT / SIGTERM, then stops it cleanly and exits 0 (see
 * `HarkServer.close`). A second signal, or a stop that outlasts the grace period, exits 1 at once with a line
 * saying so (the database then replays its WAL at the next start).
 */
export async function runServe(o: ServeOptions): Promise<void> {
  // Signals are ours from the first moment: without a handler, one that arrived between "listening on" and
  // the handlers below ended the process at once (no clean stop). One that arrives while the server starts
  // stops it as soon as it has started; a second one exits at once.
  let early: NodeJS.Signals | null = null;
  let onSignal = (signal: NodeJS.Signals) => {
    if (early) {
      console.error(`${signal} during the start after ${early}: exiting now`);
      process.exit(1);
    }
    early = signal;
  };
  const handler = (signal: NodeJS.Signals) => onSignal(signal);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  const server = await createServer(serveOptions(o));
  const missing = missingNodeFlags(process.execArgv);
  if (missing.length > 0)
    console.log(
      `note: started without ${missing.join(' ')}; on a busy server V8's garbage collection then costs more of ` +
        `the CPU of each scored window. Start it as \`node ${SERVER_NODE_FLAGS.join(' ')} ` +
        `apps/cli/bin/hark.js serve ...\` (as the Docker image and \`make demo\` do; BENCHMARKS.md, "V8's background GC" ` +
        `and "V8's old-generation floor").`,
    );
  const graceSeconds = server.config.shutdownGraceSeconds;
  await new Promise<void>((resolve) => {
    let stopping: string | null = null;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        console.error(`${signal} during the stop after ${stopping}: exiting now, without a clean stop`);
        process.exit(1);
      }
      stopping = signal;
      console.log(
        `${signal}: stopping the server (grace ${graceSeconds} s; a second signal exits at once)...`,
      );
      const grace = setTimeout(() => {
        console.error(
          `the server did not stop within ${graceSeconds} s of ${signal} (--shutdown-grace): exiting without a clean stop`,
        );
        process.exit(1);
      }, graceSeconds * 1000);
      server.close(signal).then(
        () => {
          clearTimeout(grace);
          console.log('server stopped cleanly');
          resolve();
        },
        (err: unknown) => {
          clearTimeout(grace);
          console.error(`error while stopping: ${(err as Error).message}`);
          process.exitCode = 1;
          resolve();
        },
      );
    };
    onSignal = stop;
    if (early) stop(early);
  });
  // Everything is closed; a handle some library left open must not keep a stopped server alive.
  process.exit(process.exitCode ?? 0);
}

export interface TokenCreateOptions {
  role: Role;
  name: string;
  /** Sensor ids a sensor token may stream as (`--sensor pump-1,pump-2`). */
  sensor?: string[];
  data?: string;
  database?: string;
  json?: boolean;
}

/** `hark token create`: a new token in the data directory's database (the server may be running). */
export async function runTokenCreate(o: TokenCreateOptions): Promise<void> {
  const { dataDir, database, maxSensorsPerToken } = resolveServerConfig({
    dataDir: o.data,
    database: o.database,
  });
  const store = await HarkStore.open(
    database ? { engine: 'postgres', url: database } : { engine: 'sqlite', dataDir },
  );
  try {
    const created = await new TokenService(store.tokens, { maxSensorsPerToken }).create(
      o.role,
      o.name,
      o.sensor,
    );
    if (o.json) console.log(JSON.stringify(created));
    else {
      console.log(
        `created ${created.role} token "${created.name}" (id ${created.id}` +
          `${created.sensors ? `, streams as ${created.sensors.join(', ')}` : created.role === 'sensor' ? ', bound to the first sensor id it streams as' : ''}); it is shown only once:`,
      );
      console.log(created.token);
    }
  } finally {
    await store.close();
  }
}

const port = (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new InvalidArgumentError(`'${v}' is not a port number (0-65535)`);
  return n;
};

const role = (v: string): Role => {
  if (!isRole(v)) throw new InvalidArgumentError(`role '${v}' must be one of ${ROLES.join(', ')}`);
  return v as Role;
};

const sensorIds = (v: string): string[] => {
  const ids = v.split(',').map((id) => id.trim());
  for (const id of ids) {
    const problem = sensorIdProblem(id);
    if (problem) throw new InvalidArgumentError(`sensor id '${id}' ${problem}`);
  }
  return ids;
};

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the hark server: sensor ingest, scoring, alerts, REST API and dashboard')
    .option('--port <n>', `TCP port (default: $HARK_PORT, else ${SERVER_DEFAULTS.port})`, port)
    .option('--host <addr>', `address to listen on (default: $HARK_HOST, else ${SERVER_DEFAULTS.host})`)
    .option('--data <dir>', 'data directory: SQLite, models, alert clips (default: $HARK_DATA, else ./data)')
    .option(
      '--database <url>',
      'keep the store in PostgreSQL, postgres://USER@HOST:PORT/DB, shared by several servers ' +
        '(default: $HARK_DATABASE_URL, else SQLite in the data directory)',
    )
    .option(
      '--webhook-url <url>',
      'POST alert notifications here (JSON, signed; default: $HARK_WEBHOOK_URL, else none)',
    )
    .option(
      '--webhook-secret <secret>',
      'shared secret of the webhook signature (default: $HARK_WEBHOOK_SECRET; needed with a webhook URL)',
    )
    .option(
      '--hop-seconds <s>',
      `seconds between scored windows (default: $HARK_HOP_SECONDS, else ${SERVER_DEFAULTS.hopSeconds})`,
      Number,
    )
    .option(
      '--burn-in-windows <n>',
      `windows an enrolled or uploaded model scores live before its threshold is refined on them, 0 = off ` +
        `(default: $HARK_BURN_IN_WINDOWS, else ${SERVER_DEFAULTS.burnInWindows}: 10 minutes at the 0.5 s hop)`,
      Number,
    )
    .option(
      '--fit-config <json>',
      'detector settings of the models this server fits from uploads and enrolment, as `hark fit --config` ' +
        '(default: $HARK_FIT_CONFIG, else the detector defaults)',
      configOverrides,
    )
    .option('--dashboard <dir>', 'serve this built dashboard at / (default: apps/dashboard/dist)')
    .option(
      '--shutdown-grace <s>',
      `seconds a SIGTERM / SIGINT may take to stop cleanly before exiting 1 (default: $HARK_SHUTDOWN_GRACE_SECONDS, else ${SERVER_DEFAULTS.shutdownGraceSeconds})`,
      Number,
    )
    .option(
      '--ping-interval <s>',
      `seconds between socket.io pings of sensors and dashboards (default: $HARK_PING_INTERVAL_SECONDS, else ${SERVER_DEFAULTS.pingIntervalSeconds})`,
      Number,
    )
    .option(
      '--ping-timeout <s>',
      `seconds without a pong before a connection counts as dropped (default: $HARK_PING_TIMEOUT_SECONDS, else ${SERVER_DEFAULTS.pingTimeoutSeconds})`,
      Number,
    )
    .option(
      '--data-timeout <s>',
      `seconds without audio before a connected sensor counts as disconnected (default: $HARK_DATA_TIMEOUT_SECONDS, else ${SERVER_DEFAULTS.dataTimeoutSeconds})`,
      Number,
    )
    .option(
      '--alert-quiet <s>',
      `an alert whose condition cleared resolves by itself after this many quiet seconds (default: $HARK_ALERT_QUIET_SECONDS, else ${SERVER_DEFAULTS.alertQuietSeconds})`,
      Number,
    )
    .option(
      '--alert-repeat <s>',
      `a new alert within this many seconds of the last one of the same sensor and kind folds into it (default: $HARK_ALERT_REPEAT_SECONDS, else ${SERVER_DEFAULTS.alertRepeatSeconds})`,
      Number,
    )
    .option(
      '--critical-peak <x>',
      `default severity: critical from this peak score, 1 = threshold (default: $HARK_CRITICAL_PEAK, else ${SERVER_DEFAULTS.criticalPeak}; per sensor: PATCH /api/sensors/:id)`,
      Number,
    )
    .option(
      '--critical-seconds <s>',
      `default severity: critical once one occurrence lasts this long (default: $HARK_CRITICAL_SECONDS, else ${SERVER_DEFAULTS.criticalSeconds}; per sensor: PATCH /api/sensors/:id)`,
      Number,
    )
    .option(
      '--backup-interval <minutes>',
      `minutes between the rolling backups of the database into DATA/backups, 0 for none (default: $HARK_BACKUP_INTERVAL_MINUTES, else ${SERVER_DEFAULTS.backupIntervalMinutes})`,
      Number,
    )
    .option(
      '--backup-keep <n>',
      `rolling backups kept (default: $HARK_BACKUP_KEEP, else ${SERVER_DEFAULTS.backupKeep})`,
      Number,
    )
    .option(
      '--sensor-idle-free <s>',
      `seconds without audio after which a sensor's rings (~4.9 MB) are freed; its next audio takes them again (default: $HARK_SENSOR_IDLE_FREE_SECONDS, else ${SERVER_DEFAULTS.sensorIdleFreeSeconds})`,
      Number,
    )
    .option(
      '--score-retention <days>',
      `days the score history keeps its points, at least 1; whole days stay in the trends (default: $HARK_SCORE_RETENTION_DAYS, else ${SERVER_DEFAULTS.scoreRetentionDays})`,
      Number,
    )
    .option(
      '--write-queue-max <points>',
      `score points kept in memory while the store fails (PostgreSQL unreachable, a full disk), ~100 bytes each; the oldest are dropped beyond it, counted; alerts are never dropped (default: $HARK_WRITE_QUEUE_MAX, else ${SERVER_DEFAULTS.writeQueueMax})`,
      Number,
    )
    .option(
      '--redis <url>',
      'redis://HOST:PORT of a cluster of hark servers: dashboards on any instance see every sensor, one instance at a time scores each (default: $HARK_REDIS_URL, else this server alone)',
    )
    .option(
      '--instance <name>',
      "this server's name among several, in /metrics, sensor:status, /api/health and log lines (default: $HARK_INSTANCE, else host name and port)",
    )
    .action((o: ServeOptions) => runServe(o));

  const token = program.command('token').description('manage access tokens');
  token
    .command('create')
    .description('create a token (printed once)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
    .requiredOption('--name <name>', 'who or what uses it')
    .option('--data <dir>', 'data directory of the server (default: $HARK_DATA, else ./data)')
    .option(
      '--database <url>',
      "the server's PostgreSQL store, when it has one (default: $HARK_DATABASE_URL)",
    )
    .option(
      '--sensor <ids>',
      'sensor tokens: the sensor ids it may stream as, comma-separated (default: the first id it streams as)',
      sensorIds,
    )
    .option('--json', 'print JSON')
    .action((o: TokenCreateOptions) => runTokenCreate(o));
}
