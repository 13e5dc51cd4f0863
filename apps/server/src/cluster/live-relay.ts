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
 */
import type { SensorStatus } from '@hark/protocol';
import type { Namespace } from 'socket.io';
import { broadcastKey, type LiveHub, type RelayedEvent } from '../live/live-hub.js';

/** The server-side event that carries a relayed live event: `(event, payload)`. */
export const RELAY_EVENT = 'hark:live';

/** Alert states kept for other instances while Redis is away (one per alert; the oldest beyond it dropped). */
const MAX_PENDING_ALERTS = 1000;

export interface LiveRelayOptions {
  hub: LiveHub;
  up: () => boolean;
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
  /** The latest status of each sensor streaming on another instance. */
  readonly #remote = new Map<string, { status: SensorStatus; at: number }>();

  constructor(private readonly o: LiveRelayOptions) {}

  attach(nsp: Namespace): void {
    this.#nsp = nsp;
    nsp.on(RELAY_EVENT, (event: RelayedEvent, payload: unknown) => {
      this.o.onRelayed('in');
      if (event === 'sensor:status') {
        const status = payload as SensorStatus;
        this.#remote.set(status.id, { status, at: Date.now() });
      }
      this.o.hub.receive(event, payload);
    });
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

  /** Redis is back: the alerts kept meanwhile go out. */
  flush(): void {
    const list = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of list) this.#send(p.event, p.payload);
  }

  #send(event: RelayedEvent, payload: unknown): void {
    const nsp = this.#nsp;
    if (!nsp) return;
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
