import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { nonNegativeNumber, positiveInt, positiveNumber } from '../options.js';
import {
  alsaSource,
  SensorClient,
  parseServers,
  SensorError,
  showStatus,
  stdinSource,
  wavSource,
  SAMPLE_FORMATS,
  DEFAULT_CHUNK_MS,
  sensorIdProblem,
  type PcmSource,
  type SampleFormat,
} from '../sensor/index.js';

/** Options of `hark sensor`, as parsed by commander. */
export interface SensorOptions {
  server: string;
  id: string;
  /** From `--token` or `HARK_TOKEN`; `--token-file` fills it in `sensorToken`. */
  token?: string;
  tokenFile?: string;
  wav?: string;
  loop?: boolean;
  speed: number;
  alsa?: string;
  stdin?: boolean;
  rate?: number;
  channels?: number;
  format: SampleFormat;
  chunkMs: number;
  bufferSeconds: number;
  maxInFlight: number;
  name?: string;
  label?: Record<string, string>;
  json?: boolean;
  inOrder?: boolean;
}

function label(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`label '${value}' must be key=value`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/**
 * The sensor token: from `--token-file` (first line; keeps it out of `ps` and shell history), else
 * `HARK_TOKEN` / `--token`.
 */
export function sensorToken(o: Pick<SensorOptions, 'token' | 'tokenFile'>): string {
  if (o.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(o.tokenFile, 'utf8');
    } catch (err) {
      throw new Error(`--token-file '${o.tokenFile}' cannot be read: ${(err as Error).message}`);
    }
    const token = text.split(/\r?\n/)[0].trim();
    if (!token)
      throw new Error(`--token-file '${o.tokenFile}' is empty: write the sensor token on its first line`);
    return token;
  }
  if (o.token) return o.token;
  throw new Error(
    'give the sensor token: --token-file FILE or HARK_TOKEN (or --token, which other users can see in ps)',
  );
}

/** Checks the combination of options, naming the fix; returns the source to open. */
export function checkSensorOptions(o: SensorOptions): 'wav' | 'alsa' | 'stdin' {
  const chosen = (['wav', 'alsa', 'stdin'] as const).filter((k) => o[k] !== undefined && o[k] !== false);
  if (chosen.length !== 1)
    throw new Error(
      chosen.length === 0
        ? 'choose a source: --wav FILE, --alsa DEVICE or --stdin'
        : `choose one source, not ${chosen.map((k) => `--${k}`).join(' and ')}`,
    );
  const kind = chosen[0];
  try {
    parseServers(o.server);
  } catch (err) {
    throw new Error(`--server: ${(err as Error).message}`);
  }
  const idProblem = sensorIdProblem(o.id);
  if (idProblem) throw new Error(`--id '${o.id}' ${idProblem}`);
  if (kind !== 'wav' && (o.loop || o.speed !== 1)) throw new Error('--loop and --speed apply to --wav only');
  if (kind === 'wav' && (o.rate !== undefined || o.channels !== undefined))
    throw new Error(
      '--rate and --channels apply to --alsa and --stdin; a WAV file streams at its own rate, in mono',
    );
  if (kind === 'stdin' && o.rate === undefined)
    throw new Error('--stdin needs --rate N (the sample rate in Hz); --format defaults to s16le');
  return kind;
}

async function openSource(kind: 'wav' | 'alsa' | 'stdin', o: SensorOptions, signal: AbortSignal) {
  const common = { chunkMs: o.chunkMs, signal, format: o.format };
  if (kind === 'wav') return wavSource(o.wav!, { ...common, speed: o.speed, loop: o.loop });
  const format = { sampleRate: o.rate ?? 16000, channels: o.channels ?? 1, format: o.format };
  if (kind === 'alsa')
    return alsaSource(o.alsa!, { ...common, rate: format.sampleRate, channels: format.channels });
  return stdinSource(format, { ...common, onWarning: (m) => console.error(`hark: ${m}`) });
}

