/**
 * The data path's alert writes (open, signal updates, clip, recovery at start), run one after another in the
 * order they were made, kept in order in an in-memory queue while the store fails (a full disk, a lost
 * database) and written by the storage health's retry once it takes writes again. Past its bound the queue
 * keeps growing with a loud error each minute: an alert is never dropped. An alert opened while the store fails gets a provisional id (< 0) that the sensor's
 * tracker carries on with; it is published to dashboards and webhooks once it is stored, with its real id.
 */
import type { Alert } from '@hark/protocol';
import type { AlertPatch, NewAlert, NewOccurrence } from '../store/alert.repository.js';
import { isStorageFailure } from '../store/storage-health.js';
import type { HarkStore } from '../store/store.js';

/**
 * Writes the queue is meant to hold while the store fails. Updates of one alert merge into one queued write, so
 * an alert needs at most three (open, signal, clip; about 1 KB each): 1000 hold the alerts of a long outage
 * (hundreds of alerts) in about 1 MB. Past it writes are still kept (an alert is what an operator must not
 * lose) and an ERROR is logged each `OVER_BOUND_LOG_MS` and counted.
 */
export const MAX_QUEUED_ALERT_WRITES = 1000;

/** Least time between two over-bound ERROR lines, ms: loud, not a flood. */
const OVER_BOUND_LOG_MS = 60_000;

type AlertWrite =
  | { type: 'open'; key: number; alert: NewAlert }
  | { type: 'update'; id: number; patch: AlertPatch }
  | { type: 'recur'; id: number; occurrence: NewOccurrence }
  | { type: 'clip'; id: number; clip: { start: number; seconds: number } }
  | { type: 'recover'; end: number };

export interface AlertWritesDeps {
  store: HarkStore;
  /** A stored alert goes to the dashboards and the bus (`alert` when new). */
  publish: (alert: Alert, event: 'alert' | 'alert:update') => unknown;
  /** An alert opened while the store failed is stored: its provisional id and its real one. */
  onStored?: (provisional: number, id: number) => void;
  /** A queued write was refused for good by the store (not a storage failure) and left out: logged. */
  onDropped?: () => void;
  /** A write was queued past the bound (kept in memory): `hark_alert_writes_over_bound_total`. */
  onOverBound?: () => void;
  log: (line: string) => void;
  max?: number;
  now?: () => number;
}

export class AlertWrites {
  readonly #queue: AlertWrite[] = [];
  /** Provisional id -> stored id. */
  readonly #ids = new Map<number, number>();
  #nextKey = 0;
  readonly #max: number;
  #overBoundLoggedAt = -Infinity;
  /** The write in progress: each write starts once the one before it ended, so they commit in order. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: AlertWritesDeps) {
    this.#max = d.max ?? MAX_QUEUED_ALERT_WRITES;
    d.store.health.addRetry('alerts', () => this.drain());
  }

  /** Writes waiting. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Resolves once every write made so far has ended (stored, or queued for the retry). */
  settled(): Promise<void> {
    return this.#tail.then(() => {});
  }

