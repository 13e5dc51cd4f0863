/**
 * Fan-out to dashboards on `/live` with per-client flow control: a client whose connection is not keeping up
 * gets its `columns` coalesced into larger messages (and, past a bound, the oldest dropped and counted), its
 * `score` events thinned, and its broadcasts (alerts, status, model progress) coalesced: each carries the
 * whole current state of one thing (an alert, a sensor, a sensor's fit), so a newer one replaces the one still
 * waiting for the same thing, and a client that catches up sees every alert and sensor in its latest state.
 * Other clients and the ingest path never wait for a slow one, and a client that never reads costs a bounded
 * amount of memory.
 */
import type { ColumnsEvent, ScoreEvent } from '@hark/protocol';

/** The part of a socket.io server socket the hub uses (so it can be driven by a real socket or a test double). */
export interface LiveSocket {
  id: string;
  emit(event: string, payload: unknown): unknown;
  /** Messages queued in the transport and not yet written. */
  backlog(): number;
  onDrain(cb: () => void): void;
}

export interface LiveHubOptions {
  /** Transport messages queued before a client counts as slow. */
  maxBacklog: number;
  /** Columns kept per sensor for a slow client before the oldest are dropped. */
  maxPendingColumns: number;
  /** Score events kept per sensor for a slow client. */
  maxPendingScores: number;
  /**
   * Broadcasts kept (after coalescing) for a slow client before the oldest are dropped: one per alert,
   * sensor and fit changed while it was slow, so reaching it takes a client that has not read for a long time.
   */
  maxPendingBroadcasts: number;
  onDropped?: (messages: number) => void;
}

export const LIVE_HUB_DEFAULTS: LiveHubOptions = {
  maxBacklog: 32,
  maxPendingColumns: 3000,
  maxPendingScores: 240,
  maxPendingBroadcasts: 1000,
};

/**
 * What a broadcast is the latest state of (a newer one with the same key replaces it while it waits), or null
 * when it cannot be coalesced. `alert` and `alert:update` carry the whole alert, `sensor:status` the whole
 * status, `model:progress` a fit's latest progress (libs/protocol `contracts.ts`). An alert is named by its
 * sensor and its id: instances of a cluster that each keep their own store number their alerts alike.
 */
export function broadcastKey(event: string, payload: unknown): string | null {
  const p = (payload ?? {}) as { id?: unknown; sensorId?: unknown };
  if ((event === 'alert' || event === 'alert:update') && p.id !== undefined)
    return `alert:${String(p.sensorId)}:${String(p.id)}`;
  if (event === 'sensor:status' && typeof p.id === 'string') return `status:${p.id}`;
  if (event === 'model:progress' && typeof p.sensorId === 'string') return `progress:${p.sensorId}`;
  return null;
}

interface PendingBroadcast {
  event: string;
  payload: unknown;
}

interface Client {
  socket: LiveSocket;
  /** Sensors whose columns and scores it receives; '*' = scores of all. */
  subs: Set<string>;
  columns: Map<string, ColumnsEvent[]>;
  scores: Map<string, ScoreEvent[]>;
  /** Broadcasts waiting, in order, by {@link broadcastKey} (or a unique key when it has none). */
  broadcasts: Map<string, PendingBroadcast>;
  dropped: number;
  coalesced: number;
}

/** One client's flow-control counters (for tests and diagnostics). */
export interface LiveClientStats {
  pendingBroadcasts: number;
  pendingColumns: number;
  pendingScores: number;
  dropped: number;
  coalesced: number;
}

/** The events that leave one instance for the dashboards of the others (`cluster/live-relay.ts`). */
export type RelayedEvent =
  'columns' | 'score' | 'alert' | 'alert:update' | 'sensor:status' | 'model:progress';

export class LiveHub {
  readonly #clients = new Map<string, Client>();
  readonly opts: LiveHubOptions;
  /**
   * Where the events made here also go (the other instances of a cluster), or null alone. What comes from
   * there enters through {@link receive} and is not sent on again.
   */
  relay: ((event: RelayedEvent, payload: unknown) => void) | null = null;
  #dropped = 0;
  #unique = 0;

