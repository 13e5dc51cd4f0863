import { describe, expect, test } from 'vitest';
import type { ColumnsEvent, ScoreEvent } from '@hark/protocol';
import { LiveHub, type LiveSocket } from '../../src/live/live-hub.js';

/** A socket whose transport backlog the test controls, recording what was emitted. */
class FakeTransport implements LiveSocket {
  sent: { event: string; payload: unknown }[] = [];
  queued = 0;
  #drain: (() => void)[] = [];
  constructor(readonly id: string) {}
  emit(event: string, payload: unknown) {
    this.sent.push({ event, payload });
    return true;
  }
  backlog() {
    return this.queued;
  }
  onDrain(cb: () => void) {
    this.#drain.push(cb);
  }
  drain() {
    this.queued = 0;
    for (const cb of this.#drain) cb();
  }
}

const nMels = 4;
const cols = (t0: number, n: number, v: number): ColumnsEvent => ({
  sensorId: 's1',
  t0,
  hopSeconds: 0.016,
  nMels,
  nColumns: n,
  spectrogram: new Uint8Array(n * nMels).fill(v),
  anomaly: new Uint8Array(n * nMels).fill(v + 1),
  dbRange: [-100, 20],
  anomalyScale: 2,
  scored: true,
});
const score = (t: number): ScoreEvent => ({
  sensorId: 's1',
  t,
  score: 0.5,
  threshold: 1,
  rawScore: 1,
  arrivedAt: t,
});

describe('LiveHub', () => {
  test('a fast client gets every message as it comes; only subscribers get columns', () => {
    const hub = new LiveHub();
    const a = new FakeTransport('a');
    const b = new FakeTransport('b');
    hub.add(a);
    hub.add(b);
    hub.subscribe('a', 's1');
    hub.columns(cols(0, 10, 1));
    hub.score(score(1));
    hub.broadcast('alert', { id: 1 });
    expect(a.sent.map((m) => m.event)).toEqual(['columns', 'score', 'alert']);
    expect(b.sent.map((m) => m.event)).toEqual(['alert']);
  });

  test('a slow client gets its columns coalesced on drain, in order, while a fast one is unaffected', () => {
    const hub = new LiveHub({ maxBacklog: 4 });
    const slow = new FakeTransport('slow');
    const fast = new FakeTransport('fast');
    for (const s of [slow, fast]) {
      hub.add(s);
      hub.subscribe(s.id, 's1');
    }
    slow.queued = 10;
    for (let i = 0; i < 5; i++) hub.columns(cols(i * 10 * 16, 10, i));
    expect(fast.sent).toHaveLength(5);
    expect(slow.sent).toHaveLength(0);
    hub.broadcast('alert:update', { id: 2 });
    expect(fast.sent.at(-1)?.event).toBe('alert:update');
    expect(slow.sent).toHaveLength(0);
    slow.drain();
    expect(slow.sent[0].event).toBe('alert:update');
    const merged = slow.sent.filter((m) => m.event === 'columns').map((m) => m.payload as ColumnsEvent);
    expect(merged).toHaveLength(1);
    expect(merged[0].nColumns).toBe(50);
    expect(merged[0].t0).toBe(0);
    expect(Array.from(merged[0].spectrogram.subarray(0, nMels))).toEqual([0, 0, 0, 0]);
    expect(Array.from(merged[0].spectrogram.subarray(49 * nMels))).toEqual([4, 4, 4, 4]);
    expect(hub.dropped).toBe(0);
  });

  test('past its bound a slow client loses the oldest columns and scores, counted', () => {
    const dropped: number[] = [];
    const hub = new LiveHub({
      maxBacklog: 1,
      maxPendingColumns: 25,
      maxPendingScores: 3,
      onDropped: (n) => dropped.push(n),
    });
    const slow = new FakeTransport('slow');
    hub.add(slow);
    hub.subscribe('slow', 's1');
    slow.queued = 5;
    for (let i = 0; i < 4; i++) hub.columns(cols(i * 10 * 16, 10, i));
    for (let i = 0; i < 5; i++) hub.score(score(i));
    slow.drain();
    const c = slow.sent.filter((m) => m.event === 'columns').map((m) => m.payload as ColumnsEvent);
    expect(c.reduce((n, e) => n + e.nColumns, 0)).toBe(25);
    expect(c[0].t0).toBeCloseTo(15 * 16);
    const s = slow.sent.filter((m) => m.event === 'score').map((m) => (m.payload as ScoreEvent).t);
    expect(s).toEqual([2, 3, 4]);
    expect(hub.dropped).toBeGreaterThan(0);
    expect(dropped.reduce((a, b) => a + b, 0)).toBe(hub.dropped);
  });

  test("'*' subscribers get every sensor's scores but no columns", () => {
    const hub = new LiveHub();
    const o = new FakeTransport('o');
    hub.add(o);
    hub.subscribe('o', '*');
    hub.columns(cols(0, 10, 1));
    hub.score(score(1));
    expect(o.sent.map((m) => m.event)).toEqual(['score']);
  });

  test("a slow client's broadcasts wait in order, each alert, sensor and fit coalesced to its latest state", () => {
    const hub = new LiveHub({ maxBacklog: 2 });
    const slow = new FakeTransport('slow');
    hub.add(slow);
    slow.queued = 5;
    hub.broadcast('alert', { id: 1, v: 0 });
    for (let v = 1; v <= 50; v++) {
      hub.broadcast('alert:update', { id: 1, v });
      hub.broadcast('sensor:status', { id: 's1', v });
      hub.broadcast('model:progress', { sensorId: 's1', done: v });
    }
    hub.broadcast('alert', { id: 2, v: 0 });
    hub.broadcast('sensor:status', { id: 's2', v: 0 });
    hub.broadcast('server:notice', { text: 'a' });
    hub.broadcast('server:notice', { text: 'b' });
    expect(slow.sent).toHaveLength(0);
    expect(hub.stats('slow')).toMatchObject({ pendingBroadcasts: 7, coalesced: 148, dropped: 0 });
    slow.drain();
    expect(slow.sent).toEqual([
      // A new alert stays a new alert, with its latest content.
      { event: 'alert', payload: { id: 1, v: 50 } },
      { event: 'sensor:status', payload: { id: 's1', v: 50 } },
      { event: 'model:progress', payload: { sensorId: 's1', done: 50 } },
      { event: 'alert', payload: { id: 2, v: 0 } },
      { event: 'sensor:status', payload: { id: 's2', v: 0 } },
      { event: 'server:notice', payload: { text: 'a' } },
      { event: 'server:notice', payload: { text: 'b' } },
    ]);
    expect(hub.stats('slow')?.pendingBroadcasts).toBe(0);
    // Caught up: the next goes straight out.
    hub.broadcast('alert:update', { id: 2, v: 1 });
    expect(slow.sent.at(-1)).toEqual({ event: 'alert:update', payload: { id: 2, v: 1 } });
  });

  test("past its bound a slow client's oldest broadcasts are dropped, counted", () => {
    const dropped: number[] = [];
    const hub = new LiveHub({ maxBacklog: 1, maxPendingBroadcasts: 3, onDropped: (n) => dropped.push(n) });
    const slow = new FakeTransport('slow');
    hub.add(slow);
    slow.queued = 1;
    for (let id = 1; id <= 5; id++) hub.broadcast('alert', { id });
    expect(hub.dropped).toBe(2);
    expect(dropped).toEqual([1, 1]);
    slow.drain();
    expect(slow.sent.map((m) => (m.payload as { id: number }).id)).toEqual([3, 4, 5]);
  });
});
