/**
 * The live events of one instance to the dashboards of the others, through socket.io's Redis adapter.
 *
 * Each instance's {@link LiveHub} stays the one place that sends to its dashboards (with its per-client flow
 * control): what the hub makes here is also sent to the other instances as a server-side emit on `/live`
 * (Redis pub/sub, msgpack with the columns' bytes kept binary), and what arrives from them is handed to the
 * hub as if it were made here, to the clients subscribed to that sensor (or to every client, for alerts,
 * status and fit progress). So per-sensor subscriptions hold across instances without joining rooms.
 *
 * While Redis is away nothing is relayed: dashboards see only this instance's sensors. Alerts are the
 * exception: their latest state per alert is kept (bounded) and sent when Redis returns, followed by the
 * status of every sensor held here, so dashboards elsewhere see everything again without a reload.
 *
 * Relayed events go by Redis pub/sub, which delivers only to the subscribers of the moment. The instances do
 * not reconnect at the same moment when Redis returns, and one can lose its connections alone, so what one
 * sends as it comes back can miss another that is not back yet. So each instance also keeps a log of the
 * alerts it made or changed (the latest state of each, for an hour, at most 1000), and says hello
 * ({@link HELLO_EVENT}, with the time it lost Redis) when it comes back. Every instance that hears it replays
 * the alerts of its log changed since then to that instance alone ({@link REPLAY_EVENT}) and publishes its
 * sensors' status again. Whichever comes back last can hear the others (`up` waits for the subscriber), so it
 * gets their alerts by its hello, and they get its own by its flush.
 */
import type { SensorStatus } from '@hark/protocol';
import type { Namespace } from 'socket.io';
import { broadcastKey, type LiveHub, type RelayedEvent } from '../live/live-hub.js';

/** The server-side event that carries a relayed live event: `(event, payload)`. */
export const RELAY_EVENT = 'hark:live';

/** An instance back on Redis asks the others for what it missed: `{ instance, since }` (epoch ms). */
export const HELLO_EVENT = 'hark:hello';
/** An answer to a hello, for one instance: `(instance, event, payload)`; the others ignore it. */
export const REPLAY_EVENT = 'hark:replay';

/** Alert states kept for other instances while Redis is away (one per alert; the oldest beyond it dropped). */
const MAX_PENDING_ALERTS = 1000;
/** Alert states kept to answer a hello: the latest per alert, changed within the hour, at most this many. */
const MAX_LOGGED_ALERTS = 1000;
const LOG_MS = 3_600_000;
/**
 * A hello's `since` is the other machine's clock: alerts changed up to a minute before it are replayed too,
 * for clocks that disagree (a replayed alert a dashboard already has is merged by id, not shown twice).
 */
const CLOCK_SLACK_MS = 60_000;

export interface LiveRelayOptions {
  hub: LiveHub;
  up: () => boolean;
  /** This instance's name (a replay is addressed to one). */
  instance: () => string;
  /** Another instance said hello: publish the status of the sensors held here. */
  onHello: () => void;
  /**
   * How long another instance's status of a sensor is believed without a newer one (each instance sends the
   * status of the sensors it holds at least once per lease period): an instance that died stops vouching.
   */
  staleMs: number;
  onRelayed: (direction: 'out' | 'in') => void;
}

export class LiveRelay {
  #nsp: Namespace | null = null;
  /** Alert events made while Redis was away, by alert. */
  readonly #pending = new Map<string, { event: RelayedEvent; payload: unknown }>();
  /** The latest state of the alerts made or changed here (and their later changes elsewhere), oldest first. */
  readonly #log = new Map<string, { event: RelayedEvent; payload: unknown; at: number }>();
  /** The latest status of each sensor streaming on another instance. */
  readonly #remote = new Map<string, { status: SensorStatus; at: number }>();

  constructor(private readonly o: LiveRelayOptions) {}

