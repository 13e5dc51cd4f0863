/**
 * The live store: the `/live` socket's connection state and what it pushes (sensor statuses, alerts, scores,
 * model progress), with REST for the initial loads. Columns are not kept here: they go straight to the
 * sensor view's listeners (they are bulky and only one view draws them).
 *
 * Subscriptions are reference-counted and re-sent after every reconnect.
 */
import { reactive, shallowReactive } from 'vue';
import type { Api } from '../lib/api';
import {
  DEFAULT_BACKFILL_SECONDS,
  type Alert,
  type ColumnsEvent,
  type FitProgressEvent,
  type ScoreEvent,
  type SensorDeletedEvent,
  type SensorStatus,
} from '../lib/contracts';
import { asBytes } from '../lib/paint';
import { ScoreBuffer } from '../lib/scores';

/** The part of a socket.io client socket the store uses (a fake in tests). */
export interface LiveSocket {
  connected: boolean;
  on(event: string, listener: (...args: never[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'error';

/** Overview sparklines show this much history. */
export const SPARK_MS = 5 * 60_000;
/** Alerts kept besides the unresolved ones. */
const KEEP_RESOLVED = 200;

export interface LiveState {
  connection: ConnectionState;
  error: string | null;
  sensors: Record<string, SensorStatus>;
  alerts: Record<number, Alert>;
  progress: Record<string, FitProgressEvent>;
  /** Bumped on every score of a sensor: charts watch it and read `scores(id)`. */
  scoreTicks: Record<string, number>;
  loaded: boolean;
}

type Listener<T> = (value: T) => void;

export class LiveStore {
  readonly state: LiveState = reactive({
    connection: 'idle',
    error: null,
    sensors: {},
    alerts: shallowReactive({}) as Record<number, Alert>,
    progress: {},
    scoreTicks: {},
    loaded: false,
  });

  private socket: LiveSocket | null = null;
  private readonly buffers = new Map<string, ScoreBuffer>();
  private readonly subscriptions = new Map<string, { refs: number; backfillSeconds: number }>();
  private readonly columnListeners = new Set<Listener<ColumnsEvent>>();
  private readonly newAlertListeners = new Set<Listener<Alert>>();
  private readonly alertUpdateListeners = new Set<Listener<Alert>>();
  /** Columns received since start (the browser tests' build exposes the store as `window.__harkLive`). */
  columnsReceived = 0;

  connect(socket: LiveSocket): void {
    this.disconnect();
    this.socket = socket;
    this.state.connection = 'connecting';
    socket.on('connect', () => {
      this.state.connection = 'connected';
      this.state.error = null;
      for (const [sensorId, sub] of this.subscriptions) this.sendSubscribe(sensorId, sub.backfillSeconds);
    });
    socket.on('disconnect', (reason: string) => {
      this.state.connection = 'disconnected';
      this.state.error = reason === 'io client disconnect' ? null : `disconnected (${reason})`;
    });
    socket.on('connect_error', (err: Error) => {
      this.state.connection = 'error';
      this.state.error = err?.message ?? String(err);
    });
    socket.on('sensor:status', (s: SensorStatus) => this.onStatus(s));
    socket.on('sensor:deleted', (e: SensorDeletedEvent) => this.onDeleted(e.sensorId));
    socket.on('alert', (a: Alert) => this.onAlert(a, true));
    socket.on('alert:update', (a: Alert) => this.onAlert(a, false));
    socket.on('score', (e: ScoreEvent) => this.onScore(e));
    socket.on('columns', (e: ColumnsEvent) => this.onColumns(e));
    socket.on('model:progress', (p: FitProgressEvent) => this.onProgress(p));
    if (socket.connected) this.state.connection = 'connected';
    else socket.connect();
  }

  disconnect(): void {
    this.socket?.disconnect();
    this.socket = null;
    this.state.connection = 'idle';
  }

  /** Sensors, unresolved alerts and recent scores from REST (call after connecting). */
  async load(api: Api, now = Date.now()): Promise<void> {
    const [sensors, open, acknowledged] = await Promise.all([
      api.sensors(),
      api.alerts({ state: 'open', limit: 200, offset: 0 }),
      api.alerts({ state: 'acknowledged', limit: 200, offset: 0 }),
    ]);
    for (const s of sensors) this.onStatus(s);
    for (const a of [...open.items, ...acknowledged.items]) this.state.alerts[a.id] = a;
    this.state.loaded = true;
    await Promise.all(
      sensors.map(async (s) => {
        try {
          this.buffer(s.id).merge(await api.scores(s.id, now - SPARK_MS, now, 2000));
          this.bump(s.id);
        } catch {
          // A sparkline without history still fills from live scores.
        }
      }),
    );
  }

  /** Replaces one sensor's score history (sensor view: a longer window than the sparklines). */
  mergeScores(sensorId: string, points: readonly { t: number; score: number }[]): void {
    this.buffer(sensorId).merge(points);
    this.bump(sensorId);
  }

  // ---- socket events ------------------------------------------------------------------------------

  onStatus(s: SensorStatus): void {
    this.state.sensors[s.id] = s;
  }

  /** An admin deleted the sensor: it leaves the list (its alerts stay, as on the server). */
  onDeleted(sensorId: string): void {
    delete this.state.sensors[sensorId];
  }

  onAlert(a: Alert, isNew: boolean): void {
    const known = this.state.alerts[a.id];
    this.state.alerts[a.id] = a;
    if (isNew && !known) for (const l of this.newAlertListeners) l(a);
    for (const l of this.alertUpdateListeners) l(a);
    this.pruneAlerts();
  }

  onScore(e: ScoreEvent): void {
    this.buffer(e.sensorId).push(e.t, e.score);
    // Tiles show the live score: status messages are sent only when a state changes.
    const s = this.state.sensors[e.sensorId];
    if (s) s.lastScore = e.score;
    this.bump(e.sensorId);
  }

  onColumns(e: ColumnsEvent): void {
    const event: ColumnsEvent = { ...e, spectrogram: asBytes(e.spectrogram), anomaly: asBytes(e.anomaly) };
    this.columnsReceived += e.nColumns;
    for (const l of this.columnListeners) l(event);
  }

  onProgress(p: FitProgressEvent): void {
    this.state.progress[p.sensorId] = p;
    const s = this.state.sensors[p.sensorId];
    if (s) s.model = { ...s.model, progress: p };
  }

  // ---- subscriptions and listeners ----------------------------------------------------------------

  /** Subscribes to a sensor's columns and scores (`'*'`: every sensor's scores); returns the unsubscribe. */
  subscribe(sensorId: string, backfillSeconds = DEFAULT_BACKFILL_SECONDS): () => void {
    const sub = this.subscriptions.get(sensorId);
    if (sub) {
      sub.refs++;
      if (backfillSeconds !== sub.backfillSeconds) {
        sub.backfillSeconds = backfillSeconds;
        this.sendSubscribe(sensorId, backfillSeconds);
      }
    } else {
      this.subscriptions.set(sensorId, { refs: 1, backfillSeconds });
      this.sendSubscribe(sensorId, backfillSeconds);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const s = this.subscriptions.get(sensorId);
      if (!s) return;
      if (--s.refs <= 0) {
        this.subscriptions.delete(sensorId);
        // Not in the contract yet: servers that do not know it ignore it (columns are filtered by id anyway).
        if (this.socket?.connected) this.socket.emit('unsubscribe', { sensorId });
      }
    };
  }

  /** Sensor ids with a live subscription (tests, debugging). */
  subscribed(): string[] {
    return [...this.subscriptions.keys()];
  }

  onColumnsEvent(l: Listener<ColumnsEvent>): () => void {
    this.columnListeners.add(l);
    return () => this.columnListeners.delete(l);
  }

  onNewAlert(l: Listener<Alert>): () => void {
    this.newAlertListeners.add(l);
    return () => this.newAlertListeners.delete(l);
  }

  onAlertChange(l: Listener<Alert>): () => void {
    this.alertUpdateListeners.add(l);
    return () => this.alertUpdateListeners.delete(l);
  }

  scores(sensorId: string): ScoreBuffer {
    return this.buffer(sensorId);
  }

  alertsOf(sensorId: string): Alert[] {
    return Object.values(this.state.alerts).filter((a) => a.sensorId === sensorId);
  }

  private sendSubscribe(sensorId: string, backfillSeconds: number): void {
    if (!this.socket?.connected) return;
    this.socket.emit(
      'subscribe',
      { sensorId, backfillSeconds },
      (ack: { ok: true; status?: SensorStatus } | { ok: false; error: string }) => {
        if (ack && ack.ok && ack.status && 'id' in ack.status) this.onStatus(ack.status);
        else if (ack && !ack.ok) this.state.error = `subscribe ${sensorId}: ${ack.error}`;
      },
    );
  }

  private buffer(sensorId: string): ScoreBuffer {
    let b = this.buffers.get(sensorId);
    if (!b) this.buffers.set(sensorId, (b = new ScoreBuffer(SPARK_MS, 5000)));
    return b;
  }

  private bump(sensorId: string): void {
    this.state.scoreTicks[sensorId] = (this.state.scoreTicks[sensorId] ?? 0) + 1;
  }

  private pruneAlerts(): void {
    const resolved = Object.values(this.state.alerts).filter((a) => a.state === 'resolved');
    if (resolved.length <= KEEP_RESOLVED) return;
    resolved.sort((a, b) => a.start - b.start);
    for (const a of resolved.slice(0, resolved.length - KEEP_RESOLVED)) delete this.state.alerts[a.id];
  }
}

export const live = new LiveStore();
