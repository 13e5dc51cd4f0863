import { describe, expect, it, vi } from 'vitest';
import type { Api } from '../src/lib/api';
import type { ColumnsEvent, ScoreEvent } from '../src/lib/contracts';
import { LiveStore, type LiveSocket } from '../src/stores/live';
import { alert, sensor } from './helpers';

/** A socket.io client socket stand-in: records emits, lets the test fire server events. */
class FakeSocket implements LiveSocket {
  connected = false;
  emitted: { event: string; args: unknown[] }[] = [];
  private handlers = new Map<string, ((...a: never[]) => void)[]>();
  on(event: string, fn: (...a: never[]) => void) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
    return this;
  }
  emit(event: string, ...args: unknown[]) {
    this.emitted.push({ event, args });
    const ack = args.at(-1);
    if (event === 'subscribe' && typeof ack === 'function')
      ack({ ok: true, status: sensor({ id: (args[0] as { sensorId: string }).sensorId, name: 'from ack' }) });
    return this;
  }
  fire(event: string, ...args: unknown[]) {
    for (const fn of this.handlers.get(event) ?? []) (fn as (...a: unknown[]) => void)(...args);
  }
  connect() {
    this.connected = true;
    this.fire('connect');
    return this;
  }
  disconnect() {
    this.connected = false;
    return this;
  }
  drop(reason = 'transport close') {
    this.connected = false;
    this.fire('disconnect', reason);
  }
  subscribes() {
    return this.emitted.filter((e) => e.event === 'subscribe').map((e) => e.args[0]);
  }
}

function setup() {
  const store = new LiveStore();
  const socket = new FakeSocket();
  store.connect(socket);
  return { store, socket };
}