  attach(nsp: Namespace): void {
    this.#nsp = nsp;
    nsp.on(RELAY_EVENT, (event: RelayedEvent, payload: unknown) => this.#receive(event, payload));
    nsp.on(REPLAY_EVENT, (instance: string, event: RelayedEvent, payload: unknown) => {
      if (instance === this.o.instance()) this.#receive(event, payload);
    });
    nsp.on(HELLO_EVENT, (hello: { instance?: unknown; since?: unknown }) => this.#hello(hello));
    this.o.hub.relay = (event, payload) => this.#send(event, payload);
  }

  detach(): void {
    this.o.hub.relay = null;
    this.#nsp = null;
  }

  /** The last status another instance sent of the sensor (a dashboard here may subscribe to it). */
  remoteStatus(sensorId: string): SensorStatus | null {
    const r = this.#remote.get(sensorId);
    return r && Date.now() - r.at <= this.o.staleMs ? r.status : null;
  }

  /** The sensors another instance vouches for now (streaming there), with their latest status. */
  remoteStatuses(): SensorStatus[] {
    const now = Date.now();
    return [...this.#remote.values()]
      .filter((r) => now - r.at <= this.o.staleMs && r.status.connected)
      .map((r) => r.status);
  }

  /**
   * Redis is back (this instance lost it at `since`, epoch ms): the alerts kept meanwhile go out, and the
   * others are asked for what they sent that this instance may have missed.
   */
  reconnected(since: number): void {
    const list = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of list) this.#send(p.event, p.payload);
    if (this.#nsp && this.o.up())
      this.#nsp.serverSideEmit(HELLO_EVENT, { instance: this.o.instance(), since });
  }

  #receive(event: RelayedEvent, payload: unknown): void {
    this.o.onRelayed('in');
    if (event === 'sensor:status') {
      const status = payload as SensorStatus;
      this.#remote.set(status.id, { status, at: Date.now() });
    }
    this.#remember(event, payload, false);
    this.o.hub.receive(event, payload);
  }

  #hello(hello: { instance?: unknown; since?: unknown }): void {
    const nsp = this.#nsp;
    if (!nsp || !this.o.up() || typeof hello.instance !== 'string' || typeof hello.since !== 'number') return;
    const from = hello.since - CLOCK_SLACK_MS;
    for (const l of this.#log.values()) {
      if (l.at < from) continue;
      this.o.onRelayed('out');
      nsp.serverSideEmit(REPLAY_EVENT, hello.instance, l.event, l.payload);
    }
    this.o.onHello();
  }

  /**
   * Keeps the latest state of an alert for the hellos (a new alert stays an `alert`, with its latest content):
   * of every alert this instance made or changed (`here`), and of those, the changes made elsewhere. An alert
   * made elsewhere is left to the instances that touched it, so a hello is not answered by one that may have
   * missed a change.
   */
  #remember(event: RelayedEvent, payload: unknown, here: boolean): void {
    if (event !== 'alert' && event !== 'alert:update') return;
    const key = broadcastKey(event, payload);
    if (key === null) return;
    const now = Date.now();
    const was = this.#log.get(key);
    if (!was && !here) return;
    this.#log.delete(key);
    this.#log.set(key, { event: was?.event === 'alert' ? 'alert' : event, payload, at: now });
    for (const [k, l] of this.#log) {
      if (this.#log.size <= MAX_LOGGED_ALERTS && now - l.at <= LOG_MS) break;
      this.#log.delete(k);
    }
  }

  #send(event: RelayedEvent, payload: unknown): void {
    const nsp = this.#nsp;
    if (!nsp) return;
    this.#remember(event, payload, true);
    if (!this.o.up()) {
      if (event !== 'alert' && event !== 'alert:update') return;
      const key = broadcastKey(event, payload) ?? `#${this.#pending.size}`;
      const waiting = this.#pending.get(key);
      // A new alert stays an `alert` for the others, with its latest content.
      this.#pending.set(key, { event: waiting?.event === 'alert' ? 'alert' : event, payload });
      if (this.#pending.size > MAX_PENDING_ALERTS) this.#pending.delete(this.#pending.keys().next().value!);
      return;
    }
    this.o.onRelayed('out');
    nsp.serverSideEmit(RELAY_EVENT, event, payload);
  }
}
