/**
 * Fan-out to dashboards on `/live` with per-client flow control: a client whose connection is not keeping up
 * gets its `columns` coalesced into larger messages (and, past a bound, the oldest dropped and counted) and
 * its `score` events thinned, while alerts and status changes always go through. Other clients and the
 * ingest path never wait for a slow one.
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
  onDropped?: (messages: number) => void;
}

export const LIVE_HUB_DEFAULTS: LiveHubOptions = {
  maxBacklog: 32,
  maxPendingColumns: 3000,
  maxPendingScores: 240,
};

interface Client {
  socket: LiveSocket;
  /** Sensors whose columns and scores it receives; '*' = scores of all. */
  subs: Set<string>;
  columns: Map<string, ColumnsEvent[]>;
  scores: Map<string, ScoreEvent[]>;
  dropped: number;
}

export class LiveHub {
  readonly #clients = new Map<string, Client>();
  readonly opts: LiveHubOptions;
  #dropped = 0;

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
    const c: Client = { socket, subs: new Set(), columns: new Map(), scores: new Map(), dropped: 0 };
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

  /** To every client (alerts, status, model progress): never dropped. */
  broadcast(event: string, payload: unknown): void {
    for (const c of this.#clients.values()) c.socket.emit(event, payload);
  }

  /** Columns to the subscribers of the sensor. */
  columns(ev: ColumnsEvent): void {
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
