/**
 * A protocol fuzzer for `/sensor` (issue 18): fast-check arbitraries of random and malformed sensor messages
 * (handshakes, `hello`, `audio`, unknown events, raw engine.io garbage) and a driver that sends them to a
 * real server and checks every answer:
 *
 * - `hello` and `audio` are always acknowledged, either `{ok: true}` or a refusal with a protocol error code
 *   and a message; `INTERNAL` (an unexpected exception in the server) counts as a failure;
 * - a handshake connects only with the fuzzer's own sensor token and a sensor id it is bound to;
 * - the server never disconnects a fuzzing sensor (only raw garbage may cost a connection).
 */
import fc from 'fast-check';
import { io, type Socket } from 'socket.io-client';
import type { SensorErrorCode } from '@hark/protocol';

/** Codes a refusal may carry; `INTERNAL` is not among them. */
const REFUSALS: readonly SensorErrorCode[] = [
  'BAD_MESSAGE',
  'NO_HELLO',
  'BAD_FORMAT',
  'BAD_SAMPLE_RATE',
  'BAD_CHANNELS',
  'TOO_LARGE',
  'PARTIAL_SAMPLE',
  'DUPLICATE_SEQ',
  'OUT_OF_ORDER_SEQ',
  'SENSOR_BUSY',
];

export type FuzzMessage =
  | { kind: 'hello'; body: unknown }
  | { kind: 'audio'; body: unknown }
  | { kind: 'event'; name: string; body: unknown }
  | { kind: 'handshake'; auth: unknown }
  | { kind: 'raw'; data: string | Uint8Array };

/** Events the socket.io client refuses to emit (it throws before sending). */
const RESERVED = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
]);

/** Sensor ids: the fuzzer's own, the good sensor's (refused to the fuzzer), path tricks and random text. */
export interface FuzzIds {
  /** Ids the fuzzer's token is bound to and may connect as in handshakes. */
  handshake: readonly string[];
  /** An id of another token (the good sensor's): a handshake as it must be refused. */
  foreign: string;
}

/** Any JSON-ish value, binary included (socket.io sends Buffers as attachments). */
const anything = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.anything({ maxDepth: 3, maxKeys: 6, withNullPrototype: true }) },
    { weight: 1, arbitrary: bytes(256) },
  );

const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

/** Numbers and things that are not: the edges of every numeric field. */
const numberish = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.integer(),
    fc.double(),
    fc.constantFrom(
      0,
      -0,
      -1,
      1,
      0.5,
      2 ** 31,
      2 ** 32,
      2 ** 53,
      -(2 ** 53),
      1e308,
      -1e308,
      Number.MAX_VALUE,
    ),
    fc.string({ maxLength: 12 }),
    fc.constantFrom(null, true, false, [], {}),
  );

/**
 * Stands for "the sequence number this connection's sensor is due to send": the driver puts it in, so that
 * audio with a right sequence number reaches the decoding and the analysis with wrong data, rates and times.
 */
export const NEXT_SEQ = Object.freeze({ nextSeq: true });

/** Accepted rates that share no large factor with 16 kHz (each needs a filter table of its own). */
export const ODD_RATES = [8001, 12345, 44056, 95999];

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });

/** `hello`: mostly near-valid records (so they reach the deeper checks), sometimes anything. */
export const helloBody = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record(
        {
          sampleRate: fc.oneof(
            fc.constantFrom(8000, 11025, 16000, 22050, 44100, 48000, 96000, 7999, 96001, 1),
            // Odd rates from a fixed few: every distinct accepted rate costs the process a resampler filter
            // table (about 3.8 MB) that is never freed, an open bug measured in docs/reliability.md; random
            // rates would let it decide the RSS check, which is there for everything else.
            fc.constantFrom(...ODD_RATES),
            numberish().filter(
              (v) => !(Number.isInteger(v) && (v as number) >= 8000 && (v as number) <= 96000),
            ),
          ),
          channels: fc.oneof(fc.integer({ min: 0, max: 9 }), numberish()),
          format: fc.oneof(fc.constantFrom('s16le', 'f32le', 'S16LE', 'u8', ''), anything()),
          streamId: maybe(fc.oneof(fc.string({ maxLength: 240 }), numberish())),
          name: maybe(fc.oneof(fc.string({ maxLength: 150 }), anything())),
          labels: maybe(
            fc.oneof(
              fc.dictionary(fc.string({ maxLength: 120 }), fc.string({ maxLength: 250 }), { maxKeys: 40 }),
              anything(),
            ),
          ),
          takeover: maybe(anything()),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: anything() },
  );

/** `audio.data`: PCM of random length and content, sizes at the limit, and wrong types. */
const audioData = (maxChunkBytes: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 24, arbitrary: bytes(6400) },
    // At and past the limit: rarer, as each costs a megabyte on the wire.
    {
      weight: 1,
      arbitrary: fc.constantFrom(maxChunkBytes, maxChunkBytes + 1).map((n) => Buffer.alloc(n, 7)),
    },
    { weight: 4, arbitrary: fc.array(fc.integer({ min: -40000, max: 40000 }), { maxLength: 64 }) },
    { weight: 8, arbitrary: anything() },
  );

