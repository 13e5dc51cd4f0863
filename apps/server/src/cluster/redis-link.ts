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
    for (const c of [this.adapter, this.command]) {
      // Errors are the reconnection's business; the state change is what is reported.
      c.on('error', () => this.#update());
      c.on('ready', () => this.#update());
      c.on('end', () => this.#update());
      c.on('reconnecting', () => this.#update());
    }
    if (opts.onChange) this.#listeners.add(opts.onChange);
  }

  /** Starts connecting (it does not wait: a Redis down at start is reported like any other time). */
  start(): void {
    this.opts.log(`cluster: connecting to Redis at ${redact(this.opts.url)}`);
    for (const c of [this.adapter, this.command]) c.connect().catch(() => this.#update());
  }

  /** Both connections ready. */
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

  #update(): void {
    if (this.#closing) return;
    const up = this.adapter.isReady && this.command.isReady;
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
