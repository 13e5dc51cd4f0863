import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api } from '../src/lib/api';
import type { Health } from '../src/lib/contracts';
import { followHealth, HealthStore } from '../src/stores/health';
import { LiveStore } from '../src/stores/live';

const OK = { status: 'ok' } as Health;
const DOWN = { status: 'degraded' } as Health;

/** A `health()` whose answers the test releases one by one. */
function server() {
  const pending: ((h: Health) => void)[] = [];
  let fail: Error | null = null;
  const get = vi.fn(() =>
    fail ? Promise.reject(fail) : new Promise<Health>((resolve) => pending.push(resolve)),
  );
  return {
    get,
    answer(h: Health) {
      const r = pending.shift();
      if (!r) throw new Error('no request waits for an answer');
      r(h);
    },
    failWith(e: Error | null) {
      fail = e;
    },
    get waiting() {
      return pending.length;
    },
  };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

describe('health store', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('asks at once on start, then every 10 s', async () => {
    const s = server();
    const store = new HealthStore(10_000, () => 42);
    const first = store.start(s.get);
    expect(s.get).toHaveBeenCalledTimes(1);
    s.answer(DOWN);
    await first;
    expect(store.state).toEqual({ health: DOWN, checkedAt: 42, error: null });
    expect(store.degraded).toBe(true);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(s.get).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.get).toHaveBeenCalledTimes(2);
    s.answer(OK);
    await flush();
    expect(store.degraded).toBe(false);
    store.stop();
  });

  it('a check asked while one runs (a 503, a reconnect) makes one more after it, not a pile', async () => {
    const s = server();
    const store = new HealthStore();
    void store.start(s.get);
    // The answer in flight may predate the 503 that prompted these.
    const asked = [store.check(), store.check(), store.check()];
    s.answer(OK);
    await flush();
    expect(s.get).toHaveBeenCalledTimes(2);
    expect(s.waiting).toBe(1);
    s.answer(DOWN);
    await Promise.all(asked);
    expect(store.state.health).toBe(DOWN);
    expect(s.get).toHaveBeenCalledTimes(2);
    store.stop();
  });

  it('keeps the last answer when the server does not answer, and says why', async () => {
    const s = server();
    const store = new HealthStore();
    const first = store.start(s.get);
    s.answer(DOWN);
    await first;
    s.failWith(new TypeError('Failed to fetch'));
    await store.check();
    expect(store.state.health).toBe(DOWN);
    expect(store.state.error).toBe('Failed to fetch');
    s.failWith(null);
    const again = store.check();
    s.answer(OK);
    await again;
    expect(store.state).toMatchObject({ health: OK, error: null });
    store.stop();
  });

  it('signed out: stops polling, forgets, and drops an answer that comes late', async () => {
    const s = server();
    const store = new HealthStore();
    void store.start(s.get);
    store.stop();
    s.answer(DOWN);
    await flush();
    expect(store.state).toEqual({ health: null, checkedAt: null, error: null });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(s.get).toHaveBeenCalledTimes(1);
    await store.check();
    expect(s.get).toHaveBeenCalledTimes(1);
  });
});

describe('following a session', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A REST client whose `/api/health` answers `health` and whose other paths answer `status`. */
  function session(status: number) {
    const paths: string[] = [];
    const fetchImpl = async (url: string, init?: RequestInit) => {
      paths.push(`${init?.method} ${url}`);
      if (url === '/api/health') return new Response(JSON.stringify(OK), { status: 200 });
      return new Response(JSON.stringify({ statusCode: status, error: 'x', message: 'store down' }), {
        status,
        headers: { 'Retry-After': '5' },
      });
    };
    return {
      api: new Api('t', fetchImpl),
      paths,
      healthCalls: () => paths.filter((p) => p.endsWith('/api/health')).length,
    };
  }

  it('asks at once after a 503 and after a socket reconnect; tells only refused changes', async () => {
    const { api, healthCalls } = session(503);
    const live = new LiveStore();
    const store = new HealthStore();
    const refused: string[] = [];
    const stop = followHealth(store, api, live, (e) => refused.push(e.message));
    await flush();
    expect(healthCalls()).toBe(1);
    expect(store.state.health).toEqual(OK);

    await api.ack(3).catch(() => undefined);
    await flush();
    expect(healthCalls()).toBe(2);
    await api.alerts({ limit: 25, offset: 0 }).catch(() => undefined);
    await flush();
    expect(healthCalls()).toBe(3);
    expect(refused).toEqual([
      'Not applied: the server cannot store changes right now, so nothing was changed (see the notice at the top). Retry in 5 s.',
    ]);

    // The first connect after signing in asks nothing more; a reconnect after a drop does.
    live.state.connection = 'connecting';
    await flush();
    live.state.connection = 'connected';
    await flush();
    expect(healthCalls()).toBe(3);
    live.state.connection = 'disconnected';
    await flush();
    live.state.connection = 'connected';
    await flush();
    expect(healthCalls()).toBe(4);

    stop();
    expect(store.state.health).toBeNull();
    await api.ack(3).catch(() => undefined);
    live.state.connection = 'error';
    await flush();
    live.state.connection = 'connected';
    await vi.advanceTimersByTimeAsync(30_000);
    expect(healthCalls()).toBe(4);
    expect(refused).toHaveLength(1);
  });

  it('other errors ask nothing', async () => {
    const { api, healthCalls } = session(409);
    const stop = followHealth(new HealthStore(), api, new LiveStore(), () => {
      throw new Error('not a 503');
    });
    await flush();
    await api.ack(3).catch(() => undefined);
    await flush();
    expect(healthCalls()).toBe(1);
    stop();
  });
});