describe('live store', () => {
  it('tracks the connection and re-subscribes after a reconnect', () => {
    const { store, socket } = setup();
    expect(store.state.connection).toBe('connected');
    const stop = store.subscribe('*');
    store.subscribe('pump-1', 60);
    expect(socket.subscribes()).toEqual([
      { sensorId: '*', backfillSeconds: 30 },
      { sensorId: 'pump-1', backfillSeconds: 60 },
    ]);
    socket.drop();
    expect(store.state.connection).toBe('disconnected');
    expect(store.state.error).toMatch(/transport close/);
    socket.emitted = [];
    socket.connect();
    expect(socket.subscribes()).toEqual([
      { sensorId: '*', backfillSeconds: 30 },
      { sensorId: 'pump-1', backfillSeconds: 60 },
    ]);
    stop();
    expect(store.subscribed()).toEqual(['pump-1']);
    expect(socket.emitted.at(-1)).toEqual({ event: 'unsubscribe', args: [{ sensorId: '*' }] });
  });

  it('reference-counts subscriptions', () => {
    const { store, socket } = setup();
    const a = store.subscribe('pump-1');
    const b = store.subscribe('pump-1');
    expect(socket.subscribes()).toHaveLength(1);
    a();
    a();
    expect(store.subscribed()).toEqual(['pump-1']);
    b();
    expect(store.subscribed()).toEqual([]);
  });

  it('takes statuses from events and subscribe acks', () => {
    const { store, socket } = setup();
    socket.fire('sensor:status', sensor({ id: 'fan-1' }));
    store.subscribe('pump-2');
    expect(Object.keys(store.state.sensors).sort()).toEqual(['fan-1', 'pump-2']);
    expect(store.state.sensors['pump-2'].name).toBe('from ack');
  });

  it('drops a sensor an admin deleted (sensor:deleted)', () => {
    const { store, socket } = setup();
    socket.fire('sensor:status', sensor({ id: 'fan-1' }));
    socket.fire('sensor:status', sensor({ id: 'pump-2' }));
    socket.fire('sensor:deleted', { sensorId: 'fan-1' });
    expect(Object.keys(store.state.sensors)).toEqual(['pump-2']);
  });

  it('reports connection errors', () => {
    const { store, socket } = setup();
    socket.fire('connect_error', new Error('invalid token'));
    expect(store.state).toMatchObject({ connection: 'error', error: 'invalid token' });
  });

  it('announces new alerts once and every update', () => {
    const { store, socket } = setup();
    const fresh = vi.fn();
    const changed = vi.fn();
    store.onNewAlert(fresh);
    store.onAlertChange(changed);
    socket.fire('alert', alert({ id: 5 }));
    socket.fire('alert', alert({ id: 5 }));
    socket.fire('alert:update', alert({ id: 5, state: 'acknowledged' }));
    expect(fresh).toHaveBeenCalledTimes(1);
    expect(changed).toHaveBeenCalledTimes(3);
    expect(store.state.alerts[5].state).toBe('acknowledged');
    expect(store.alertsOf('pump-1')).toHaveLength(1);
  });

  it('keeps scores per sensor and bumps their tick', () => {
    const { store, socket } = setup();
    const score = (t: number, s: number): ScoreEvent => ({
      sensorId: 'pump-1',
      t,
      score: s,
      threshold: 2,
      rawScore: 2 * s,
      arrivedAt: t,
    });
    socket.fire('score', score(1000, 0.5));
    socket.fire('score', score(2000, 1.5));
    expect(store.state.scoreTicks['pump-1']).toBe(2);
    expect(store.scores('pump-1').since(0)).toEqual([
      [1000, 0.5],
      [2000, 1.5],
    ]);
    store.mergeScores('pump-1', [{ t: 1500, score: 0.7 }]);
    expect(store.scores('pump-1').since(1200)).toEqual([
      [1500, 0.7],
      [2000, 1.5],
    ]);
  });

  it("puts each live score on its sensor's status (tiles show the live score, not the last status')", () => {
    const { store, socket } = setup();
    socket.fire('sensor:status', sensor({ lastScore: 0.97 }));
    socket.fire('score', {
      sensorId: 'pump-1',
      t: 5000,
      score: 8.71,
      threshold: 2,
      rawScore: 17.42,
      arrivedAt: 5000,
    } satisfies ScoreEvent);
    expect(store.state.sensors['pump-1'].lastScore).toBe(8.71);
  });

  it('hands columns to listeners as bytes and counts them', () => {
    const { store, socket } = setup();
    const got: ColumnsEvent[] = [];
    const off = store.onColumnsEvent((e) => got.push(e));
    const event = {
      sensorId: 'pump-1',
      t0: 0,
      hopSeconds: 0.01,
      nMels: 2,
      nColumns: 2,
      spectrogram: new Uint8Array([1, 2, 3, 4]).buffer,
      anomaly: new Uint8Array(4).buffer,
      dbRange: [-80, 0],
      anomalyScale: 4,
      scored: true,
    };
    socket.fire('columns', event);
    off();
    socket.fire('columns', event);
    expect(got).toHaveLength(1);
    expect(got[0].spectrogram).toBeInstanceOf(Uint8Array);
    expect([...got[0].spectrogram]).toEqual([1, 2, 3, 4]);
    expect(store.columnsReceived).toBe(4);
  });

  it('applies model progress to the sensor', () => {
    const { store, socket } = setup();
    socket.fire('sensor:status', sensor({ id: 'pump-1' }));
    socket.fire('model:progress', { sensorId: 'pump-1', stage: 'recording', done: 10, total: 60 });
    expect(store.state.progress['pump-1'].done).toBe(10);
    expect(store.state.sensors['pump-1'].model.progress?.stage).toBe('recording');
  });

  it('loads sensors, unresolved alerts and sparkline history over REST', async () => {
    const store = new LiveStore();
    const api = {
      sensors: async () => [sensor({ id: 'a' }), sensor({ id: 'b' })],
      alerts: async (f: { state: string }) => ({
        items:
          f.state === 'open'
            ? [alert({ id: 1, sensorId: 'a' })]
            : [alert({ id: 2, sensorId: 'b', state: 'acknowledged' })],
        total: 1,
        limit: 200,
        offset: 0,
      }),
      scores: async (id: string) =>
        id === 'a' ? [{ t: 9000, score: 0.3 }] : Promise.reject(new Error('no history')),
    } as unknown as Api;
    await store.load(api, 10_000);
    expect(store.state.loaded).toBe(true);
    expect(Object.keys(store.state.alerts)).toEqual(['1', '2']);
    expect(store.scores('a').since(0)).toEqual([[9000, 0.3]]);
    expect(store.scores('b').length).toBe(0);
  });
});