/** `audio`: records with sequence numbers, data and times at and past every edge, sometimes anything. */
export const audioBody = (maxChunkBytes: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record(
        {
          seq: fc.oneof(
            { weight: 4, arbitrary: fc.constant(NEXT_SEQ) },
            { weight: 1, arbitrary: fc.nat({ max: 50 }) },
            { weight: 1, arbitrary: numberish() },
          ),
          data: audioData(maxChunkBytes),
          t: maybe(
            fc.oneof(
              fc.integer({ min: -600_000, max: 600_000 }).map((d) => Date.now() + d),
              numberish(),
            ),
          ),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: anything() },
  );

/** Text and bytes for the socket.io parser: garbage, and garbage behind real packet headers. */
const rawData = (): fc.Arbitrary<string | Uint8Array> =>
  fc.oneof(
    fc.string({ maxLength: 400 }),
    fc
      .tuple(fc.constantFrom('0', '1', '2', '3', '42', '43', '451-', '42["audio",', '2/sensor,'), fc.string())
      .map(([head, tail]) => head + tail),
    fc.uint8Array({ minLength: 1, maxLength: 2048 }),
  );

export function fuzzMessage(o: {
  ids: FuzzIds;
  token: string;
  maxChunkBytes: number;
}): fc.Arbitrary<FuzzMessage> {
  const sensorId = fc.oneof(
    fc.constantFrom(...o.ids.handshake, o.ids.foreign, '.', '..', '%2e%2e', 'a/b', '', ' ', 'x'.repeat(300)),
    fc.string({ maxLength: 80 }),
    anything(),
  );
  const token = fc.oneof(
    fc.constant(o.token),
    fc.constantFrom('', 'hark_', `${o.token}x`, o.token.slice(0, -1)),
    fc.string({ maxLength: 80 }),
    anything(),
  );
  return fc.oneof(
    { weight: 8, arbitrary: helloBody().map((body) => ({ kind: 'hello' as const, body })) },
    { weight: 20, arbitrary: audioBody(o.maxChunkBytes).map((body) => ({ kind: 'audio' as const, body })) },
    {
      weight: 2,
      arbitrary: fc
        .record({
          name: fc.oneof(
            fc.string({ maxLength: 40 }),
            fc.constantFrom('subscribe', 'error', 'ping', '__proto__'),
          ),
          body: anything(),
        })
        .filter((e) => !RESERVED.has(e.name))
        .map((e) => ({ kind: 'event' as const, ...e })),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          { weight: 4, arbitrary: fc.record({ token, sensorId }, { requiredKeys: [] }) },
          { weight: 1, arbitrary: anything() },
        )
        .map((auth) => ({ kind: 'handshake' as const, auth })),
    },
    { weight: 2, arbitrary: rawData().map((data) => ({ kind: 'raw' as const, data })) },
  );
}

/** What the fuzzer saw. */
export interface FuzzReport {
  sent: Record<FuzzMessage['kind'], number>;
  /** Acknowledgements by outcome: `ok` or the refusal code. */
  acks: Record<string, number>;
  handshakes: { connected: number; refused: number };
  /** Raw-garbage connections the server closed (expected: garbage costs its connection). */
  rawClosed: number;
  /** Everything that broke a rule, with the message that did it. */
  failures: string[];
}

const ACK_TIMEOUT_MS = 15_000;

const show = (x: unknown) => {
  try {
    const s = JSON.stringify(x, (_k, v: unknown) =>
      Buffer.isBuffer(v) || v instanceof Uint8Array ? `<${(v as Uint8Array).length} bytes>` : v,
    );
    return (s ?? String(x)).slice(0, 300);
  } catch {
    return String(x).slice(0, 300);
  }
};

/**
 * Sends fuzz messages over `sockets` sensor connections (one id each, bound to `token`), plus one connection
 * for raw garbage and short-lived ones for handshakes.
 */
export class SensorFuzzer {
  readonly report: FuzzReport = {
    sent: { hello: 0, audio: 0, event: 0, handshake: 0, raw: 0 },
    acks: {},
    handshakes: { connected: 0, refused: 0 },
    rawClosed: 0,
    failures: [],
  };
  private sockets: Socket[] = [];
  /** The sequence number each connection's sensor is due to send (from its acks). */
  private readonly due = new Map<Socket, number>();
  private raw: Socket | null = null;
  /** Garbage is written one message after the other: a closed connection is reopened in between. */
  private rawChain: Promise<void> = Promise.resolve();
  private next = 0;

  constructor(
    private readonly o: {
      url: string;
      token: string;
      ids: FuzzIds;
      streamIds: readonly string[];
      rawId: string;
    },
  ) {}