  constructor(opts: Partial<LiveHubOptions> = {}) {
    this.opts = { ...LIVE_HUB_DEFAULTS, ...opts };
  }

  get clients(): number {
    return this.#clients.size;
  }

  get dropped(): number {
    return this.#dropped;
  }

  add(socket: LiveSocket): void {
    const c: Client = {
      socket,
      subs: new Set(),
      columns: new Map(),
      scores: new Map(),
      broadcasts: new Map(),
      dropped: 0,
      coalesced: 0,
    };
    this.#clients.set(socket.id, c);
    socket.onDrain(() => this.#flush(c));
  }

  remove(id: string): void {
    this.#clients.delete(id);
  }

  subscribe(id: string, sensorId: string): void {
    this.#clients.get(id)?.subs.add(sensorId);
  }

  unsubscribe(id: string, sensorId?: string): void {
    const c = this.#clients.get(id);
    if (!c) return;
    if (sensorId === undefined) c.subs.clear();
    else c.subs.delete(sensorId);
    for (const s of sensorId === undefined ? [...c.columns.keys()] : [sensorId]) c.columns.delete(s);
  }

  subscribed(id: string, sensorId: string): boolean {
    return this.#clients.get(id)?.subs.has(sensorId) ?? false;
  }

  stats(id: string): LiveClientStats | null {
    const c = this.#clients.get(id);
    if (!c) return null;
    const count = <T>(m: Map<string, T[]>, n: (x: T) => number) =>
      [...m.values()].reduce((sum, list) => sum + list.reduce((k, x) => k + n(x), 0), 0);
    return {
      pendingBroadcasts: c.broadcasts.size,
      pendingColumns: count(c.columns, (e) => e.nColumns),
      pendingScores: count(c.scores, () => 1),
      dropped: c.dropped,
      coalesced: c.coalesced,
    };
  }

  /**
   * To every client (alerts, status, model progress). A slow client's wait in order; a newer state of the
   * same alert, sensor or fit replaces the waiting one (a new alert stays an `alert` event, with the newer
   * content); past `maxPendingBroadcasts` the oldest is dropped and counted.
   */
  broadcast(event: string, payload: unknown): void {
    this.#broadcast(event, payload);
    if (isRelayed(event)) this.relay?.(event, payload);
  }

  /** An event of another instance (its dashboards got it there): to the clients here, like one made here. */
  receive(event: RelayedEvent, payload: unknown): void {
    if (event === 'columns') this.#columns(payload as ColumnsEvent);
    else if (event === 'score') this.#score(payload as ScoreEvent);
    else this.#broadcast(event, payload);
  }

  #broadcast(event: string, payload: unknown): void {
    const key = broadcastKey(event, payload);
    for (const c of this.#clients.values()) {
      if (c.broadcasts.size === 0 && c.socket.backlog() < this.opts.maxBacklog) {
        c.socket.emit(event, payload);
        continue;
      }
      const waiting = key === null ? undefined : c.broadcasts.get(key);
      if (waiting) {
        waiting.payload = payload;
        if (waiting.event !== 'alert') waiting.event = event;
        c.coalesced++;
        continue;
      }
      c.broadcasts.set(key ?? `#${this.#unique++}`, { event, payload });
      if (c.broadcasts.size > this.opts.maxPendingBroadcasts) {
        const oldest = c.broadcasts.keys().next().value as string;
        c.broadcasts.delete(oldest);
        this.#drop(c, 1);
      }
    }
  }

  /** Columns to the subscribers of the sensor. */
  columns(ev: ColumnsEvent): void {
    this.#columns(ev);
    this.relay?.('columns', ev);
  }

  #columns(ev: ColumnsEvent): void {
    for (const c of this.#clients.values()) if (c.subs.has(ev.sensorId)) this.sendColumns(c.socket.id, ev);
  }