  /** The stored id of `id` (itself when stored, the real id of a provisional one), or null while queued. */
  storedId(id: number): number | null {
    return id > 0 ? id : (this.#ids.get(id) ?? null);
  }

  /**
   * A condition began: folds it into the alert `findTarget` names (read after every earlier write, so it sees
   * the close that came just before) or opens a new one.
   */
  opened(alert: NewAlert, findTarget: () => Promise<Alert | null>): Promise<Alert> {
    return this.#serial(async () => {
      const target = await findTarget();
      return target ? this.#recur(target, alert) : this.#open(alert);
    });
  }

  /** Stores a new alert, or queues it and resolves to it under a provisional id (< 0, not published). */
  open(alert: NewAlert): Promise<Alert> {
    return this.#serial(() => this.#open(alert));
  }

  async #open(alert: NewAlert): Promise<Alert> {
    const stored = await this.#now('alert', () => this.d.store.alerts.open(alert));
    if (stored) {
      await this.d.publish(stored, 'alert');
      return stored;
    }
    const key = --this.#nextKey;
    this.#push({ type: 'open', key, alert });
    return provisional(key, alert);
  }

  /**
   * Folds a repeat into stored alert `target` (see `AlertRepository.recur`); while the store fails it is
   * queued and `target` is returned as it will be (active again).
   */
  recur(target: Alert, occurrence: NewOccurrence): Promise<Alert> {
    return this.#serial(() => this.#recur(target, occurrence));
  }

  async #recur(target: Alert, occurrence: NewOccurrence): Promise<Alert> {
    const stored = await this.#now('alert', () => this.d.store.alerts.recur(target.id, occurrence));
    if (stored) {
      await this.d.publish(stored, 'alert:update');
      return stored;
    }
    this.#push({ type: 'recur', id: target.id, occurrence });
    return { ...target, active: true, end: null, clearedAt: null, count: target.count + 1 };
  }

  update(id: number, patch: AlertPatch): Promise<void> {
    return this.#serial(async () => {
      const real = this.storedId(id);
      const stored =
        real === null ? null : await this.#now('alert', () => this.d.store.alerts.update(real, patch));
      if (stored) {
        await this.d.publish(stored, 'alert:update');
        return;
      }
      // Merge into the alert's last queued write when that is an update (never across a queued repeat).
      const queued = this.#queue.findLast((w) => w.type !== 'open' && w.type !== 'recover' && w.id === id);
      if (queued?.type === 'update') queued.patch = { ...queued.patch, ...patch };
      else this.#push({ type: 'update', id, patch });
    });
  }

  /** Records that the alert's clip was written. */
  clip(id: number, clip: { start: number; seconds: number }): Promise<void> {
    return this.#serial(async () => {
      const real = this.storedId(id);
      const stored =
        real === null ? null : await this.#now('alert', () => this.d.store.alerts.setClip(real, clip));
      if (stored) await this.d.publish(stored, 'alert:update');
      else this.#push({ type: 'clip', id, clip });
    });
  }

  /** Closes the alerts a crash left active. */
  recover(end: number): Promise<void> {
    return this.#serial(async () => {
      const changed = await this.#now('alert', () => this.d.store.alerts.deactivateAll(end));
      if (changed) for (const a of changed) await this.d.publish(a, 'alert:update');
      else this.#push({ type: 'recover', end });
    });
  }

  /** Runs `write` after every write made before it. */
  #serial<T>(write: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(write);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Writes what waits, in order, after the writes under way; rejects (keeping the rest) when the store still fails. */
  drain(): Promise<number> {
    return this.#serial(() => this.#drain());
  }

  async #drain(): Promise<number> {
    while (this.#queue.length > 0) {
      const w = this.#queue[0];
      let out: { alerts: Alert[]; event: 'alert' | 'alert:update' };
      try {
        out = await this.#write(w);
      } catch (err) {
        if (isStorageFailure(err)) throw err;
        this.d.onDropped?.();
        this.d.log(`alert write dropped (${describe(w)}): ${(err as Error).message}`);
        out = { alerts: [], event: 'alert:update' };
      }
      this.#queue.shift();
      this.d.store.health.setWaiting('alerts', this.#queue.length);
      for (const a of out.alerts) await this.d.publish(a, out.event);
    }
    return 0;
  }

  async #write(w: AlertWrite): Promise<{ alerts: Alert[]; event: 'alert' | 'alert:update' }> {
    const repo = this.d.store.alerts;
    if (w.type === 'open') {
      const stored = await repo.open(w.alert);
      this.#ids.set(w.key, stored.id);
      this.d.onStored?.(w.key, stored.id);
      return { alerts: [stored], event: 'alert' };
    }
    if (w.type === 'recover') return { alerts: await repo.deactivateAll(w.end), event: 'alert:update' };
    const id = this.storedId(w.id);
    // The alert's opening failed for good (a non-storage error, logged): nothing to change.
    if (id === null) return { alerts: [], event: 'alert:update' };
    const stored =
      w.type === 'update'
        ? await repo.update(id, w.patch)
        : w.type === 'recur'
          ? await repo.recur(id, w.occurrence)
          : await repo.setClip(id, w.clip);
    return { alerts: [stored], event: 'alert:update' };
  }

  /** Runs `write` now when nothing waits before it; a storage failure is reported and gives null. */
  async #now<T>(op: string, write: () => Promise<T>): Promise<T | null> {
    if (this.#queue.length > 0) return null;
    try {
      return await write();
    } catch (err) {
      if (!isStorageFailure(err)) throw err;
      this.d.store.health.failed(op, err);
      return null;
    }
  }

  #push(w: AlertWrite): void {
    this.#queue.push(w);
    if (this.#queue.length > this.#max) {
      this.d.onOverBound?.();
      const now = (this.d.now ?? Date.now)();
      if (now - this.#overBoundLoggedAt >= OVER_BOUND_LOG_MS) {
        this.#overBoundLoggedAt = now;
        this.d.log(
          `STORAGE ERROR: ${this.#queue.length} alert writes wait for the store, past the bound of ${this.#max}; ` +
            `all are kept in memory (never dropped) and written in order once it takes writes (latest: ${describe(w)})`,
        );
      }
    }
    this.d.store.health.setWaiting('alerts', this.#queue.length);
  }
}

function describe(w: AlertWrite): string {
  if (w.type === 'open') return `open ${w.alert.kind} alert of ${w.alert.sensorId} at ${w.alert.start}`;
  if (w.type === 'recover') return 'close the alerts left active';
  return `${w.type} of alert ${w.id}`;
}

/** What an alert will look like once stored, under a provisional id. */
function provisional(id: number, a: NewAlert): Alert {
  return {
    id,
    sensorId: a.sensorId,
    kind: a.kind,
    state: 'open',
    active: true,
    start: a.start,
    end: null,
    peakScore: a.peakScore,
    peakAt: a.peakAt,
    threshold: a.threshold,
    boxes: a.boxes ?? [],
    acknowledgedBy: null,
    acknowledgedAt: null,
    resolvedBy: null,
    resolvedAt: null,
    annotations: [],
    clip: { available: false, start: null, seconds: null },
    feedback: null,
    severity: a.severity ?? 'warning',
    count: 1,
    occurrences: [
      {
        start: a.start,
        end: null,
        peakScore: a.peakScore,
        peakAt: a.peakAt,
        openedAt: a.openedAt ?? Date.now(),
        clearedAt: null,
      },
    ],
    clearedAt: null,
    autoResolved: false,
  };
}
