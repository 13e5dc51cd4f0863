/**
 * The sensor side of namespace `/sensor`: streams a `PcmSource` to a hark server and keeps streaming through
 * disconnects.
 *
 * Protocol (`@hark/protocol`, libs/protocol/src/contracts.ts): connect with `auth {token, sensorId}`; after every (re)connect,
 * `hello {sampleRate, channels, format, streamId}` acknowledged with `{nextSeq, maxChunkBytes}`; then
 * `audio {seq, data, t}` acknowledged with `{ok, seq}` or an error code. `seq` counts from 0 per `streamId`
 * and continues across reconnects: chunks not yet acknowledged are sent again in order, minus those the
 * hello says the server already has. Up to `maxInFlight` chunks await their ack at once.
 *
 * Failures: a connection the server refuses (bad token or id) ends `run()` with a `SensorError` of exit code
 * 2; a hello or chunk rejected as malformed (TOO_LARGE, BAD_FORMAT, ...) ends it with exit code 1; anything
 * else (network, server restart, ack timeout, OUT_OF_ORDER_SEQ, SENSOR_BUSY: another connection streams for
 * the sensor) reconnects with exponential backoff and jitter. After its first hello the client's hellos say
 * `takeover: true`: a reconnect resumes its own stream, which the server may still hold on a dead connection.
 * While disconnected, audio is buffered up to `bufferSeconds`; beyond it the oldest is dropped, counted, and
 * the rest continues as a new stream (a new `streamId`, seq from 0), since a stream's seq must be contiguous.
 *
 * Several servers (a cluster): they are tried in a shuffled order. A disconnect, a refused handshake (bad
 * token on that server, its sensor limit, another instance's lease), a hello or ack timeout, or SENSOR_BUSY
 * moves to the next server at once; only after every server failed in a row does the backoff apply (and a
 * refusal's `retryAfterMs`). `run()` fails with exit code 2 only when every server refused the token or id in
 * one round. The backlog goes to the next server in order: every chunk the last server did not acknowledge.
 * On a server that did not hold the current stream, the client opens a new stream id there but keeps its
 * numbering (a hello answered `nextSeq: 0` takes the first chunk at any seq), so the server anchors the
 * stream's time at the first chunk's capture time `t` and never counts samples across audio another server
 * took.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { io, type Socket } from 'socket.io-client';
import {
  SERVER_CLOSED_EVENT,
  SERVER_SHUTDOWN_EVENT,
  type ServerClosed,
  type ServerShutdown,
} from '@hark/protocol';
import { Backlog, type BacklogEntry, type Dropped } from './backlog.js';
import { parseServers, shuffled } from './servers.js';
import {
  backoffDelay,
  SensorError,
  type BackoffOptions,
  type ConnectionState,
  type SensorClientOptions,
  type SensorEvents,
  type SensorStats,
  type SensorSummary,
} from './client-api.js';
import { LevelMeter } from './pcm.js';
import {
  bytesPerFrame,
  checkStreamFormat,
  sensorIdProblem,
  type AudioMessage,
  type HelloAck,
  type HelloMessage,
  type PcmChunk,
  type PcmSource,
  type SensorAck,
  type SensorErrorCode,
  type StreamFormat,
} from './types.js';

/** Ack codes that mean "this connection is out of step": reconnect and resend. Others are fatal. */
const RETRYABLE: ReadonlySet<SensorErrorCode> = new Set(['NO_HELLO', 'OUT_OF_ORDER_SEQ', 'INTERNAL']);

