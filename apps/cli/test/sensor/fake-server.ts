/**
 * A real socket.io server speaking the `/sensor` protocol of libs/protocol/src/contracts.ts, small enough to
 * reason about in tests: it checks the handshake auth, answers `hello` with the stream's next seq and
 * `audio` with the contract's errors (NO_HELLO, TOO_LARGE, PARTIAL_SAMPLE, DUPLICATE_SEQ, OUT_OF_ORDER_SEQ),
 * and records every accepted chunk per stream. As the real server does, a stream's first chunk may carry any
 * seq (its hello said `nextSeq: 0`); later ones must follow on. Hooks let a test reject, swallow acks or cut connections.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import type { HelloAck, HelloMessage, SensorAck } from '../../src/sensor/index.js';
import { isSensorId } from '@hark/protocol';

export const GOOD_TOKEN = 'sensor-token-1';

export interface Received {
  seq: number;
  data: Buffer;
  t: number | undefined;
}

export interface FakeStream {
  sensorId: string;
  streamId: string;
  hello: HelloMessage;
  /** Accepted chunks, in order: seq n, n + 1, n + 2, ... (n is 0 unless the client failed over to here). */
  chunks: Received[];
  /** Highest seq acknowledged + 1 (chunks can be accepted but their ack swallowed). */
  ackedNext: number;
  duplicates: number;
  outOfOrder: number;
}

/** What a hook decides for an audio message before normal processing: undefined = process normally. */
export type AudioHook = (
  msg: { seq: number; data: Buffer; t?: number },
  ctx: { socket: Socket; stream: FakeStream; connection: number },
) => SensorAck | 'accept-silently' | 'accept-and-disconnect' | undefined;

export interface FakeServerOptions {
  /** The token this server takes (default GOOD_TOKEN). */
  token?: string;
  /** Refuses handshake number `attempt` (1-based) with this message and `data`, as a server's middleware does. */
  refuse?: (attempt: number) => { message: string; data: Record<string, unknown> } | undefined;
  maxChunkBytes?: number;
  /** `received` (default): hello's nextSeq is every chunk accepted; `acked`: only those whose ack was sent. */
  nextSeqFrom?: 'received' | 'acked';
  audio?: AudioHook;
  /** Answers a hello instead of the server (undefined: normal processing). */
  hello?: (hello: HelloMessage, ctx: { connection: number }) => HelloAck | undefined;
}