/** Runs the sensor; resolves with the exit code (0, 1 for a rejected stream or failing source, 2 for a refused connection). */
export async function runSensor(o: SensorOptions): Promise<number> {
  const kind = checkSensorOptions(o);
  const token = sensorToken(o);
  const abort = new AbortController();
  let source: PcmSource;
  try {
    source = await openSource(kind, o, abort.signal);
  } catch (err) {
    console.error(`hark: ${(err as Error).message}`);
    return 1;
  }
  const client = new SensorClient({
    server: parseServers(o.server),
    sensorId: o.id,
    token,
    name: o.name,
    labels: o.label,
    shuffleServers: !o.inOrder,
    bufferSeconds: o.bufferSeconds,
    maxInFlight: o.maxInFlight,
  });
  const status = showStatus(client, { json: o.json });
  let interrupted = 0;
  const onSignal = () => {
    if (++interrupted > 1) process.exit(130); // a second Ctrl-C does not wait
    abort.abort();
    void client.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await client.run(source);
    status.close(summary);
    return 0;
  } catch (err) {
    status.close();
    console.error(`hark: ${(err as Error).message}`);
    return err instanceof SensorError ? err.exitCode : 1;
  } finally {
    abort.abort();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerSensor(program: Command): void {
  program
    .command('sensor')
    .description(
      'stream audio to a hark server as a sensor: a WAV file, a microphone (arecord) or raw PCM on stdin',
    )
    .requiredOption(
      '--server <url[,url...]>',
      'server base URL, e.g. http://localhost:8080 (namespace /sensor); several, comma-separated, are one ' +
        'cluster: tried in a shuffled order, failing over from one to the next',
    )
    .option(
      '--in-order',
      'with several --server URLs: try them in the order given (a primary and its backups), not shuffled',
    )
    .requiredOption('--id <sensor-id>', 'sensor id: 1-64 characters of A-Z a-z 0-9 . _ -')
    .addOption(
      new Option(
        '--token <token>',
        'sensor token (default: $HARK_TOKEN; visible in ps: prefer HARK_TOKEN or --token-file)',
      ).env('HARK_TOKEN'),
    )
    .option(
      '--token-file <file>',
      'read the sensor token from the first line of this file (default: --token / $HARK_TOKEN)',
    )
    .option(
      '--wav <file>',
      'stream a WAV file (mono mix, at its own rate); the source is one of --wav, --alsa, --stdin (no default)',
    )
    .option('--loop', 'with --wav: start again at the end, forever')
    .option('--speed <x>', 'with --wav: play x times faster than real time', positiveNumber, 1)
    .option(
      '--alsa <device>',
      "capture a microphone with 'arecord -D DEVICE', e.g. default or hw:1,0 (no default device)",
    )
    .option('--stdin', 'read raw interleaved PCM from stdin (needs --rate; --format, --channels)')
    .option('--rate <hz>', 'with --alsa (default 16000) or --stdin: sample rate', positiveInt)
    .option('--channels <n>', 'with --alsa or --stdin: channels (default 1)', positiveInt)
    .addOption(
      new Option('--format <format>', 'sample format sent (and read from stdin)')
        .choices(SAMPLE_FORMATS)
        .default('s16le'),
    )
    .option(
      '--chunk-ms <ms>',
      'audio per message in ms: fewer, larger messages cost the server less CPU; a window waits up to one ' +
        'chunk longer in the sensor',
      positiveNumber,
      DEFAULT_CHUNK_MS,
    )
    .option(
      '--buffer-seconds <s>',
      'audio held while no server takes it (with several servers: while none answers); beyond it the oldest ' +
        'is dropped',
      nonNegativeNumber,
      60,
    )
    .option('--max-in-flight <n>', 'chunks sent ahead of their acknowledgement', positiveInt, 8)
    .option(
      '--name <name>',
      'display name sent to the server (default: the name the server has, else the sensor id)',
    )
    .option('--label <key=value>', 'a label sent to the server (repeatable; default: none)', label)
    .option('--json', 'log JSON lines (state changes, drops, summary) instead of text')
    .addHelpText(
      'after',
      `
Timestamps: every chunk carries the capture time of its first sample. For --wav it is a virtual clock that
starts when the command starts and advances by samples / rate, so at --speed 10 it runs ten times faster than
the wall clock; for --alsa and --stdin it counts samples from the first read, following the wall clock when
the input pauses.

It reconnects with backoff (0.5 s to 30 s) and resends what the server has not acknowledged. Without --loop,
--wav and --stdin end once everything is acknowledged. Ctrl-C stops cleanly.

Several servers (--server http://a:8080,http://b:8080,...): it tries them in a shuffled order. A disconnect,
a refusal by one server (wrong token there, its sensor limit, another instance holding the sensor's lease), or
a timeout moves it to the next server at once, and each failover is logged (from, to, why, backlog). After
every server failed in a row it waits with the backoff, still buffering: up to --buffer-seconds of audio
(60 s by default) is held while none answers, the oldest dropped beyond it. Whichever server takes the
sensor gets the backlog in order: every chunk the previous server did not acknowledge. It exits with code 2
only if every server refused the token or id.
Exit codes: 0 done or stopped, 1 a rejected stream or failing source, 2 the server refused the token or id.`,
    )
    .action(async (o: SensorOptions) => {
      process.exitCode = await runSensor(o);
    });
}
