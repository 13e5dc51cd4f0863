/**
 * Server configuration: `hark serve` options and environment, with the defaults of the embedded install
 * (one process, SQLite in the data directory, models on disk).
 */
import path from 'node:path';

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
   * Spectrogram history: full-resolution columns are kept `historyFullSeconds`, the reduced ones (the max per
   * mel band over each `historyReduceSeconds` window) `historyReducedSeconds`; beyond `historyBudgetBytes`
   * stored bytes the oldest blocks are deleted first.
   */
  historyFullSeconds: number;
  historyReducedSeconds: number;
  historyReduceSeconds: number;
  historyBudgetBytes: number;
  /** How often the models directory is checked for model directories placed by hand (ms). */
  modelPollMs: number;
  /** Print the first admin token (and other start-up lines) here. */
  log: (line: string) => void;
}

export const SERVER_DEFAULTS: Omit<ServerConfig, 'dataDir' | 'dashboardDir' | 'log'> = {
  port: 8080,
  host: '127.0.0.1',
  maxChunkBytes: 1 << 20,
  hopSeconds: 0.5,
  alertOpenWindows: 2,
  alertCloseWindows: 2,
  scoringConcurrency: 2,
  queuePerSensor: 2,
  silenceDbfs: -70,
  silenceSeconds: 10,
  maxClockSkewSeconds: 300,
  clipPreSeconds: 2,
  clipPostSeconds: 2,
  webhookUrl: '',
  webhookSecret: '',
  modelPollMs: 2000,
  shutdownGraceSeconds: 10,
  historyFullSeconds: 3600,
  historyReducedSeconds: 7 * 24 * 3600,
  historyReduceSeconds: 0.5,
  // At the default mel layout (128 bands, 62.5 columns/s) a sensor stores 57.6 MB per full-resolution hour
  // and 44 MB per reduced day: 16 sensors at the default retentions take 5.9 GB.
  historyBudgetBytes: 8e9,
};

export type ServerOptions = Partial<ServerConfig>;

/** The names a setting is given by: its `hark serve` flag and its environment variable, where they exist. */
export const CONFIG_NAMES: Partial<Record<keyof ServerConfig, { flag?: string; env?: string }>> = {
  port: { flag: '--port', env: 'HARK_PORT' },
  host: { flag: '--host', env: 'HARK_HOST' },
  dataDir: { flag: '--data', env: 'HARK_DATA' },
  maxChunkBytes: { env: 'HARK_MAX_CHUNK_BYTES' },
  hopSeconds: { flag: '--hop-seconds', env: 'HARK_HOP_SECONDS' },
  maxClockSkewSeconds: { env: 'HARK_MAX_CLOCK_SKEW_SECONDS' },
  webhookUrl: { flag: '--webhook-url', env: 'HARK_WEBHOOK_URL' },
  webhookSecret: { flag: '--webhook-secret', env: 'HARK_WEBHOOK_SECRET' },
  dashboardDir: { flag: '--dashboard' },
  shutdownGraceSeconds: { flag: '--shutdown-grace', env: 'HARK_SHUTDOWN_GRACE_SECONDS' },
  historyFullSeconds: { env: 'HARK_HISTORY_FULL_SECONDS' },
  historyReducedSeconds: { env: 'HARK_HISTORY_REDUCED_SECONDS' },
  historyReduceSeconds: { env: 'HARK_HISTORY_REDUCE_SECONDS' },
  historyBudgetBytes: { env: 'HARK_HISTORY_BUDGET_BYTES' },
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
  const fromEnv: ServerOptions = {
    port: num('HARK_PORT'),
    host: env.HARK_HOST || undefined,
    dataDir: env.HARK_DATA || undefined,
    maxChunkBytes: num('HARK_MAX_CHUNK_BYTES'),
    hopSeconds: num('HARK_HOP_SECONDS'),
    maxClockSkewSeconds: num('HARK_MAX_CLOCK_SKEW_SECONDS'),
    webhookUrl: env.HARK_WEBHOOK_URL || undefined,
    webhookSecret: env.HARK_WEBHOOK_SECRET || undefined,
    shutdownGraceSeconds: num('HARK_SHUTDOWN_GRACE_SECONDS'),
    historyFullSeconds: num('HARK_HISTORY_FULL_SECONDS'),
    historyReducedSeconds: num('HARK_HISTORY_REDUCED_SECONDS'),
    historyReduceSeconds: num('HARK_HISTORY_REDUCE_SECONDS'),
    historyBudgetBytes: num('HARK_HISTORY_BUDGET_BYTES'),
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
  check('host', typeof c.host === 'string' && c.host !== '', 'must be an address, e.g. 127.0.0.1 or 0.0.0.0');
  check('modelPollMs', c.modelPollMs >= 10, 'must be at least 10 ms');
  check('maxClockSkewSeconds', c.maxClockSkewSeconds >= 1, 'must be at least 1 second');
  check(
    'shutdownGraceSeconds',
    c.shutdownGraceSeconds > 0 && c.shutdownGraceSeconds <= 3600,
    'must be more than 0 and at most 3600 seconds',
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
  if (c.webhookUrl) check('webhookUrl', isHttpUrl(c.webhookUrl), 'is not an http(s) URL');
  if (problems.length) throw new ConfigError(problems);
  return c;
}

function isHttpUrl(s: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}