export class SensorClient extends EventEmitter<SensorEvents> {
  readonly options: Required<
    Omit<SensorClientOptions, 'server' | 'name' | 'labels' | 'socketOptions' | 'backoff'>
  > &
    Pick<SensorClientOptions, 'name' | 'labels' | 'socketOptions'> & { backoff: BackoffOptions };
  /** The servers in the order they are tried (shuffled when there are several). */
  readonly servers: readonly string[];
  private serverIndex = 0;
  /** Servers that failed in a row since the last accepted hello, and how many of them refused the token or id. */
  private roundFailures = 0;
  private roundRefusals: string[] = [];
  /** Longest `retryAfterMs` a refusal of this round asked for; null when none did. */
  private roundRetryAfterMs: number | null = null;
  /** The server whose hello accepted the current stream id; null until one did. */
  private streamServer: string | null = null;
  /** Chunks acknowledged in the current stream. */
  private streamAcks = 0;
  private socket: Socket | null = null;
  private socketServer: string | null = null;
  private format: StreamFormat | null = null;
  private backlog: Backlog | null = null;
  private meter: LevelMeter | null = null;
  private state: ConnectionState = { state: 'idle' };
  private streamId = randomUUID();
  private readonly streamIds: string[] = [];
  /** Bumped on every (dis)connect: acks of an older connection are ignored. */
  private epoch = 0;
  private ready = false;
  private maxChunkBytes = Infinity;
  /** Failed connections since the last successful hello. */
  private failures = 0;
  private hellos = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private running = false;
  private stopping = false;
  private stopRequested = false;
  private finished = false;
  private sourceDone = false;
  private waiters: (() => void)[] = [];
  private stopWaiter: (() => void) | null = null;
  private readonly stopped = new Promise<void>((resolve) => (this.stopWaiter = resolve));
  private settle: { resolve: (s: SensorSummary) => void; reject: (e: Error) => void } | null = null;
  private readonly counts = {
    chunksCaptured: 0,
    framesCaptured: 0,
    chunksSent: 0,
    chunksResent: 0,
    chunksAcked: 0,
    framesAcked: 0,
    droppedChunks: 0,
    droppedFrames: 0,
  };

  constructor(options: SensorClientOptions) {
    super();
    const idProblem = sensorIdProblem(options.sensorId);
    if (idProblem) throw new RangeError(`sensor id '${options.sensorId}' ${idProblem}`);
    if (!options.token) throw new RangeError('token must not be empty');
    const servers = parseServers(options.server);
    this.servers = servers.length > 1 && options.shuffleServers !== false ? shuffled(servers) : servers;
    const o = {
      bufferSeconds: 60,
      maxInFlight: 8,
      ackTimeoutMs: 10_000,
      connectTimeoutMs: 10_000,
      drainMs: 2_000,
      shuffleServers: true,
      ...options,
      backoff: { minMs: 500, maxMs: 30_000, jitter: 0.5, ...options.backoff },
    };
    if (!(o.bufferSeconds >= 0)) throw new RangeError(`bufferSeconds (${o.bufferSeconds}) must be >= 0`);
    if (!Number.isInteger(o.maxInFlight) || o.maxInFlight < 1)
      throw new RangeError(`maxInFlight (${o.maxInFlight}) must be a whole number >= 1`);
    this.options = o;
  }

  /** A snapshot for the status line. */
  stats(): SensorStats {
    const rate = this.format?.sampleRate ?? 1;
    const c = this.counts;
    return {
      state: this.state,
      streamId: this.streamId,
      format: this.format,
      chunksCaptured: c.chunksCaptured,
      secondsCaptured: c.framesCaptured / rate,
      chunksSent: c.chunksSent,
      chunksResent: c.chunksResent,
      chunksAcked: c.chunksAcked,
      secondsAcked: c.framesAcked / rate,
      backlogChunks: this.backlog?.length ?? 0,
      backlogSeconds: this.backlog?.seconds ?? 0,
      inFlight: this.backlog?.inFlight ?? 0,
      dropped: { chunks: c.droppedChunks, seconds: c.droppedFrames / rate },
      reconnects: Math.max(0, this.hellos - 1),
      level: this.meter?.read() ?? null,
    };
  }

  /**
   * Streams `source` until it ends and every chunk is acknowledged, or until `stop()`. Resolves with a
   * summary; rejects with a `SensorError` (refused connection, rejected chunk, failing source).
   */
  run(source: PcmSource): Promise<SensorSummary> {
    if (this.running) return Promise.reject(new Error('SensorClient.run() was already called'));
    this.running = true;
    const format = checkStreamFormat(source.format);
    this.format = format;
    const maxFrames = Math.floor(this.options.bufferSeconds * format.sampleRate);
    this.backlog = new Backlog(bytesPerFrame(format), format.sampleRate, maxFrames);
    this.meter = new LevelMeter(format);
    const done = new Promise<SensorSummary>((resolve, reject) => (this.settle = { resolve, reject }));
    this.newStream('start');
    this.openSocket();
    void this.pump(source);
    return done;
  }