  /** Sends columns to one client (also used for a subscription's backfill). */
  sendColumns(id: string, ev: ColumnsEvent): void {
    const c = this.#clients.get(id);
    if (!c) return;
    const pending = c.columns.get(ev.sensorId);
    if (!pending && c.socket.backlog() < this.opts.maxBacklog) {
      c.socket.emit('columns', ev);
      return;
    }
    const list = pending ?? [];
    const last = list.at(-1);
    if (last && contiguous(last, ev)) list[list.length - 1] = concatColumns(last, ev);
    else list.push(ev);
    let total = list.reduce((n, e) => n + e.nColumns, 0);
    while (total > this.opts.maxPendingColumns && list.length > 0) {
      const head = list[0];
      const excess = total - this.opts.maxPendingColumns;
      if (head.nColumns <= excess) {
        list.shift();
        total -= head.nColumns;
      } else {
        list[0] = dropFirstColumns(head, excess);
        total -= excess;
      }
      this.#drop(c, 1);
    }
    c.columns.set(ev.sensorId, list);
  }

  score(ev: ScoreEvent): void {
    this.#score(ev);
    this.relay?.('score', ev);
  }

  #score(ev: ScoreEvent): void {
    for (const c of this.#clients.values()) {
      if (!c.subs.has(ev.sensorId) && !c.subs.has('*')) continue;
      const pending = c.scores.get(ev.sensorId);
      if (!pending && c.socket.backlog() < this.opts.maxBacklog) {
        c.socket.emit('score', ev);
        continue;
      }
      const list = pending ?? [];
      list.push(ev);
      if (list.length > this.opts.maxPendingScores) {
        list.shift();
        this.#drop(c, 1);
      }
      c.scores.set(ev.sensorId, list);
    }
  }

  #flush(c: Client): void {
    if (!this.#clients.has(c.socket.id)) return;
    // Broadcasts first (and all at once: they are few after coalescing), so that alerts and status are not
    // held behind spectrogram columns.
    if (c.broadcasts.size > 0) {
      if (c.socket.backlog() >= this.opts.maxBacklog) return;
      const list = [...c.broadcasts.values()];
      c.broadcasts.clear();
      for (const b of list) c.socket.emit(b.event, b.payload);
    }
    for (const [sensor, list] of c.columns) {
      if (c.socket.backlog() >= this.opts.maxBacklog) return;
      c.columns.delete(sensor);
      if (c.subs.has(sensor)) for (const ev of list) c.socket.emit('columns', ev);
    }
    for (const [sensor, list] of c.scores) {
      if (c.socket.backlog() >= this.opts.maxBacklog) return;
      c.scores.delete(sensor);
      for (const ev of list) c.socket.emit('score', ev);
    }
  }

  #drop(c: Client, n: number): void {
    c.dropped += n;
    this.#dropped += n;
    this.opts.onDropped?.(n);
  }
}

const RELAYED = new Set<string>(['alert', 'alert:update', 'sensor:status', 'model:progress']);
const isRelayed = (event: string): event is RelayedEvent => RELAYED.has(event);

const sameShape = (a: ColumnsEvent, b: ColumnsEvent) =>
  a.sensorId === b.sensorId &&
  a.nMels === b.nMels &&
  a.scored === b.scored &&
  a.hopSeconds === b.hopSeconds &&
  a.anomalyScale === b.anomalyScale &&
  a.dbRange[0] === b.dbRange[0] &&
  a.dbRange[1] === b.dbRange[1];

/** `b` starts where `a` ends (within a tenth of a hop). */
export function contiguous(a: ColumnsEvent, b: ColumnsEvent): boolean {
  const hopMs = a.hopSeconds * 1000;
  return sameShape(a, b) && Math.abs(a.t0 + a.nColumns * hopMs - b.t0) < hopMs / 10;
}

export function concatColumns(a: ColumnsEvent, b: ColumnsEvent): ColumnsEvent {
  const cat = (x: Uint8Array, y: Uint8Array) => {
    const out = new Uint8Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return {
    ...a,
    nColumns: a.nColumns + b.nColumns,
    spectrogram: cat(a.spectrogram, b.spectrogram),
    anomaly: cat(a.anomaly, b.anomaly),
    melHz: a.melHz ?? b.melHz,
  };
}

export function dropFirstColumns(a: ColumnsEvent, n: number): ColumnsEvent {
  return {
    ...a,
    t0: a.t0 + n * a.hopSeconds * 1000,
    nColumns: a.nColumns - n,
    spectrogram: a.spectrogram.slice(n * a.nMels),
    anomaly: a.anomaly.slice(n * a.nMels),
  };
}
