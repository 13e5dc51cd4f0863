/** The public shapes of `SensorClient`: its options, events, statistics and errors. */
import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import type { Level } from './pcm.js';
import type { SensorErrorCode, StreamFormat } from './types.js';

export interface BackoffOptions {
  /** First delay (default 500 ms), doubled per failed attempt up to `maxMs` (default 30 s). */
  minMs: number;
  maxMs: number;
  /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter] (default 0.5). */
  jitter: number;
}

export interface SensorClientOptions {
  /**
   * Server base URL, e.g. `http://hark.local:8080`; the client connects to its `/sensor` namespace. Several
   * (an array) are servers of one cluster: the client tries them in a shuffled order and fails over to the
   * next on a disconnect, a refusal or a timeout (see `SensorClient`).
   */
  server: string | readonly string[];
  /** With several servers: try them in a random order (default true), so that sensors spread over them. */
  shuffleServers?: boolean;
  sensorId: string;
  token: string;
  /** Display name and labels sent with the hello. */
  name?: string;
  labels?: Record<string, string>;
  /** Audio held while the server does not take it (default 60 s); beyond it the oldest is dropped. */
  bufferSeconds?: number;
  /** Chunks awaiting their ack at once (default 8). */
  maxInFlight?: number;
  /** An ack that takes longer means a broken connection: reconnect (default 10 s). */
  ackTimeoutMs?: number;
  /** Connection attempt timeout (default 10 s). */
  connectTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** On `stop()`, how long to wait for the acks of chunks in flight (default 2 s). */
  drainMs?: number;
  /** Extra socket.io-client options (e.g. `transports: ['websocket']`). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

export type ConnectionState =
  | { state: 'idle' }
  /** Connecting, or connected and waiting for the hello's ack. */
  | { state: 'connecting'; attempt: number; server: string }
  | { state: 'connected'; streamId: string; nextSeq: number; server: string }
  | { state: 'reconnecting'; attempt: number; delayMs: number; retryAt: number; reason: string }
  | { state: 'stopped' };

export interface AckInfo {
  streamId: string;
  seq: number;
  frames: number;
  t: number;
  /** The chunk was sent more than once (after a reconnect). */
  resent: boolean;
  /** The server already had it (DUPLICATE_SEQ). */
  duplicate: boolean;
}

export interface DropInfo {
  chunks: number;
  seconds: number;
  totalChunks: number;
  totalSeconds: number;
  /** The stream the remaining audio continues in. */
  streamId: string;
}

/** The client left one server for the next (several servers only). */
export interface FailoverInfo {
  from: string;
  to: string;
  /** Why `from` was left: `transport close`, `server refused the connection: ...`, `no ack for chunk 7 ...`. */
  reason: string;
  /** Chunks and seconds held, not acknowledged: all of them go to `to`, in order. */
  backlogChunks: number;
  backlogSeconds: number;
  /** The first of them: its seq and capture time (null with an empty backlog). */
  resendFromSeq: number | null;
  resendFromT: number | null;
  /** Wait before connecting to `to`: 0 until every server failed once in a row, then the backoff. */
  delayMs: number;
}

export interface SensorEvents {
  state: [ConnectionState];
  /** A chunk acknowledged by the server. */
  ack: [AckInfo];
  /** Audio dropped because the buffer was full. */
  dropped: [DropInfo];
  /** A new stream id: at the start and after a drop. */
  stream: [{ streamId: string; reason: 'start' | 'drop' | 'failover' }];
  /** Left one server for another (several servers only). */
  failover: [FailoverInfo];
  warning: [string];
}

export interface SensorStats {
  state: ConnectionState;
  streamId: string;
  format: StreamFormat | null;
  /** Chunks and seconds read from the source. */
  chunksCaptured: number;
  secondsCaptured: number;
  /** `audio` messages sent (including resends) and resends alone. */
  chunksSent: number;
  chunksResent: number;
  /** Chunks the server holds (acknowledged, or skipped because its hello said it had them), and their seconds. */
  chunksAcked: number;
  secondsAcked: number;
  backlogChunks: number;
  backlogSeconds: number;
  inFlight: number;
  dropped: { chunks: number; seconds: number };
  /** Successful hellos after the first. */
  reconnects: number;
  /** RMS / peak / clipping of the last 0.5 s read from the source. */
  level: Level | null;
}

export interface SensorSummary extends SensorStats {
  /** Ended by `stop()` (rather than by the end of the source). */
  stopped: boolean;
  /** Every stream id used, in order. */
  streamIds: string[];
}

export type SensorErrorKind = 'auth' | 'rejected' | 'source';

/** Why `run()` failed, with the exit code the command uses: 2 for a refused connection, else 1. */
export class SensorError extends Error {
  constructor(
    message: string,
    readonly kind: SensorErrorKind,
    readonly code?: SensorErrorCode,
  ) {
    super(message);
    this.name = 'SensorError';
  }

  get exitCode(): number {
    return this.kind === 'auth' ? 2 : 1;
  }
}

/** Delay before reconnect attempt `attempt` (1-based): exponential with jitter, at most `maxMs`. */
export function backoffDelay(attempt: number, o: BackoffOptions, random = Math.random): number {
  const base = Math.min(o.maxMs, o.minMs * 2 ** Math.max(0, attempt - 1));
  return Math.min(o.maxMs, Math.round(base * (1 - o.jitter + 2 * o.jitter * random())));
}
