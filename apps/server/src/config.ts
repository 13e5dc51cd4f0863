/**
 * Server configuration: `hark serve` options and environment, with the defaults of the embedded install
 * (one process, SQLite in the data directory, models on disk).
 */
import path from 'node:path';
import { resolveDetectorConfig, type DetectorConfigInput } from '@hark/detection';
import { DEFAULT_MAX_QUEUED_SCORES, DEFAULT_SCORE_RETENTION_MS } from './store/score.repository.js';

export interface ServerConfig {
  port: number;
  host: string;
  /** Data directory: SQLite database, models, alert clips, enrolment recordings. */
  dataDir: string;
  /** Largest accepted `audio.data` in bytes. */
  maxChunkBytes: number;
  /** Seconds between scored windows of a live stream. */
  hopSeconds: number;
  /** Windows over the threshold that open an alert, and under it that close one. */
  alertOpenWindows: number;
  /**
   * Live burn-in (issue 13): the first windows an enrolled or uploaded model version scores live refine its
   * threshold (models/burn-in.service.ts). Windows to collect (1200: 10 minutes at the 0.5 s hop); 0: off.
   */
  burnInWindows: number;
  /**
   * The detector configuration models fitted by this server use (uploaded clips and enrolment; the same
   * fields as `hark fit --config`), over the detector's defaults. Empty: the defaults. A model keeps the
   * configuration it was fitted with.
   */
  fitConfig: DetectorConfigInput;
  alertCloseWindows: number;
  /** Scoring jobs running at once (whole process) and windows waiting per sensor before drops. */
  scoringConcurrency: number;
  queuePerSensor: number;
  /** RMS level under which a stream counts as silent, and for how long before a silence alert opens. */
  silenceDbfs: number;
  silenceSeconds: number;
  /** Largest distance between a sensor's `audio.t` and the server clock where it anchors a stream, s. */
  maxClockSkewSeconds: number;
  /** Audio kept around an alert. */
  clipPreSeconds: number;
  clipPostSeconds: number;
  /**
   * Where the store lives: empty for SQLite in `<dataDir>/hark.db` (the embedded default), or a
   * `postgres://USER@HOST:PORT/DB` URL (several servers may share it).
   */
  database: string;
  /** Outbound webhook (none when url is empty). */
  webhookUrl: string;
  webhookSecret: string;
  /** Directory of the built dashboard served at `/` (none when missing). */
  dashboardDir: string | null;
  /**
   * Seconds a SIGTERM / SIGINT may take to stop cleanly (finish in-flight windows, flush scores and clips,
   * checkpoint the WAL) before `hark serve` gives up and exits non-zero.
   */
  shutdownGraceSeconds: number;
  /**
   * Sensor ids the server knows at most (stored or streaming); a new id past it is refused at the handshake.
   */
  maxSensors: number;
  /**
   * Sensor ids one sensor token may be bound to (and so register) at most: a token stands for one device or
   * gateway, and must not fill the server's list alone. Admin tokens are bounded by `maxSensors` only.
   */
  maxSensorsPerToken: number;
  /**
   * Seconds without audio after which a sensor's rings (about 4.9 MB) are given back; the next audio takes
   * them again. The sensor stays known, with its model, sequence and stream time.
   */
  sensorIdleFreeSeconds: number;
  /** Largest uploaded file, and largest upload (all its files), MB. */
  uploadMaxFileMb: number;
  uploadMaxTotalMb: number;
  /** Minutes between the rolling backups of `hark.db` into `DATA/backups/` (0: none). */
  backupIntervalMinutes: number;
  /** Rolling backups kept (the oldest is deleted after each new one). */
  backupKeep: number;
  /**
   * Spectrogram history: full-resolution columns are kept `historyFullSeconds`, the reduced ones (the max per
   * mel band over each `historyReduceSeconds` window) `historyReducedSeconds`; beyond `historyBudgetBytes`
   * stored bytes the oldest blocks are deleted first.
   */
  historyFullSeconds: number;
  historyReducedSeconds: number;
  historyReduceSeconds: number;
  historyBudgetBytes: number;
  /**
   * Days the score history (`GET /api/sensors/:id/scores`) keeps its points; older ones are deleted in slices.
   * Whole days are rolled up into the trends first, so the trends reach further back.
   */
  scoreRetentionDays: number;
  /**
   * Score points kept in memory while the store fails (PostgreSQL unreachable, a full disk); the oldest are
   * dropped beyond it, counted and logged. Alert writes are never dropped (they have their own queue).
   */
  writeQueueMax: number;
  /**
   * The live streams' resampling and log-mel in a worker thread (`ingest/dsp-worker.ts`), off the event loop
   * that serves the sockets and the scoring; false: on the event loop.
   */
  dspWorker: boolean;
  /**
   * Each backbone's onnxruntime session in a worker thread of its own (`@hark/detection` `setBackboneThread`),
   * so its inference does not hold the event loop; false: on the event loop.
   */
  backboneWorker: boolean;
  /**
   * FAISS jobs (searches) the process runs at once (`@hark/native` `setMaxConcurrentJobs`): 1 runs them one
   * after another, each on `hark_search_threads` threads. With more, a search need not wait for the event loop
   * to take the last one's answer before it starts (BENCHMARKS.md, issue 16, session 32).
   */
  searchJobs: number;
  /** How often the models directory is checked for model directories placed by hand (ms). */
  modelPollMs: number;
  /**
   * socket.io heartbeat of both namespaces, s: the server pings every `pingIntervalSeconds` and closes a
   * connection whose pong has not come `pingTimeoutSeconds` later, so a sensor whose host or network died
   * reads `disconnected` within their sum.
   */
  pingIntervalSeconds: number;
  pingTimeoutSeconds: number;
  /**
   * Seconds without audio after which a sensor whose connection still stands counts as disconnected (its
   * capture stalled, or a proxy keeps a dead connection's pings alive). Checked every second.
   */
  dataTimeoutSeconds: number;
  /** An alert whose condition cleared resolves by itself after this many quiet seconds. */
  alertQuietSeconds: number;
  /** A new alert within this many seconds of the last one of the same sensor and kind folds into it (0: never). */
  alertRepeatSeconds: number;
  /**
   * Default severity thresholds (a sensor may set its own): an alert is `critical` once its peak reaches
   * `criticalPeak` (normalised, 1 = threshold) or one occurrence lasts `criticalSeconds`, else `warning`.
   */
  criticalPeak: number;
  criticalSeconds: number;
  /** Model versions kept on disk per sensor, the active and shadow ones included (never deleted). */
  modelVersionsKept: number;
  /** Sensors that may run a shadow model (a new version on trial) at once: each holds a second model. */
  maxShadowModels: number;
  /**
   * This server's name among several (`/metrics`, `sensor:status`, `/api/health`, log lines); empty: the host
   * name and the port it listens on (filled in at start).
   */
  instance: string;
  /**
   * Redis of a cluster of servers (`redis://HOST:PORT`; empty: this server alone): dashboards on any instance
   * see every sensor, and a per-sensor lease lets one instance at a time score a sensor.
   */
  redisUrl: string;
  /** Time to live of a sensor's ownership lease in Redis, s (renewed three times per period). */
  leaseSeconds: number;
  /** Print the first admin token (and other start-up lines) here. */
  log: (line: string) => void;
}

