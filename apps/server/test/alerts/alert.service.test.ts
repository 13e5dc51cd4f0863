import { describe, expect, it } from 'vitest';
import type { Alert } from '@hark/protocol';
import { AlertMediaStore } from '../../src/alerts/alert-media.js';
import { AlertService } from '../../src/alerts/alert.service.js';
import { AlertWrites } from '../../src/alerts/alert-writes.js';
import { HarkEvents } from '../../src/events.js';
import { LiveHub, type LiveSocket } from '../../src/live/live-hub.js';
import { HarkMetrics } from '../../src/metrics/hark.metrics.js';
import { tempStore } from '../store/helpers.js';

/** A dashboard connection that keeps what it was sent. */
class Dashboard implements LiveSocket {
  sent: { event: string; payload: unknown }[] = [];
  constructor(readonly id: string) {}
  emit(event: string, payload: unknown) {
    this.sent.push({ event, payload });
    return true;
  }
  backlog() {
    return 0;
  }
  onDrain() {}
}

function setup() {
  const { store, dir } = tempStore();
  const media = new AlertMediaStore(dir, store);
  const events = new HarkEvents();
  const hub = new LiveHub();
  const dashboard = new Dashboard('d1');
  hub.add(dashboard);
  const metrics = new HarkMetrics({ defaultMetrics: false });
  const logged: string[] = [];
  const alerts = new AlertService({ store, media, events, hub, metrics, log: (l) => logged.push(l) });
  const bus: { event: string; alert: Alert }[] = [];
  events.on('alert', (a) => bus.push({ event: 'alert', alert: a }));
  events.on('alert:update', (a) => bus.push({ event: 'alert:update', alert: a }));
  return { store, media, alerts, dashboard, bus, metrics, logged };
}

const opening = {
  sensorId: 'pump-1',
  kind: 'anomaly' as const,
  start: 1000,
  peakScore: 1.5,
  peakAt: 1200,
  threshold: 1,
};