  /** Stops reading the source, waits up to `drainMs` for chunks in flight, disconnects; `run()` resolves. */
  async stop(): Promise<void> {
    if (!this.running || this.finished) return;
    if (!this.stopping) {
      this.stopping = true;
      this.stopRequested = true;
      this.stopWaiter?.();
      this.clearReconnect();
      const backlog = this.backlog!;
      await this.waitUntil(() => !this.ready || backlog.inFlight === 0, this.options.drainMs);
      this.finish();
    }
  }

  // ---- source side ----

  private async pump(source: PcmSource) {
    const it = source[Symbol.asyncIterator]();
    const stop = this.stopped.then(() => null);
    try {
      for (let n = 1; !this.stopping; n++) {
        while (!this.stopping && !this.mayRead(source.live)) await Promise.race([this.changed(), stop]);
        if (this.stopping) break;
        const r = await Promise.race([it.next(), stop]);
        if (r === null || r.done) break;
        this.accept(r.value);
        // A source that is always ready (a file far behind its schedule) must not starve timers and sockets.
        if (n % 32 === 0) await yieldToLoop();
      }
    } catch (err) {
      // Sources name themselves in their errors; an error while stopping (an aborted read) is not one.
      if (!this.stopping) this.fail(new SensorError((err as Error).message, 'source'));
      return;
    } finally {
      it.return?.().catch(() => undefined);
    }
    this.sourceDone = true;
    this.maybeFinish();
  }

  /** Live sources are always read; others only while the send pipeline has room (or while disconnected). */
  private mayRead(live: boolean) {
    const b = this.backlog!;
    const room = b.queued < this.options.maxInFlight && (b.frames < b.maxFrames || b.length === 0);
    return live || !this.ready || room;
  }

  private accept(chunk: PcmChunk) {
    const b = this.backlog!;
    const frames = chunk.data.byteLength / b.bytesPerFrame;
    if (!Number.isInteger(frames) || frames === 0)
      throw new Error(`source sent a chunk of ${chunk.data.byteLength} bytes: not a whole number of frames`);
    this.meter!.update(chunk.data);
    this.counts.chunksCaptured++;
    this.counts.framesCaptured += frames;
    const dropped = b.push(chunk);
    if (dropped) this.onDropped(dropped);
    this.sendMore();
  }

  private onDropped(d: Dropped) {
    const c = this.counts;
    c.droppedChunks += d.chunks;
    c.droppedFrames += d.frames;
    const restarted = this.newStream('drop');
    const rate = this.format!.sampleRate;
    this.emit('dropped', {
      chunks: d.chunks,
      seconds: d.frames / rate,
      totalChunks: c.droppedChunks,
      totalSeconds: c.droppedFrames / rate,
      streamId: this.streamId,
    });
    // A connected socket is in the old stream: a new hello is needed, which comes with a new connection.
    if (restarted && this.ready) this.reconnect('new stream after dropping audio', 0, { failover: false });
  }

  /** Starts a new stream id (seq from 0) for what follows a drop; false if nothing of the current one was sent yet. */
  private newStream(reason: 'start' | 'drop'): boolean {
    if (reason === 'drop') {
      if (this.backlog!.nextSeq === 0) return false;
      this.streamId = randomUUID();
    }
    this.backlog!.restartSequence();
    this.streamServer = null;
    this.streamAcks = 0;
    this.streamIds.push(this.streamId);
    this.emit('stream', { streamId: this.streamId, reason });
    return true;
  }

  /**
   * Connected to a server other than the one that holds the current stream: a new stream id there, numbering
   * kept. The new server anchors it at the first chunk's capture time; had it continued the old id (a server
   * that took an earlier part of it), it would count samples on from its own end, over the audio another
   * server took in between.
   */
  private failoverStream() {
    this.streamId = randomUUID();
    this.streamServer = null;
    this.streamAcks = 0;
    this.streamIds.push(this.streamId);
    this.emit('stream', { streamId: this.streamId, reason: 'failover' });
  }