export const SERVER_DEFAULTS: Omit<ServerConfig, 'dataDir' | 'dashboardDir' | 'log'> = {
  port: 8080,
  instance: '',
  redisUrl: '',
  // 3 s: a killed instance's sensors are refused elsewhere for at most 3 s (its lease runs out), so they are
  // scored again within the 5 s failover budget of issue 17 (measured ~2-4 s end to end, cluster-pg-redis
  // e2e). Renewed every 1 s, so one missed renewal (a stall of Redis or of the event loop under 2 s) does not
  // lose it; a longer stall loses it, and the sensor reconnects and resends what was not acknowledged.
  leaseSeconds: 3,
  host: '127.0.0.1',
  maxChunkBytes: 1 << 20,
  hopSeconds: 0.5,
  alertOpenWindows: 2,
  burnInWindows: 1200,
  fitConfig: {},
  alertCloseWindows: 2,
  scoringConcurrency: 2,
  queuePerSensor: 2,
  silenceDbfs: -70,
  silenceSeconds: 10,
  maxClockSkewSeconds: 300,
  clipPreSeconds: 2,
  clipPostSeconds: 2,
  database: '',
  webhookUrl: '',
  webhookSecret: '',
  modelPollMs: 2000,
  modelVersionsKept: 10,
  maxShadowModels: 2,
  shutdownGraceSeconds: 10,
  // 3 + 5 s: a dead connection is closed within 8 s, inside the 10 s an operator is promised (issue 14),
  // with 5 s of slack for a loaded server's event loop before a live sensor is dropped by mistake.
  pingIntervalSeconds: 3,
  pingTimeoutSeconds: 5,
  // Sensors send a chunk every 100-500 ms: 5 s of nothing is ten missed chunks, not jitter.
  dataTimeoutSeconds: 5,
  // Two minutes of quiet: longer than the gaps inside one fault (a bearing knocking every few seconds), short
  // enough that an inbox after a shift holds what still matters.
  alertQuietSeconds: 120,
  // Ten minutes: a machine that faults again within the next few quiet periods is one problem, not several.
  alertRepeatSeconds: 600,
  // Twice the threshold, or half a minute over it: the scale on which the detector's threshold was set
  // (its false-alarm rate on normal sound) makes 2x a clear departure rather than a marginal one.
  criticalPeak: 2,
  criticalSeconds: 30,
  // Daily, a week kept: an operator's annotations and tokens of a day are what a bad disk can cost.
  backupIntervalMinutes: 24 * 60,
  backupKeep: 7,
  // 50 MB is 26 min of 16 kHz 16-bit mono; a whole upload of 1 GB is 20 such files (uploads are on disk).
  // A streaming sensor holds its rings (about 4.9 MB, issue 18 M2) and its model (about 10 MB for a default
  // one fitted on a minute of sound, its context memory at one byte per value and the bounded search's
  // projection): 100 are about 1.5 GB, more than a 2-core server scores live anyway. Raise it with the memory.
  maxSensors: 100,
  // 16: the channels of the larger multi-channel audio interfaces a gateway box forwards; a device with more
  // takes more tokens (or the limit is raised).
  maxSensorsPerToken: 16,
  // Five minutes: longer than a sensor's reconnect after a network blip or a restart (its rings, and the
  // backfill and clips they hold, survive those), short enough that ids that went away stop costing memory.
  sensorIdleFreeSeconds: 300,
  uploadMaxFileMb: 50,
  uploadMaxTotalMb: 1024,
  historyFullSeconds: 3600,
  historyReducedSeconds: 7 * 24 * 3600,
  historyReduceSeconds: 0.5,
  // At the default mel layout (128 bands, 62.5 columns/s) a sensor stores 57.6 MB per full-resolution hour
  // and 44 MB per reduced day: 16 sensors at the default retentions take 5.9 GB.
  historyBudgetBytes: 8e9,
  // The trends' default span (30 days): the score line can be drawn as far back as the trends chart shows. At
  // two points per second a sensor stores about 5.2 M points (~130 MB) in 30 days.
  scoreRetentionDays: DEFAULT_SCORE_RETENTION_MS / 86_400_000,
  // ~100 bytes a point: 10 MB, 52 minutes of 16 sensors' points (see DEFAULT_MAX_QUEUED_SCORES).
  writeQueueMax: DEFAULT_MAX_QUEUED_SCORES,
  // Off: on 2 cores it took the event loop from 0.75 to 0.69 busy at 64 sensors at 48 kHz, but 2 of its 4 runs
  // built up a queue (p99 1.5-2.8 s), against none of 3 on the loop: a third busy thread on two cores
  // (BENCHMARKS.md, session 29). Try it with more cores.
  dspWorker: false,
  backboneWorker: true,
  // One at a time until alternating runs at the defaults say otherwise: with every window forced, two at once
  // scored 16 % more windows (BENCHMARKS.md, issue 16, session 32).
  searchJobs: 1,
};