describe('AlertService', () => {
  it('stores an opened alert and sends it to the dashboards and the bus as `alert`, counting it', async () => {
    const s = setup();
    const a = await s.alerts.opened(opening);
    expect(await s.store.alerts.require(a.id)).toMatchObject({
      sensorId: 'pump-1',
      state: 'open',
      active: true,
    });
    expect(s.dashboard.sent).toEqual([{ event: 'alert', payload: a }]);
    expect(s.bus).toEqual([{ event: 'alert', alert: a }]);
    expect((await s.metrics.text()).body).toMatch(/hark_alerts_total\{sensor="pump-1",kind="anomaly"\} 1/);
  });

  it('sends every change as `alert:update`: the data path, acknowledge, annotate, resolve', async () => {
    const s = setup();
    const a = await s.alerts.opened(opening);
    await s.alerts.changed(a.id, { active: false, end: 3000, peakScore: 2, peakAt: 2000 });
    await s.alerts.acknowledge(a.id, 'ana');
    await s.alerts.annotate(a.id, { label: 'true fault', text: 'bearing' }, 'ana');
    const resolved = await s.alerts.resolve(a.id, 'bob');
    expect(resolved).toMatchObject({ state: 'resolved', resolvedBy: 'bob', active: false, end: 3000 });
    expect(resolved.annotations).toMatchObject([{ label: 'true fault', text: 'bearing', author: 'ana' }]);
    const updates = s.dashboard.sent.filter((m) => m.event === 'alert:update').map((m) => m.payload as Alert);
    expect(updates.map((u) => [u.state, u.active])).toEqual([
      ['open', false],
      ['acknowledged', false],
      ['acknowledged', false],
      ['resolved', false],
    ]);
    expect(s.bus.filter((b) => b.event === 'alert:update').map((b) => b.alert)).toEqual(updates);
    await expect(async () => s.alerts.acknowledge(a.id, 'ana')).rejects.toThrow(`alert ${a.id} is resolved`);
  });

  it('closes the alerts a crash left active, and says so', async () => {
    const s = setup();
    const a = await s.alerts.opened(opening);
    s.dashboard.sent = [];
    await s.alerts.recover(5000);
    expect(await s.store.alerts.require(a.id)).toMatchObject({ active: false, end: 5000, state: 'open' });
    expect(s.dashboard.sent).toMatchObject([{ event: 'alert:update', payload: { id: a.id, active: false } }]);
  });

  it('teaches a false alarm before recording it; a refused teach records nothing', async () => {
    const s = setup();
    const a = await s.alerts.opened(opening);
    const taught: number[] = [];
    const teacher = {
      teach: async (id: number) => {
        if (taught.length === 0) {
          taught.push(-id);
          throw new Error('no patches kept');
        }
        taught.push(id);
      },
    };
    await expect(s.alerts.falseAlarm(a.id, { teach: true, text: 'door' }, 'ana', teacher)).rejects.toThrow(
      'no patches kept',
    );
    expect((await s.alerts.get(a.id)).annotations).toEqual([]);
    const marked = await s.alerts.falseAlarm(a.id, { teach: true, text: 'door' }, 'ana', teacher);
    expect(taught).toEqual([-a.id, a.id]);
    expect(marked.annotations).toMatchObject([{ label: 'false alarm', text: 'door', author: 'ana' }]);
    const plain = await s.alerts.falseAlarm(a.id, { teach: false, text: '' }, 'bob', teacher);
    expect(taught).toHaveLength(2);
    expect(plain.annotations).toHaveLength(2);
    await expect(s.alerts.falseAlarm(999, { teach: true, text: '' }, 'ana', teacher)).rejects.toThrow(
      'alert 999 not found',
    );
    expect(taught).toHaveLength(2);
  });

  it("keeps an alert's clip with its picture and its feedback windows (no patches: teaching computes them)", async () => {
    const s = setup();
    const a = await s.alerts.opened(opening);
    const samples = new Float32Array(16000).map((_, i) => Math.sin(i / 10) / 2);
    const picture = {
      t0: 1000,
      hopSeconds: 0.016,
      nMels: 2,
      nFrames: 3,
      melHz: [100, 200],
      dbRange: [-100, 40] as [number, number],
      anomalyScale: 2,
      spectrogram: new Uint8Array([1, 2, 3, 4, 5, 6]),
      anomaly: new Uint8Array([0, 0, 9, 9, 0, 0]),
    };
    s.dashboard.sent = [];
    await s.alerts.keepClip(a.id, { samples, sampleRate: 16000, start: 900 }, picture);
    expect((await s.alerts.get(a.id)).clip).toEqual({ available: true, start: 900, seconds: 1 });
    expect(s.dashboard.sent).toMatchObject([
      { event: 'alert:update', payload: { clip: { available: true } } },
    ]);
    expect((await s.media.readClip(a.id)).subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(await s.media.readSpectrogram(a.id)).toMatchObject({
      alertId: a.id,
      nFrames: 3,
      melHz: [100, 200],
    });

    const windows = new Float32Array([1, 2, 3, 4]);
    s.alerts.keepFeedback(a.id, windows);
    await expect.poll(() => s.media.readWindows(a.id)).toEqual(windows);
    expect(await s.media.readPatches(a.id)).toBeNull();
    expect(s.logged).toEqual([]);
  });
});

describe('AlertService while the store refuses writes', () => {
  const refuse = (store: ReturnType<typeof setup>['store'], on: boolean) =>
    store.database.sqlite.pragma(`query_only = ${on ? 'ON' : 'OFF'}`);

  it('queues the data path’s writes in order and stores and publishes them once writes succeed', async () => {
    const s = setup();
    refuse(s.store, true);
    const a = await s.alerts.opened(opening);
    expect(a.id).toBeLessThan(0);
    await s.alerts.changed(a.id, { peakScore: 3, peakAt: 1500 });
    await s.alerts.changed(a.id, { active: false, end: 4000 });
    expect(s.alerts.storedId(a.id)).toBeNull();
    expect(s.dashboard.sent).toEqual([]);
    expect(s.store.health.report()).toMatchObject({ writable: false, waitingWrites: { alerts: 2 } });
    expect(s.store.health.report().lastError).toMatch(/^alert: SQLITE_READONLY/);
    expect((await s.metrics.text()).body).toMatch(/hark_alerts_total\{sensor="pump-1",kind="anomaly"\} 1/);
    // A clip of an alert not stored yet waits in memory with it.
    await s.alerts.keepClip(a.id, { samples: new Float32Array(16000), sampleRate: 16000, start: 900 }, null);

    await s.store.health.retryNow();
    expect(s.store.health.degraded).toBe(true);
    refuse(s.store, false);
    await s.store.health.retryNow();
    expect(s.store.health.degraded).toBe(false);
    const id = s.alerts.storedId(a.id) as number;
    expect(id).toBeGreaterThan(0);
    expect(await s.store.alerts.require(id)).toMatchObject({
      active: false,
      end: 4000,
      peakScore: 3,
      peakAt: 1500,
    });
    // The clip, written once the alert was stored, is recorded on it (after its queued updates).
    await s.alerts.settled();
    expect((await s.alerts.get(id)).clip).toEqual({ available: true, start: 900, seconds: 1 });
    expect(s.dashboard.sent.map((m) => [m.event, (m.payload as Alert).id])).toEqual([
      ['alert', id],
      ['alert:update', id],
      ['alert:update', id],
    ]);
    // Later writes go straight to the store again.
    await s.alerts.changed(a.id, { peakScore: 4 });
    expect((await s.store.alerts.require(id)).peakScore).toBe(4);
  });

  it('keeps every write past `max` (an alert is never dropped), loudly, and writes them in order', async () => {
    const s = setup();
    const over: number[] = [];
    let now = 0;
    const published: string[] = [];
    const writes = new AlertWrites({
      store: s.store,
      publish: (a, event) => void published.push(`${event} ${a.sensorId} ${a.active ? 'active' : 'closed'}`),
      onOverBound: () => over.push(1),
      log: (l) => s.logged.push(l),
      max: 2,
      now: () => now,
    });
    refuse(s.store, true);
    const first = await writes.open(opening);
    await writes.open({ ...opening, sensorId: 'pump-2' });
    await writes.open({ ...opening, sensorId: 'pump-3' });
    now += 1000;
    await writes.update(first.id, { active: false, end: 2000 });
    expect(writes.waiting).toBe(4);
    expect(s.store.health.report().waitingWrites.alerts).toBe(4);
    expect(over).toHaveLength(2);
    // One ERROR line per minute, not one per write.
    expect(s.logged.filter((l) => l.includes('past the bound'))).toEqual([
      'STORAGE ERROR: 3 alert writes wait for the store, past the bound of 2; all are kept in memory ' +
        '(never dropped) and written in order once it takes writes (latest: open anomaly alert of pump-3 at 1000)',
    ]);
    now += 60_000;
    await writes.open({ ...opening, sensorId: 'pump-4' });
    expect(s.logged.filter((l) => l.includes('past the bound'))).toHaveLength(2);
    refuse(s.store, false);
    expect(await writes.drain()).toBe(0);
    expect(writes.waiting).toBe(0);
    const stored = (await s.store.alerts.list()).items;
    expect(stored.map((x) => x.sensorId).sort()).toEqual(['pump-1', 'pump-2', 'pump-3', 'pump-4']);
    // Stored in the order made (ids ascend), pump-1's close after its opening.
    const id = (sensor: string) => stored.find((x) => x.sensorId === sensor)?.id as number;
    expect([id('pump-1'), id('pump-2'), id('pump-3'), id('pump-4')]).toEqual(
      [id('pump-1'), id('pump-2'), id('pump-3'), id('pump-4')].sort((a, b) => a - b),
    );
    expect(await s.store.alerts.require(id('pump-1'))).toMatchObject({ active: false, end: 2000 });
    expect(published).toEqual([
      'alert pump-1 active',
      'alert pump-2 active',
      'alert pump-3 active',
      'alert:update pump-1 closed',
      'alert pump-4 active',
    ]);
  });

  it('closes the alerts a crash left active once the store takes writes', async () => {
    const s = setup();
    const a = await s.alerts.opened(opening);
    refuse(s.store, true);
    await s.alerts.recover(5000);
    expect((await s.store.alerts.require(a.id)).active).toBe(true);
    refuse(s.store, false);
    await s.store.health.retryNow();
    expect(await s.store.alerts.require(a.id)).toMatchObject({ active: false, end: 5000 });
  });
});