export class FakeSensorServer {
  readonly streams = new Map<string, FakeStream>();
  readonly hellos: HelloMessage[] = [];
  /** Connections accepted so far, and handshakes tried (refused ones too). */
  connections = 0;
  handshakes = 0;
  private constructor(
    readonly http: HttpServer,
    readonly io: Server,
    readonly port: number,
    readonly options: FakeServerOptions,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(options: FakeServerOptions = {}): Promise<FakeSensorServer> {
    const http = createServer();
    const io = new Server(http, { maxHttpBufferSize: 1e7 });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const server = new FakeSensorServer(http, io, (http.address() as AddressInfo).port, options);
    server.attach();
    return server;
  }

  /** The streams of `sensorId` in the order they were opened. */
  streamsOf(sensorId: string): FakeStream[] {
    return [...this.streams.values()].filter((s) => s.sensorId === sensorId);
  }

  private attach() {
    const nsp = this.io.of('/sensor');
    nsp.use((socket, next) => {
      const { token, sensorId } = (socket.handshake.auth ?? {}) as { token?: string; sensorId?: string };
      const refusal = this.options.refuse?.(++this.handshakes);
      if (refusal) return next(Object.assign(new Error(refusal.message), { data: refusal.data }));
      if (token !== (this.options.token ?? GOOD_TOKEN))
        return next(new Error(`invalid token for sensor '${sensorId}'`));
      if (!sensorId || !isSensorId(sensorId)) return next(new Error('invalid sensor id'));
      next();
    });
    nsp.on('connection', (socket) => {
      const connection = ++this.connections;
      const sensorId = socket.handshake.auth.sensorId as string;
      let stream: FakeStream | null = null;
      socket.on('hello', (hello: HelloMessage, ack: (a: HelloAck) => void) => {
        this.hellos.push(hello);
        const hooked = this.options.hello?.(hello, { connection });
        if (hooked) return ack(hooked);
        if (hello.format !== 's16le' && hello.format !== 'f32le')
          return ack({
            ok: false,
            error: `format '${hello.format}' is not s16le or f32le`,
            code: 'BAD_FORMAT',
          });
        const streamId = hello.streamId ?? `anon-${connection}`;
        const key = `${sensorId}/${streamId}`;
        stream = this.streams.get(key) ?? null;
        if (!stream) {
          stream = { sensorId, streamId, hello, chunks: [], ackedNext: 0, duplicates: 0, outOfOrder: 0 };
          this.streams.set(key, stream);
        }
        const nextSeq = this.options.nextSeqFrom === 'acked' ? stream.ackedNext : (expectedSeq(stream) ?? 0);
        ack({
          ok: true,
          nextSeq,
          maxChunkBytes: this.options.maxChunkBytes ?? 65536,
          analysisSampleRate: 16000,
        });
      });
      socket.on('audio', (msg: { seq: number; data: Buffer; t?: number }, ack: (a: SensorAck) => void) => {
        if (!stream) return ack({ ok: false, error: 'send hello first', code: 'NO_HELLO' });
        const hooked = this.options.audio?.(msg, { socket, stream, connection });
        if (hooked && typeof hooked === 'object') return ack(hooked);
        const bpf = (stream.hello.format === 's16le' ? 2 : 4) * stream.hello.channels;
        const max = this.options.maxChunkBytes ?? 65536;
        if (!Buffer.isBuffer(msg.data))
          return ack({ ok: false, error: 'data must be binary', code: 'BAD_MESSAGE' });
        if (msg.data.length > max)
          return ack({
            ok: false,
            error: `chunk of ${msg.data.length} bytes is over ${max}`,
            code: 'TOO_LARGE',
          });
        if (msg.data.length % bpf !== 0)
          return ack({
            ok: false,
            error: `${msg.data.length} bytes is not whole frames`,
            code: 'PARTIAL_SAMPLE',
          });
        const next = expectedSeq(stream) ?? msg.seq;
        if (msg.seq < next) {
          stream.duplicates++;
          return ack({
            ok: false,
            error: `seq ${msg.seq} already received`,
            code: 'DUPLICATE_SEQ',
            seq: msg.seq,
          });
        }
        if (msg.seq > next) {
          stream.outOfOrder++;
          return ack({
            ok: false,
            error: `seq ${msg.seq} but expected ${next}`,
            code: 'OUT_OF_ORDER_SEQ',
            seq: msg.seq,
            expected: next,
          });
        }
        stream.chunks.push({ seq: msg.seq, data: Buffer.from(msg.data), t: msg.t });
        if (hooked === 'accept-silently') return;
        if (hooked === 'accept-and-disconnect') {
          socket.disconnect(true);
          return;
        }
        stream.ackedNext = msg.seq + 1;
        ack({ ok: true, seq: msg.seq });
      });
    });
  }

  /** Cuts every sensor connection and stops listening (connections are refused) until `up()`. */
  async down(): Promise<void> {
    this.io.of('/sensor').disconnectSockets(true);
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    await closed;
  }

  async up(): Promise<void> {
    await new Promise<void>((resolve) => this.http.listen(this.port, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    await this.io.close();
  }
}

/** The seq a stream's next chunk must carry; null before its first (any seq is taken). */
function expectedSeq(s: FakeStream): number | null {
  const last = s.chunks.at(-1);
  return last ? last.seq + 1 : null;
}

/** Concatenation of a stream's accepted chunks. */
export function streamBytes(s: FakeStream): Buffer {
  return Buffer.concat(s.chunks.map((c) => c.data));
}