export type ServerOptions = Partial<ServerConfig>;

/** The names a setting is given by: its `hark serve` flag and its environment variable, where they exist. */
export const CONFIG_NAMES: Partial<Record<keyof ServerConfig, { flag?: string; env?: string }>> = {
  port: { flag: '--port', env: 'HARK_PORT' },
  instance: { flag: '--instance', env: 'HARK_INSTANCE' },
  redisUrl: { flag: '--redis', env: 'HARK_REDIS_URL' },
  leaseSeconds: { env: 'HARK_LEASE_SECONDS' },
  host: { flag: '--host', env: 'HARK_HOST' },
  dataDir: { flag: '--data', env: 'HARK_DATA' },
  database: { flag: '--database', env: 'HARK_DATABASE_URL' },
  maxChunkBytes: { env: 'HARK_MAX_CHUNK_BYTES' },
  hopSeconds: { flag: '--hop-seconds', env: 'HARK_HOP_SECONDS' },
  burnInWindows: { flag: '--burn-in-windows', env: 'HARK_BURN_IN_WINDOWS' },
  fitConfig: { flag: '--fit-config', env: 'HARK_FIT_CONFIG' },
  maxClockSkewSeconds: { env: 'HARK_MAX_CLOCK_SKEW_SECONDS' },
  webhookUrl: { flag: '--webhook-url', env: 'HARK_WEBHOOK_URL' },
  webhookSecret: { flag: '--webhook-secret', env: 'HARK_WEBHOOK_SECRET' },
  dashboardDir: { flag: '--dashboard' },
  shutdownGraceSeconds: { flag: '--shutdown-grace', env: 'HARK_SHUTDOWN_GRACE_SECONDS' },
  pingIntervalSeconds: { flag: '--ping-interval', env: 'HARK_PING_INTERVAL_SECONDS' },
  pingTimeoutSeconds: { flag: '--ping-timeout', env: 'HARK_PING_TIMEOUT_SECONDS' },
  dataTimeoutSeconds: { flag: '--data-timeout', env: 'HARK_DATA_TIMEOUT_SECONDS' },
  alertQuietSeconds: { flag: '--alert-quiet', env: 'HARK_ALERT_QUIET_SECONDS' },
  alertRepeatSeconds: { flag: '--alert-repeat', env: 'HARK_ALERT_REPEAT_SECONDS' },
  criticalPeak: { flag: '--critical-peak', env: 'HARK_CRITICAL_PEAK' },
  criticalSeconds: { flag: '--critical-seconds', env: 'HARK_CRITICAL_SECONDS' },
  backupIntervalMinutes: { flag: '--backup-interval', env: 'HARK_BACKUP_INTERVAL_MINUTES' },
  backupKeep: { flag: '--backup-keep', env: 'HARK_BACKUP_KEEP' },
  maxSensors: { env: 'HARK_MAX_SENSORS' },
  maxSensorsPerToken: { env: 'HARK_MAX_SENSORS_PER_TOKEN' },
  sensorIdleFreeSeconds: { flag: '--sensor-idle-free', env: 'HARK_SENSOR_IDLE_FREE_SECONDS' },
  uploadMaxFileMb: { env: 'HARK_UPLOAD_MAX_FILE_MB' },
  uploadMaxTotalMb: { env: 'HARK_UPLOAD_MAX_TOTAL_MB' },
  modelVersionsKept: { env: 'HARK_MODEL_VERSIONS_KEPT' },
  maxShadowModels: { env: 'HARK_MAX_SHADOW_MODELS' },
  historyFullSeconds: { env: 'HARK_HISTORY_FULL_SECONDS' },
  historyReducedSeconds: { env: 'HARK_HISTORY_REDUCED_SECONDS' },
  historyReduceSeconds: { env: 'HARK_HISTORY_REDUCE_SECONDS' },
  historyBudgetBytes: { env: 'HARK_HISTORY_BUDGET_BYTES' },
  scoreRetentionDays: { flag: '--score-retention', env: 'HARK_SCORE_RETENTION_DAYS' },
  writeQueueMax: { flag: '--write-queue-max', env: 'HARK_WRITE_QUEUE_MAX' },
  dspWorker: { env: 'HARK_DSP_WORKER' },
  backboneWorker: { env: 'HARK_BACKBONE_WORKER' },
  searchJobs: { env: 'HARK_SEARCH_JOBS' },
};

