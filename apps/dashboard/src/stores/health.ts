/**
 * The server's health (`GET /api/health`) while signed in: asked at once on `start`, every
 * {@link HEALTH_POLL_MS}, and again at once when asked (`check`: a socket reconnect, an action answering 503).
 * The degraded banner reads `state.health`.
 */
import { shallowReactive, watch } from 'vue';
import type { Api, HttpError } from '../lib/api';
import { HEALTH_POLL_MS } from '../lib/degraded';
import type { Health } from '../lib/contracts';
import type { LiveStore } from './live';

export interface HealthState {
  /** The last answer (null before the first, and after `stop`). */
  health: Health | null;
  /** Browser ms of the last answer. */
  checkedAt: number | null;
  /** Why the last check failed (the server is not answering: the header's connection state says so too). */
  error: string | null;
}

export class HealthStore {
  readonly state: HealthState = shallowReactive({ health: null, checkedAt: null, error: null });

  private get: (() => Promise<Health>) | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<void> | null = null;
  /** A check was asked while one ran: its answer may predate what prompted the ask, so one more follows. */
  private again = false;
  /** Bumped by `start` and `stop`: an answer to an earlier session's request is dropped. */
  private generation = 0;

  constructor(
    private readonly everyMs = HEALTH_POLL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts polling with `get` (the signed-in REST client's `health`); checks at once. */
  start(get: () => Promise<Health>): Promise<void> {
    this.stop();
    this.get = get;
    this.timer = setInterval(() => void this.check(), this.everyMs);
    return this.check();
  }

  /** Stops polling and forgets the last answer (signed out). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.get = null;
    this.generation++;
    this.running = null;
    this.again = false;
    Object.assign(this.state, { health: null, checkedAt: null, error: null });
  }

  /** Asks now; a call while a check runs makes one more check after it. Resolves when the answer is in. */
  check(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const get = this.get;
    if (!get) return Promise.resolve();
    const generation = this.generation;
    const run = (async () => {
      do {
        this.again = false;
        try {
          const health = await get();
          if (generation !== this.generation) return;
          Object.assign(this.state, { health, checkedAt: this.now(), error: null });
        } catch (e) {
          if (generation !== this.generation) return;
          // The last answer stays: a server that does not answer is shown by the connection state.
          this.state.error = (e as Error).message;
        }
      } while (this.again && generation === this.generation);
    })().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  /** Whether the server said degraded in its last answer. */
  get degraded(): boolean {
    return this.state.health?.status === 'degraded';
  }
}

/**
 * Follows a signed-in session: polls `api.health()`; asks again at once when the server answers 503 (the store
 * failed under the request: the banner should not wait for the next poll) and when the live socket connects
 * again (it may follow an outage); `onRefused` hears each change (any method but GET) refused with 503.
 * Returns the stop (signed out).
 */
export function followHealth(
  store: HealthStore,
  api: Api,
  live: LiveStore,
  onRefused: (e: HttpError) => void,
): () => void {
  void store.start(() => api.health());
  const offUnavailable = api.onUnavailable((e, method) => {
    void store.check();
    if (method !== 'GET') onRefused(e);
  });
  const offConnection = watch(
    () => live.state.connection,
    (c, before) => {
      // A reconnect (socket.io's own, after a drop), not the first connect after signing in (`start` asked).
      if (c === 'connected' && (before === 'disconnected' || before === 'error')) void store.check();
    },
  );
  return () => {
    offUnavailable();
    offConnection();
    store.stop();
  };
}

export const health = new HealthStore();
