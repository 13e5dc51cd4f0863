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
  /** Audio kept around an alert. */
  clipPreSeconds: number;
  clipPostSeconds: number;
  /** Outbound webhook (none when url is empty). */
  webhookUrl: string;
  webhookSecret: string;
  /** Directory of the built dashboard served at `/` (none when missing). */
  dashboardDir: string | null;
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
  clipPreSeconds: 2,
  clipPostSeconds: 2,
  webhookUrl: '',
  webhookSecret: '',
  modelPollMs: 2000,
};

export type ServerOptions = Partial<ServerConfig>;

/** Defaults, then `HARK_*` environment variables, then explicit options. */
export function resolveServerConfig(
  opts: ServerOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig {
  const num = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`${name}=${JSON.stringify(v)} is not a number`);
    return n;
  };
  const fromEnv: ServerOptions = {
    port: num('HARK_PORT'),
    host: env.HARK_HOST || undefined,
    dataDir: env.HARK_DATA || undefined,
    maxChunkBytes: num('HARK_MAX_CHUNK_BYTES'),
    hopSeconds: num('HARK_HOP_SECONDS'),
    webhookUrl: env.HARK_WEBHOOK_URL || undefined,
    webhookSecret: env.HARK_WEBHOOK_SECRET || undefined,
  };
  const defined = (o: ServerOptions) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as ServerOptions;
  const c: ServerConfig = {
    ...SERVER_DEFAULTS,
    dataDir: path.resolve('data'),
    dashboardDir: null,
    log: (line) => console.log(line),
    ...defined(fromEnv),
    ...defined(opts),
  };
  c.dataDir = path.resolve(c.dataDir);
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new RangeError(what);
  };
  check(Number.isInteger(c.port) && c.port >= 0 && c.port < 65536, `port ${c.port} must be 0..65535`);
  check(c.maxChunkBytes >= 1024, `maxChunkBytes ${c.maxChunkBytes} must be at least 1024`);
  check(c.hopSeconds >= 0.05 && c.hopSeconds <= 10, `hopSeconds ${c.hopSeconds} must be 0.05..10`);
  check(Number.isInteger(c.alertOpenWindows) && c.alertOpenWindows >= 1, 'alertOpenWindows must be >= 1');
  check(Number.isInteger(c.alertCloseWindows) && c.alertCloseWindows >= 1, 'alertCloseWindows must be >= 1');
  check(
    Number.isInteger(c.scoringConcurrency) && c.scoringConcurrency >= 1,
    'scoringConcurrency must be >= 1',
  );
  check(Number.isInteger(c.queuePerSensor) && c.queuePerSensor >= 1, 'queuePerSensor must be >= 1');
  if (c.webhookUrl) {
    try {
      new URL(c.webhookUrl);
    } catch {
      throw new RangeError(`webhook URL ${JSON.stringify(c.webhookUrl)} is not a URL`);
    }
  }
  return c;
}
