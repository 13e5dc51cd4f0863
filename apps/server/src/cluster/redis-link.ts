/**
 * The connections of one instance to the cluster's Redis, and whether Redis answers now. Redis down is
 * reported (`up` false, the `onChange` listeners, `hark_redis_up 0`), never fatal: both clients reconnect by
 * themselves, forever, and the instance carries on alone meanwhile.
 *
 * Two clients, because they want opposite behaviour while Redis is away:
 * - `adapter` (socket.io's Redis streams adapter, which duplicates it for its subscriber and its stream
 *   reader) keeps node-redis's offline queue: the reader's `XREAD` then waits for the reconnection instead of
 *   failing at once and polling again in a tight loop. Whatever is sent through it is gated on `up` by the
 *   caller, so the queue holds only what was in flight when the connection dropped.
 * - `command` (the ownership leases) has no offline queue: a lease command fails at once when Redis is away,
 *   so a sensor is answered `LEASE_UNAVAILABLE` instead of waiting.
 *
 * `up` also waits for the adapter's own connections (made with `adapter.duplicate()`): the subscriber that
 * receives the other instances' relayed events reconnects on its own schedule, and node-redis says it is
 * ready only once it has subscribed again. Until then this instance would miss what the others send, so it
 * is not up: what it sends when it comes up (its kept alerts, a hello that asks the others for theirs) is sent
 * when it can also hear the answers.
 */
import { createClient } from 'redis';

export type RedisClient = ReturnType<typeof createClient>;

export interface RedisLinkOptions {
  url: string;
  log: (line: string) => void;
  onChange?: (up: boolean) => void;
}

/** Longest wait between reconnection attempts, ms: Redis back is noticed within about a second. */
const MAX_RECONNECT_DELAY_MS = 1000;

export class RedisLink {
  readonly adapter: RedisClient;
  readonly command: RedisClient;
  /** The adapter's own connections (its subscriber and its stream reader). */
  readonly #duplicates = new Set<RedisClient>();
  #up = false;
  #downSince: number | null = Date.now();
  #closing = false;
  readonly #listeners = new Set<(up: boolean) => void>();

  constructor(private readonly opts: RedisLinkOptions) {
    const socket = {
      reconnectStrategy: (retries: number) => Math.min(100 * (retries + 1), MAX_RECONNECT_DELAY_MS),
    };
    this.adapter = createClient({ url: opts.url, socket });
    this.command = createClient({ url: opts.url, socket, disableOfflineQueue: true });
    // The adapter publishes without handling a rejected PUBLISH (one in flight when the connection drops):
    // answered here, it is a message lost while Redis was away, not an unhandled rejection that ends Node.
    const publish = this.adapter.publish.bind(this.adapter);
    (this.adapter as { publish: unknown }).publish = (channel: string, message: string | Buffer) =>
      publish(channel, message).catch(() => 0);
    const duplicate = this.adapter.duplicate.bind(this.adapter);
    (this.adapter as { duplicate: unknown }).duplicate = (...args: Parameters<RedisClient['duplicate']>) => {
      const c = duplicate(...args) as RedisClient;
      this.#duplicates.add(c);
      this.#watch(c);
      return c;
    };
    for (const c of [this.adapter, this.command]) this.#watch(c);
    if (opts.onChange) this.#listeners.add(opts.onChange);
  }

  /** Starts connecting (it does not wait: a Redis down at start is reported like any other time). */
  start(): void {
    this.opts.log(`cluster: connecting to Redis at ${redact(this.opts.url)}`);
    for (const c of [this.adapter, this.command]) c.connect().catch(() => this.#update());
  }

  /** Both connections ready, and the adapter's own connections that are open. */
  get up(): boolean {
    return this.#up;
  }

  get downSince(): number | null {
    return this.#downSince;
  }

  onChange(cb: (up: boolean) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(
      [this.adapter, this.command].map((c) => (c.isOpen ? c.close().catch(() => c.destroy()) : undefined)),
    );
  }

  #watch(c: RedisClient): void {
    // Errors are the reconnection's business; the state change is what is reported.
    c.on('error', () => this.#update());
    c.on('ready', () => this.#update());
    c.on('end', () => this.#update());
    c.on('reconnecting', () => this.#update());
  }

  #update(): void {
    if (this.#closing) return;
    // A duplicate not open (not yet connected by the adapter, or closed with it) does not hold `up` back.
    const up =
      this.adapter.isReady &&
      this.command.isReady &&
      [...this.#duplicates].every((c) => c.isReady || !c.isOpen);
    if (up === this.#up) return;
    this.#up = up;
    this.#downSince = up ? null : Date.now();
    this.opts.log(
      up
        ? `cluster: Redis at ${redact(this.opts.url)} is up: sharing live events and leases with the other instances`
        : `cluster: DEGRADED: Redis at ${redact(this.opts.url)} is unreachable: scoring the sensors held here, ` +
            `refusing new ones (LEASE_UNAVAILABLE), dashboards here see only this instance's sensors; reconnecting`,
    );
    for (const cb of this.#listeners) cb(up);
  }
}

/** The URL without its password, for logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