/** Every bad setting at once, each named as it was given (flag, environment variable or option). */
export class ConfigError extends RangeError {
  constructor(readonly problems: string[]) {
    super(`invalid server configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Defaults, then `HARK_*` environment variables, then explicit options (the `hark serve` flags). Every value
 * is checked and all problems are reported together in one `ConfigError`.
 */
export function resolveServerConfig(
  opts: ServerOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig {
  const problems: string[] = [];
  const num = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) problems.push(`${name} (${JSON.stringify(v)}) must be a number`);
    return Number.isFinite(n) ? n : undefined;
  };
  const json = (name: string): DetectorConfigInput | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    try {
      const o: unknown = JSON.parse(v);
      if (o && typeof o === 'object' && !Array.isArray(o)) return o as DetectorConfigInput;
    } catch {
      // reported below
    }
    problems.push(
      `${name} (${JSON.stringify(v)}) must be a JSON object of detector settings, e.g. {"fusion":"max"}`,
    );
    return undefined;
  };
  const bool = (name: string): boolean | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const b = (
      { 1: true, true: true, on: true, 0: false, false: false, off: false } as Record<string, boolean>
    )[v.toLowerCase()];
    if (b === undefined)
      problems.push(`${name} (${JSON.stringify(v)}) must be 1 or 0 (true / false, on / off)`);
    return b;
  };
  const fromEnv: ServerOptions = {
    port: num('HARK_PORT'),
    instance: env.HARK_INSTANCE || undefined,
    redisUrl: env.HARK_REDIS_URL || undefined,
    leaseSeconds: num('HARK_LEASE_SECONDS'),
    host: env.HARK_HOST || undefined,
    dataDir: env.HARK_DATA || undefined,
    database: env.HARK_DATABASE_URL || undefined,
    maxChunkBytes: num('HARK_MAX_CHUNK_BYTES'),
    hopSeconds: num('HARK_HOP_SECONDS'),
    burnInWindows: num('HARK_BURN_IN_WINDOWS'),
    fitConfig: json('HARK_FIT_CONFIG'),
    maxClockSkewSeconds: num('HARK_MAX_CLOCK_SKEW_SECONDS'),
    webhookUrl: env.HARK_WEBHOOK_URL || undefined,
    webhookSecret: env.HARK_WEBHOOK_SECRET || undefined,
    shutdownGraceSeconds: num('HARK_SHUTDOWN_GRACE_SECONDS'),
    pingIntervalSeconds: num('HARK_PING_INTERVAL_SECONDS'),
    pingTimeoutSeconds: num('HARK_PING_TIMEOUT_SECONDS'),
    dataTimeoutSeconds: num('HARK_DATA_TIMEOUT_SECONDS'),
    alertQuietSeconds: num('HARK_ALERT_QUIET_SECONDS'),
    alertRepeatSeconds: num('HARK_ALERT_REPEAT_SECONDS'),
    criticalPeak: num('HARK_CRITICAL_PEAK'),
    criticalSeconds: num('HARK_CRITICAL_SECONDS'),
    backupIntervalMinutes: num('HARK_BACKUP_INTERVAL_MINUTES'),
    backupKeep: num('HARK_BACKUP_KEEP'),
    maxSensors: num('HARK_MAX_SENSORS'),
    maxSensorsPerToken: num('HARK_MAX_SENSORS_PER_TOKEN'),
    sensorIdleFreeSeconds: num('HARK_SENSOR_IDLE_FREE_SECONDS'),
    uploadMaxFileMb: num('HARK_UPLOAD_MAX_FILE_MB'),
    uploadMaxTotalMb: num('HARK_UPLOAD_MAX_TOTAL_MB'),
    modelVersionsKept: num('HARK_MODEL_VERSIONS_KEPT'),
    maxShadowModels: num('HARK_MAX_SHADOW_MODELS'),
    historyFullSeconds: num('HARK_HISTORY_FULL_SECONDS'),
    historyReducedSeconds: num('HARK_HISTORY_REDUCED_SECONDS'),
    historyReduceSeconds: num('HARK_HISTORY_REDUCE_SECONDS'),
    historyBudgetBytes: num('HARK_HISTORY_BUDGET_BYTES'),
    scoreRetentionDays: num('HARK_SCORE_RETENTION_DAYS'),
    writeQueueMax: num('HARK_WRITE_QUEUE_MAX'),
    dspWorker: bool('HARK_DSP_WORKER'),
    backboneWorker: bool('HARK_BACKBONE_WORKER'),
    searchJobs: num('HARK_SEARCH_JOBS'),
  };
  const defined = (o: ServerOptions) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as ServerOptions;
  const given = defined(opts);
  const c: ServerConfig = {
    ...SERVER_DEFAULTS,
    dataDir: path.resolve('data'),
    dashboardDir: null,
    log: (line) => console.log(line),
    ...defined(fromEnv),
    ...given,
  };
  c.dataDir = path.resolve(c.dataDir);
  /** How the user named `key`: the flag or option when given, else the environment variable. */
  const named = (key: keyof ServerConfig): string => {
    const names = CONFIG_NAMES[key];
    if (key in given) return names?.flag ?? `option ${key}`;
    return fromEnv[key] !== undefined && names?.env ? names.env : key;
  };
  const check = (key: keyof ServerConfig, ok: boolean, rule: string) => {
    const v = c[key];
    if (!ok)
      problems.push(`${named(key)} (${typeof v === 'string' ? JSON.stringify(v) : String(v)}) ${rule}`);
  };
  const wholeAtLeast = (key: keyof ServerConfig, min: number) => {
    const v = c[key] as number;
    check(key, Number.isInteger(v) && v >= min, `must be a whole number >= ${min}`);
  };
  check('port', Number.isInteger(c.port) && c.port >= 0 && c.port < 65536, 'must be a port number 0..65535');
  check('maxChunkBytes', c.maxChunkBytes >= 1024, 'must be at least 1024 bytes');
  check('hopSeconds', c.hopSeconds >= 0.05 && c.hopSeconds <= 10, 'must be 0.05..10 seconds');
  for (const key of [
    'alertOpenWindows',
    'alertCloseWindows',
    'scoringConcurrency',
    'queuePerSensor',
  ] as const)
    wholeAtLeast(key, 1);
  check(
    'searchJobs',
    Number.isInteger(c.searchJobs) && c.searchJobs >= 1 && c.searchJobs <= 64,
    'must be a whole number 1..64 (FAISS jobs at once; 1 runs the searches one after another)',
  );
  // The tail fit needs at least 100 windows (calibration/burn-in.ts); 0 switches the burn-in off.
  check(
    'burnInWindows',
    c.burnInWindows === 0 || (Number.isInteger(c.burnInWindows) && c.burnInWindows >= 100),
    'must be 0 (off) or a whole number of windows >= 100 (1200 = 10 minutes at the 0.5 s hop)',
  );
  try {
    resolveDetectorConfig(c.fitConfig);
  } catch (err) {
    problems.push(`${named('fitConfig')}: ${(err as Error).message}`);
  }
  check('host', typeof c.host === 'string' && c.host !== '', 'must be an address, e.g. 127.0.0.1 or 0.0.0.0');
  check('modelPollMs', c.modelPollMs >= 10, 'must be at least 10 ms');
  // Two versions: the active one and one to roll back to (or a shadow on trial).
  wholeAtLeast('modelVersionsKept', 2);
  wholeAtLeast('maxShadowModels', 0);
  check('maxClockSkewSeconds', c.maxClockSkewSeconds >= 1, 'must be at least 1 second');
  check(
    'shutdownGraceSeconds',
    c.shutdownGraceSeconds > 0 && c.shutdownGraceSeconds <= 3600,
    'must be more than 0 and at most 3600 seconds',
  );
  const seconds = (key: keyof ServerConfig, min: number, max: number) => {
    const v = c[key] as number;
    check(key, v >= min && v <= max, `must be ${min}..${max} seconds`);
  };
  seconds('pingIntervalSeconds', 0.1, 300);
  seconds('pingTimeoutSeconds', 0.1, 300);
  seconds('dataTimeoutSeconds', 0.5, 3600);
  seconds('alertQuietSeconds', 0, 7 * 86400);
  seconds('alertRepeatSeconds', 0, 7 * 86400);
  seconds('criticalSeconds', 0, 86400);
  check('criticalPeak', c.criticalPeak >= 1 && c.criticalPeak <= 1000, 'must be 1..1000 (1 = the threshold)');
  check(
    'backupIntervalMinutes',
    c.backupIntervalMinutes === 0 || (c.backupIntervalMinutes >= 1 && c.backupIntervalMinutes <= 525600),
    'must be 0 (no backups) or 1..525600 minutes',
  );
  wholeAtLeast('backupKeep', 1);
  wholeAtLeast('maxSensors', 1);
  wholeAtLeast('maxSensorsPerToken', 1);
  seconds('sensorIdleFreeSeconds', 1, 7 * 86400);
  check('uploadMaxFileMb', c.uploadMaxFileMb > 0, 'must be more than 0 MB');
  check(
    'uploadMaxTotalMb',
    c.uploadMaxTotalMb >= c.uploadMaxFileMb,
    'must be at least the per-file limit (HARK_UPLOAD_MAX_FILE_MB)',
  );
  check('historyFullSeconds', c.historyFullSeconds >= 60, 'must be at least 60 seconds');
  check(
    'historyReduceSeconds',
    c.historyReduceSeconds >= 0.05 && c.historyReduceSeconds <= 3600,
    'must be 0.05..3600 seconds',
  );
  check(
    'historyReducedSeconds',
    c.historyReducedSeconds >= c.historyFullSeconds,
    `must be at least historyFullSeconds (${c.historyFullSeconds}): the reduced tier reaches further back`,
  );
  check('historyBudgetBytes', c.historyBudgetBytes >= 1e6, 'must be at least 1000000 bytes');
  // At least a day: a day's points are rolled up into the trends only once the day is over.
  check(
    'scoreRetentionDays',
    c.scoreRetentionDays >= 1 && c.scoreRetentionDays <= 36500,
    'must be 1..36500 days',
  );
  // At least one flush's worth (ScoreRepository's 5000 buffered points); at most ~10 GB of points.
  check(
    'writeQueueMax',
    Number.isInteger(c.writeQueueMax) && c.writeQueueMax >= 5000 && c.writeQueueMax <= 100_000_000,
    'must be an integer 5000..100000000 (score points kept while the store fails)',
  );
  if (c.webhookUrl) check('webhookUrl', isHttpUrl(c.webhookUrl), 'is not an http(s) URL');
  if (c.database)
    check(
      'database',
      /^postgres(ql)?:\/\//.test(c.database),
      'must be a postgres://USER@HOST:PORT/DB URL (leave it out for SQLite in the data directory)',
    );
  if (c.instance)
    check(
      'instance',
      /^[A-Za-z0-9._:-]{1,64}$/.test(c.instance),
      'must be 1-64 characters of letters, digits, ".", "_", ":" and "-"',
    );
  if (c.redisUrl)
    check('redisUrl', isRedisUrl(c.redisUrl), 'is not a Redis URL, e.g. redis://127.0.0.1:6379');
  seconds('leaseSeconds', 1, 60);
  if (problems.length) throw new ConfigError(problems);
  return c;
}

function isRedisUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return ['redis:', 'rediss:'].includes(u.protocol) && u.hostname !== '';
  } catch {
    return false;
  }
}

function isHttpUrl(s: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}