  // ---- socket side ----

  private get server(): string {
    return this.servers[this.serverIndex];
  }

  /** A socket for the current server (a new one when the server changed), connecting now. */
  private openSocket() {
    const server = this.server;
    if (this.socket && this.socketServer === server) return this.connectNow();
    this.closeSocket();
    const { token, sensorId, connectTimeoutMs } = this.options;
    const socket = io(new URL('/sensor', server).href, {
      auth: { token, sensorId },
      reconnection: false,
      autoConnect: false,
      forceNew: true,
      timeout: connectTimeoutMs,
      ...this.options.socketOptions,
    });
    this.socket = socket;
    this.socketServer = server;
    socket.on('connect', () => this.onConnect());
    socket.on('connect_error', (err: Error & { data?: unknown }) => {
      if (this.finished) return;
      const data = (err.data ?? {}) as { code?: unknown; retryAfterMs?: unknown };
      const message = err.message || 'connection failed';
      if (socket.active) return this.reconnect(message);
      // The server answered and refused. A refusal that says when to try again (another instance holds the
      // sensor's lease) is retried; a bad token or id cannot get better on this server: it ends the run,
      // unless other servers remain to be tried.
      const reason = `server refused the connection: ${message}`;
      if (typeof data.retryAfterMs === 'number' && data.retryAfterMs >= 0)
        return this.reconnect(reason, undefined, { retryAfterMs: data.retryAfterMs });
      if (this.servers.length === 1) return this.fail(new SensorError(reason, 'auth'));
      this.reconnect(reason, undefined, { refused: true });
    });
    // A server stopping cleanly says so before it disconnects us: reconnect (keeping the audio), and report
    // its reason rather than socket.io's generic 'io server disconnect'.
    socket.on(SERVER_SHUTDOWN_EVENT, (notice: ServerShutdown) => {
      if (this.finished) return;
      this.reconnect(notice?.message || 'server shutting down');
    });
    // Closed on purpose (deleted by an admin, taken over by another connection): report why.
    socket.on(SERVER_CLOSED_EVENT, (notice: ServerClosed) => {
      if (this.finished) return;
      this.reconnect(notice?.message || 'closed by the server');
    });
    socket.on('disconnect', (reason) => {
      if (this.finished || reason === 'io client disconnect') return;
      this.reconnect(reason);
    });
    this.connectNow();
  }

  private closeSocket() {
    if (!this.socket) return;
    this.socket.removeAllListeners();
    this.socket.disconnect();
    this.socket = null;
    this.socketServer = null;
  }

  private connectNow() {
    this.reconnectTimer = null;
    this.setState({ state: 'connecting', attempt: this.failures + 1, server: this.server });
    this.socket!.connect();
  }

  private onConnect() {
    const epoch = ++this.epoch;
    const f = this.format!;
    if (this.streamServer !== null && this.streamServer !== this.server) this.failoverStream();
    const hello: HelloMessage = {
      sampleRate: f.sampleRate,
      channels: f.channels,
      format: f.format,
      streamId: this.streamId,
    };
    if (this.options.name !== undefined) hello.name = this.options.name;
    if (this.options.labels !== undefined) hello.labels = this.options.labels;
    // Resuming our own stream after a reconnect: the server may not have noticed yet that our old
    // connection is gone (until its ping times out), so this hello takes the sensor over (the server logs it).
    if (this.hellos > 0) hello.takeover = true;
    this.socket!.timeout(this.options.ackTimeoutMs).emit(
      'hello',
      hello,
      (err: Error | null, ack: HelloAck) => {
        if (epoch !== this.epoch || this.finished) return;
        if (err) return this.reconnect(`no answer to hello within ${this.options.ackTimeoutMs} ms`);
        // Audio was dropped while the hello was under way: the new stream needs its own hello.
        if (hello.streamId !== this.streamId)
          return this.reconnect('new stream after dropping audio', 0, { failover: false });
        if (!ack || typeof ack !== 'object')
          return this.fail(new SensorError(`server answered hello with ${JSON.stringify(ack)}`, 'rejected'));
        // Another connection (another process with this id and token) streams for the sensor: wait for it
        // to stop or for the server to notice it is gone.
        if (!ack.ok && ack.code === 'SENSOR_BUSY') return this.reconnect(`${ack.error} (SENSOR_BUSY)`);
        if (!ack.ok)
          return this.fail(
            new SensorError(`server refused the stream: ${ack.error} (${ack.code})`, 'rejected', ack.code),
          );
        this.onHello(ack);
      },
    );
  }

