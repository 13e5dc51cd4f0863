/**
 * Per-sensor ownership leases in Redis: exactly one instance receives and scores a sensor at any time.
 *
 * Key `{hark:lease}:<sensorId>` holds the owner, `<instance>#<process uid>` (the uid tells a restarted
 * instance of the same name from the one that died), with a time to live of `ttlMs`. An instance claims the
 * lease when a sensor connects (the `/sensor` handshake) and renews it every `ttlMs / 3` while one of its
 * connections for that sensor stands; it deletes it when the last one closes, so the next instance may take
 * the sensor at once. A killed instance's leases expire after `ttlMs`.
 *
 * Claim and renewal are one Lua script (atomic in Redis): set the key when it is free, extend it when it is
 * ours, else report the holder and its time left. Renewal re-sets a lease that vanished (Redis restarted
 * empty): nobody held it in between, so nobody scored the sensor twice. A renewal that finds another holder
 * means we lost it (our renewals did not reach Redis in time and another instance took the sensor): `onLost`
 * drops our connection. Release deletes the key only while it is ours (compare-and-delete).
 *
 * While Redis is unreachable (see DESIGN.md, "Cluster"): the leases held are kept and the sensors scored (the
 * sensor is connected here, so it is not streaming to another instance), and a new claim is refused with
 * `LEASE_UNAVAILABLE` (without Redis nothing proves another instance is not scoring the sensor).
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redis-link.js';

/** Set when free, extend when ours; returns {1, owner, ttl} or {0, holder, pttl}, per key. */
const CLAIM_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v == false or v == ARGV[1] then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    out[#out + 1] = 1
    out[#out + 1] = ARGV[1]
    out[#out + 1] = tonumber(ARGV[2])
  else
    out[#out + 1] = 0
    out[#out + 1] = v
    out[#out + 1] = redis.call('PTTL', key)
  end
end
return out`;

/** Deletes the key only while we hold it. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export type ClaimResult =
  | { ok: true }
  | { ok: false; code: 'SENSOR_LEASED'; holder: string; retryAfterMs: number }
  | { ok: false; code: 'LEASE_UNAVAILABLE'; error: string; retryAfterMs: number };

export interface OwnershipOptions {
  redis: RedisClient;
  instance: () => string;
  ttlMs: number;
  /** Redis answers now (claims are refused at once while it does not). */
  up: () => boolean;
  /**
   * Whether a connection still stands: one that passed the handshake but never connected (or whose close was
   * missed) stops holding its sensor's lease after `ttlMs`.
   */
  alive: (socketId: string) => boolean;
  /** Another instance holds a lease we held: drop our connections of the sensor. */
  onLost: (sensorId: string, holder: string) => void;
  log: (line: string) => void;
}

/**
 * A sensor's lease key. Every lease key carries the one hash tag `{hark:lease}`, so on Redis Cluster they all
 * fall in one slot: the renewal is a single script over every lease an instance holds (one round trip per
 * renewal period, whatever the number of sensors), and a script may only touch keys of one slot. A tag per
 * sensor (`{sensorId}`) would spread the leases over the shards but cost one script per sensor per renewal;
 * the whole family is small for one shard (10,000 sensors at the default 3 s TTL, renewed every 1 s: 10,000
 * key updates/s in one script per instance per renewal, a few percent of one Redis core; docs/scale.md). The tag comes first, so a `{` in a sensor
 * id cannot change the slot.
 *
 * Rolling upgrade: builds before this tag used `hark:lease:<sensorId>`; the two do not see each other's
 * leases, so stop every instance of the older build before starting this one (apps/server/DESIGN.md, "Redis Cluster").
 */
export const leaseKey = (sensorId: string) => `{hark:lease}:${sensorId}`;

export class SensorOwnership {
  /** Our value in Redis: the instance's name and this process's uid. */
  readonly #uid = randomBytes(6).toString('hex');
  /** Sensors we hold, with the connections (socket id -> when it claimed) holding them here. */
  readonly #held = new Map<string, Map<string, number>>();
  /** Claims under way per sensor: a release meanwhile must not delete the key the claim just set. */
  readonly #claiming = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  /** The renewal under way, and the one to follow it (`renew()`). */
  #renewing: Promise<void> | null = null;
  #renewAgain: Promise<void> | null = null;

  constructor(private readonly o: OwnershipOptions) {}

  get owner(): string {
    return `${this.o.instance()}#${this.#uid}`;
  }

  /** Sensors whose lease this instance holds. */
  get held(): number {
    return this.#held.size;
  }

  holds(sensorId: string): boolean {
    return this.#held.has(sensorId);
  }

  start(): void {
    this.#timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.o.ttlMs / 3)));
    this.#timer.unref();
  }

  /** Claims the sensor's lease for connection `socketId` (a second connection here shares it). */
  async claim(sensorId: string, socketId: string): Promise<ClaimResult> {
    const mine = this.#held.get(sensorId);
    if (mine && !this.o.up()) {
      // Held, Redis away: the connection replaces ours here (the ingest's takeover rules apply), still ours.
      mine.set(socketId, Date.now());
      return { ok: true };
    }
    if (!this.o.up())
      return {
        ok: false,
        code: 'LEASE_UNAVAILABLE',
        error: `instance ${this.o.instance()} cannot reach Redis to lease sensor '${sensorId}'`,
        retryAfterMs: 1000,
      };
    let res: Array<{ ok: boolean; holder: string; ttl: number }>;
    this.#claiming.set(sensorId, (this.#claiming.get(sensorId) ?? 0) + 1);
    try {
      res = await this.#claimKeys([sensorId]);
    } catch (err) {
      return {
        ok: false,
        code: 'LEASE_UNAVAILABLE',
        error: `instance ${this.o.instance()} could not lease sensor '${sensorId}' in Redis: ${(err as Error).message}`,
        retryAfterMs: 1000,
      };
    } finally {
      const n = (this.#claiming.get(sensorId) ?? 1) - 1;
      if (n > 0) this.#claiming.set(sensorId, n);
      else this.#claiming.delete(sensorId);
    }
    const [r] = res;
    if (!r.ok)
      return { ok: false, code: 'SENSOR_LEASED', holder: r.holder, retryAfterMs: Math.max(0, r.ttl) };
    const set = this.#held.get(sensorId) ?? new Map<string, number>();
    set.set(socketId, Date.now());
    this.#held.set(sensorId, set);
    return { ok: true };
  }

  /** Connection `socketId` of the sensor closed; the last one here releases the lease at once. */
  async release(sensorId: string, socketId: string): Promise<void> {
    const set = this.#held.get(sensorId);
    if (!set?.delete(socketId) || set.size > 0) return;
    this.#held.delete(sensorId);
    // A claim under way (a reconnect of the sensor here) keeps the key; if it fails, the key expires.
    if (!this.o.up() || this.#claiming.has(sensorId)) return; // it expires by itself
    await this.o.redis
      .eval(RELEASE_SCRIPT, { keys: [leaseKey(sensorId)], arguments: [this.owner] })
      .catch(() => undefined);
  }

  /**
   * Renews every lease held (one round trip); drops the sensors whose lease another instance holds now. A call
   * while a renewal is under way waits for it and then renews once more (calls in the meantime share that one):
   * the round trip under way may have reached Redis before what made the caller ask (Redis back with no data,
   * a key deleted), so returning at once would leave that unrenewed.
   */
  renew(): Promise<void> {
    const now = Date.now();
    for (const [id, sockets] of this.#held)
      for (const [socketId, at] of sockets)
        if (now - at > this.o.ttlMs && !this.o.alive(socketId)) void this.release(id, socketId);
    if (!this.#renewing) return this.#renewOnce();
    this.#renewAgain ??= this.#renewing.then(() => {
      this.#renewAgain = null;
      return this.#renewOnce();
    });
    return this.#renewAgain;
  }

  #renewOnce(): Promise<void> {
    if (this.#held.size === 0 || !this.o.up()) return Promise.resolve();
    const run = (async () => {
      try {
        const ids = [...this.#held.keys()];
        const res = await this.#claimKeys(ids);
        ids.forEach((id, i) => {
          const r = res[i];
          if (r.ok || !this.#held.has(id)) return;
          this.#held.delete(id);
          this.o.log(`cluster: lost the lease of sensor ${id} to ${r.holder}: dropping its connection here`);
          this.o.onLost(id, r.holder);
        });
      } catch {
        // Redis went away mid-renewal: kept (see the header); the link reports it.
      }
    })();
    this.#renewing = run;
    void run.then(() => {
      if (this.#renewing === run) this.#renewing = null;
    });
    return run;
  }

  /** Deletes every lease held (a clean stop), so other instances may take the sensors at once. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const ids = [...this.#held.keys()];
    this.#held.clear();
    if (!this.o.up()) return;
    await Promise.all(
      ids.map((id) =>
        this.o.redis
          .eval(RELEASE_SCRIPT, { keys: [leaseKey(id)], arguments: [this.owner] })
          .catch(() => undefined),
      ),
    );
  }

  async #claimKeys(ids: string[]): Promise<Array<{ ok: boolean; holder: string; ttl: number }>> {
    const raw = (await this.o.redis.eval(CLAIM_SCRIPT, {
      keys: ids.map(leaseKey),
      arguments: [this.owner, String(this.o.ttlMs)],
    })) as Array<number | string>;
    return ids.map((_, i) => ({
      ok: raw[i * 3] === 1,
      holder: String(raw[i * 3 + 1]),
      ttl: Number(raw[i * 3 + 2]),
    }));
  }
}

/** The instance name of a lease holder's value (`<instance>#<uid>`). */
export const holderInstance = (holder: string) => holder.replace(/#[0-9a-f]+$/, '');