  async open(): Promise<void> {
    this.sockets = await Promise.all(this.o.streamIds.map((id) => this.connect(id)));
    this.sockets.forEach((s, i) =>
      s.on('disconnect', (reason) => {
        if (reason !== 'io client disconnect')
          this.report.failures.push(
            `the server disconnected fuzzing sensor ${this.o.streamIds[i]}: ${reason}`,
          );
      }),
    );
  }

  close(): void {
    for (const s of this.sockets) s.close();
    this.raw?.close();
  }

  /** Sends a batch at once (spread over the connections) and checks every answer. */
  async send(batch: FuzzMessage[]): Promise<void> {
    await Promise.all(batch.map((m) => this.one(m)));
  }

  private connect(sensorId: string): Promise<Socket> {
    const c = io(`${this.o.url}/sensor`, {
      auth: { token: this.o.token, sensorId },
      transports: ['websocket'],
      reconnection: false,
    });
    return new Promise((resolve, reject) => {
      c.once('connect', () => resolve(c));
      c.once('connect_error', reject);
    });
  }

  private async one(m: FuzzMessage): Promise<void> {
    this.report.sent[m.kind]++;
    switch (m.kind) {
      case 'hello':
      case 'audio':
        return this.acked(m.kind, m.body);
      case 'event':
        this.pick().emit(m.name, m.body);
        return;
      case 'handshake':
        return this.handshake(m.auth);
      case 'raw':
        return (this.rawChain = this.rawChain.then(() => this.garbage(m.data)));
    }
  }

  private pick(): Socket {
    return this.sockets[this.next++ % this.sockets.length];
  }

  private async acked(event: 'hello' | 'audio', body: unknown): Promise<void> {
    const socket = this.pick();
    const record = body as { seq?: unknown } | null;
    let seq: number | null = null;
    if (typeof record === 'object' && record !== null && record.seq === NEXT_SEQ) {
      seq = this.due.get(socket) ?? 0;
      body = { ...record, seq };
    }
    let ack: unknown;
    try {
      ack = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, body);
    } catch (err) {
      this.report.failures.push(`${event} ${show(body)}: no acknowledgement (${(err as Error).message})`);
      return;
    }
    const a = ack as { ok?: unknown; code?: unknown; error?: unknown };
    if (a?.ok === true) {
      this.report.acks.ok = (this.report.acks.ok ?? 0) + 1;
      const next = (ack as { nextSeq?: unknown }).nextSeq;
      if (event === 'hello' && typeof next === 'number') this.due.set(socket, next);
      if (event === 'audio' && seq !== null)
        this.due.set(socket, Math.max(this.due.get(socket) ?? 0, seq + 1));
      return;
    }
    const code = String(a?.code);
    this.report.acks[code] = (this.report.acks[code] ?? 0) + 1;
    const known = a?.ok === false && (REFUSALS as readonly unknown[]).includes(a.code);
    if (!known || typeof a.error !== 'string' || a.error.length === 0)
      this.report.failures.push(`${event} ${show(body)}: answered ${show(ack)}`);
  }

  private async handshake(auth: unknown): Promise<void> {
    const c = io(`${this.o.url}/sensor`, {
      auth: auth as Record<string, unknown>,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const a = auth as { token?: unknown; sensorId?: unknown } | null;
    const may =
      typeof a === 'object' &&
      a !== null &&
      a.token === this.o.token &&
      this.o.ids.handshake.includes(a.sensorId as string);
    try {
      const outcome = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), ACK_TIMEOUT_MS);
        c.once('connect', () => (clearTimeout(timer), resolve('connected')));
        c.once('connect_error', () => (clearTimeout(timer), resolve('refused')));
        // A CONNECT packet whose auth is not an object (an array, a string) is malformed for socket.io's
        // parser: the server closes the transport without a connect_error.
        c.io.once('close', () => (clearTimeout(timer), resolve('refused')));
      });
      if (outcome === 'timeout') this.report.failures.push(`handshake ${show(auth)}: no answer`);
      else if (outcome === 'connected') this.report.handshakes.connected++;
      else this.report.handshakes.refused++;
      if (outcome === 'connected' && !may)
        this.report.failures.push(`handshake ${show(auth)}: connected, but it should have been refused`);
      if (outcome === 'refused' && may)
        this.report.failures.push(`handshake ${show(auth)}: refused, but its token may stream as that id`);
    } finally {
      c.close();
    }
  }

  /** Writes garbage under socket.io, on a connection of its own, reopened when the server closes it. */
  private async garbage(data: string | Uint8Array): Promise<void> {
    if (!this.raw?.connected) {
      this.raw?.close();
      this.raw = await this.connect(this.o.rawId);
      this.raw.on('disconnect', (reason) => {
        if (reason !== 'io client disconnect') this.report.rawClosed++;
      });
    }
    const engine = this.raw.io.engine as unknown as { write(d: string | Uint8Array): void };
    engine.write(data);
  }
}