  private onHello(ack: Extract<HelloAck, { ok: true }>) {
    const b = this.backlog!;
    const ourNext = b.nextSeq;
    // `nextSeq: 0` is a server that holds none of this stream (a stream new to it): it takes the first chunk
    // at any seq, so the numbering carries on (after a failover, the held chunks keep their numbers).
    const holdsNone = ack.nextSeq === 0 && this.streamAcks === 0;
    const { skipped, renumbered } = b.resume(holdsNone ? b.firstHeldSeq() : ack.nextSeq);
    this.count(skipped.chunks, skipped.frames);
    if (renumbered)
      this.emit(
        'warning',
        `server expects seq ${ack.nextSeq} of stream ${this.streamId} where the client was at ${ourNext}: continuing from ${ack.nextSeq}`,
      );
    this.maxChunkBytes = ack.maxChunkBytes > 0 ? ack.maxChunkBytes : Infinity;
    this.ready = true;
    this.failures = 0;
    this.roundFailures = 0;
    this.roundRefusals = [];
    this.roundRetryAfterMs = null;
    this.streamServer = this.server;
    this.hellos++;
    this.setState({ state: 'connected', streamId: this.streamId, nextSeq: ack.nextSeq, server: this.server });
    this.sendMore();
    this.maybeFinish();
  }

  private sendMore() {
    const b = this.backlog!;
    while (this.ready && !this.stopping && b.inFlight < this.options.maxInFlight) {
      const e = b.takeNext(this.maxChunkBytes);
      if (!e) break;
      this.send(e);
    }
  }

