import { describe, expect, it } from 'vitest';
import type { Alert } from '@hark/protocol';
import { AlertMediaStore } from '../../src/alerts/alert-media.js';
import { AlertService } from '../../src/alerts/alert.service.js';
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
  const media = new AlertMediaStore(dir);
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
    const a = s.alerts.opened(opening);
    expect(s.store.alerts.require(a.id)).toMatchObject({ sensorId: 'pump-1', state: 'open', active: true });
    expect(s.dashboard.sent).toEqual([{ event: 'alert', payload: a }]);
    expect(s.bus).toEqual([{ event: 'alert', alert: a }]);
    expect((await s.metrics.text()).body).toMatch(/hark_alerts_total\{sensor="pump-1",kind="anomaly"\} 1/);
  });

  it('sends every change as `alert:update`: the data path, acknowledge, annotate, resolve', () => {
    const s = setup();
    const a = s.alerts.opened(opening);
    s.alerts.changed(a.id, { active: false, end: 3000, peakScore: 2, peakAt: 2000 });
    s.alerts.acknowledge(a.id, 'ana');
    s.alerts.annotate(a.id, { label: 'true fault', text: 'bearing' }, 'ana');
    const resolved = s.alerts.resolve(a.id, 'bob');
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
    expect(() => s.alerts.acknowledge(a.id, 'ana')).toThrow(`alert ${a.id} is resolved`);
  });

  it('closes the alerts a crash left active, and says so', () => {
    const s = setup();
    const a = s.alerts.opened(opening);
    s.dashboard.sent = [];
    s.alerts.recover(5000);
    expect(s.store.alerts.require(a.id)).toMatchObject({ active: false, end: 5000, state: 'open' });
    expect(s.dashboard.sent).toMatchObject([{ event: 'alert:update', payload: { id: a.id, active: false } }]);
  });

  it('teaches a false alarm before recording it; a refused teach records nothing', async () => {
    const s = setup();
    const a = s.alerts.opened(opening);
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
    expect(s.alerts.get(a.id).annotations).toEqual([]);
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

  it("keeps an alert's clip with its picture and its feedback windows and patches", async () => {
    const s = setup();
    const a = s.alerts.opened(opening);
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
    expect(s.alerts.get(a.id).clip).toEqual({ available: true, start: 900, seconds: 1 });
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
    const patches = new Float32Array([5, 6]);
    s.alerts.keepFeedback(a.id, windows, patches);
    await expect.poll(() => s.media.readPatches(a.id)).toEqual(patches);
    expect(await s.media.readWindows(a.id)).toEqual(windows);
    expect(s.logged).toEqual([]);
  });
});