  private send(e: BacklogEntry) {
    const epoch = this.epoch;
    const seq = e.seq!;
    const streamId = this.streamId;
    const msg: AudioMessage = {
      seq,
      data: Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength),
      t: e.t,
    };
    this.counts.chunksSent++;
    if (e.sends > 1) this.counts.chunksResent++;
    this.socket!.timeout(this.options.ackTimeoutMs).emit(
      'audio',
      msg,
      (err: Error | null, ack: SensorAck) => {
        if (epoch !== this.epoch || this.finished) return;
        if (err) return this.reconnect(`no ack for chunk ${seq} within ${this.options.ackTimeoutMs} ms`);
        this.onAck(e, seq, streamId, ack);
      },
    );
  }

  private onAck(e: BacklogEntry, seq: number, streamId: string, ack: SensorAck) {
    if (!ack || typeof ack !== 'object')
      return this.fail(
        new SensorError(`server answered chunk ${seq} with ${JSON.stringify(ack)}`, 'rejected'),
      );
    const duplicate = !ack.ok && ack.code === 'DUPLICATE_SEQ';
    if (!ack.ok && !duplicate) {
      if (RETRYABLE.has(ack.code))
        return this.reconnect(
          `server: ${ack.error} (${ack.code}${ack.expected !== undefined ? `, expected ${ack.expected}` : ''})`,
        );
      return this.fail(
        new SensorError(`server rejected chunk ${seq}: ${ack.error} (${ack.code})`, 'rejected', ack.code),
      );
    }
    if (!this.backlog!.ack(e)) return;
    if (streamId === this.streamId) this.streamAcks++;
    this.count(1, e.frames);
    this.emit('ack', { streamId, seq, frames: e.frames, t: e.t, resent: e.sends > 1, duplicate });
    this.sendMore();
    this.notify();
    this.maybeFinish();
  }

  private count(chunks: number, frames: number) {
    this.counts.chunksAcked += chunks;
    this.counts.framesAcked += frames;
  }

  private maybeFinish() {
    if (this.sourceDone && !this.stopping && this.backlog!.length === 0) this.finish();
  }

  /**
   * Drops the connection (if any) and connects again after `delayMs` (default: the backoff). With several
   * servers a failure (`failover`, the default) moves to the next server, at once until every server failed
   * in a row; then the backoff applies, or, when every one of them refused the token or id, the run ends
   * (exit code 2). A refusal that says when to try again (`retryAfterMs`: another instance's lease runs out)
   * is retried then, without growing the backoff: the server knows, and waiting longer only delays scoring.
   */
  private reconnect(
    reason: string,
    delayMs?: number,
    o: { failover?: boolean; refused?: boolean; retryAfterMs?: number } = {},
  ) {
    if (this.finished || this.stopping) {
      this.ready = false;
      this.notify();
      return;
    }
    this.epoch++;
    this.ready = false;
    this.backlog!.requeue();
    if (this.socket!.connected || this.socket!.active) this.socket!.disconnect();
    this.clearReconnect();
    let delay: number;
    if (this.servers.length > 1 && o.failover !== false) {
      const from = this.server;
      this.roundFailures++;
      if (o.refused) this.roundRefusals.push(`${from}: ${reason}`);
      if (o.retryAfterMs !== undefined)
        this.roundRetryAfterMs = Math.max(this.roundRetryAfterMs ?? 0, o.retryAfterMs);
      if (this.roundRefusals.length >= this.servers.length)
        return this.fail(
          new SensorError(`every server refused the connection: ${this.roundRefusals.join('; ')}`, 'auth'),
        );
      this.serverIndex = (this.serverIndex + 1) % this.servers.length;
      if (this.roundFailures < this.servers.length) delay = delayMs ?? 0;
      else {
        delay =
          delayMs ??
          (this.roundRetryAfterMs !== null
            ? this.hintedDelay(this.roundRetryAfterMs)
            : backoffDelay(++this.failures, this.options.backoff));
        this.roundFailures = 0;
        this.roundRefusals = [];
        this.roundRetryAfterMs = null;
      }
      const b = this.backlog!;
      const first = b.firstHeld();
      this.emit('failover', {
        from,
        to: this.server,
        reason,
        backlogChunks: b.length,
        backlogSeconds: b.seconds,
        resendFromSeq: first ? b.firstHeldSeq() : null,
        resendFromT: first?.t ?? null,
        delayMs: delay,
      });
    } else {
      delay =
        delayMs ??
        (o.retryAfterMs !== undefined
          ? this.hintedDelay(o.retryAfterMs)
          : backoffDelay(++this.failures, this.options.backoff));
    }
    this.setState({
      state: 'reconnecting',
      attempt: this.failures + 1,
      delayMs: delay,
      retryAt: Date.now() + delay,
      reason,
    });
    this.reconnectTimer = setTimeout(() => this.openSocket(), delay);
    this.notify();
  }

  /**
   * The wait a server asked for (`retryAfterMs`), at least the first backoff step (a hint of 0 must not make
   * a tight loop), plus up to `jitter` of that step so that sensors refused together do not return together.
   */
  private hintedDelay(retryAfterMs: number): number {
    const { minMs, jitter } = this.options.backoff;
    return Math.round(Math.max(minMs, retryAfterMs) + Math.random() * jitter * minMs);
  }

  private clearReconnect() {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private fail(err: SensorError) {
    if (this.finished) return;
    this.finish(err);
  }

  private finish(err?: SensorError) {
    if (this.finished) return;
    this.finished = true;
    this.stopping = true;
    this.stopWaiter?.();
    this.clearReconnect();
    this.epoch++;
    this.ready = false;
    this.closeSocket();
    this.setState({ state: 'stopped' });
    this.notify();
    if (err) this.settle!.reject(err);
    else
      this.settle!.resolve({ ...this.stats(), stopped: this.stopRequested, streamIds: [...this.streamIds] });
  }

  private setState(s: ConnectionState) {
    this.state = s;
    this.emit('state', s);
  }

  // ---- waiting for changes (acks, connection) ----

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private notify() {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  private async waitUntil(pred: () => boolean, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    let timedOut = false;
    void timeout.then(() => (timedOut = true));
    while (!pred() && !timedOut) await Promise.race([this.changed(), timeout]);
    clearTimeout(timer);
  }
}
