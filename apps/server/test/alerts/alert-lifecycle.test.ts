/**
 * The alert lifecycle of issue 14 over a real SQLite store: severity from peak and duration (per-sensor
 * thresholds over the defaults), repeats folded into one alert with every occurrence kept, auto-resolve after
 * the quiet time (listed as auto-resolved, not acknowledged), bulk acknowledge / resolve, and a false alarm
 * that resolves. Times are given explicitly (`opened(alert, now)`, `sweep(now)`): no timers.
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '@hark/protocol';
import { AlertMediaStore } from '../../src/alerts/alert-media.js';
import { AlertService, type AlertPolicy } from '../../src/alerts/alert.service.js';
import { HarkEvents } from '../../src/events.js';
import { LiveHub } from '../../src/live/live-hub.js';
import { HarkMetrics } from '../../src/metrics/hark.metrics.js';
import { tempStore } from '../store/helpers.js';

const POLICY: AlertPolicy = {
  alertQuietSeconds: 60,
  alertRepeatSeconds: 300,
  criticalPeak: 2,
  criticalSeconds: 30,
};
const T = Date.UTC(2026, 0, 1);

function setup(policy: Partial<AlertPolicy> = {}) {
  const { store, dir } = tempStore();
  const events = new HarkEvents();
  const updates: Alert[] = [];
  events.on('alert:update', (a) => updates.push(a));
  const alerts = new AlertService({
    store,
    media: new AlertMediaStore(dir, store),
    events,
    hub: new LiveHub(),
    metrics: new HarkMetrics({ defaultMetrics: false }),
    log: () => {},
    policy: { ...POLICY, ...policy },
  });
  return { store, alerts, updates };
}

const anomaly = (start: number, peakScore = 1.3) => ({
  sensorId: 'pump-1',
  kind: 'anomaly' as const,
  start,
  peakScore,
  peakAt: start + 500,
  threshold: 1,
});

/** The data path closing an occurrence at server time `at` (`cleared`: the condition was seen to clear). */
async function close(s: ReturnType<typeof setup>, id: number, end: number, at: number, cleared = true) {
  await s.alerts.changed(id, { active: false, end, closedAt: at, clearedAt: cleared ? at : null });
}

describe('severity', () => {
  it('is warning under both thresholds, critical from the peak or the duration, and never falls', async () => {
    const s = setup();
    expect(s.alerts.severity('pump-1', 1.9, 29_000)).toBe('warning');
    expect(s.alerts.severity('pump-1', 2, 0)).toBe('critical');
    expect(s.alerts.severity('pump-1', 1.1, 30_000)).toBe('critical');
    const a = await s.alerts.opened(anomaly(T), T);
    expect(a.severity).toBe('warning');
    await s.alerts.changed(a.id, { peakScore: 2.5, peakAt: T + 900, severity: 'critical' });
    await s.alerts.changed(a.id, { peakScore: 2.5, severity: 'warning' });
    expect((await s.store.alerts.require(a.id)).severity).toBe('critical');
  });

  it("uses the sensor's own thresholds where set (PATCH), the defaults elsewhere", async () => {
    const s = setup();
    await s.store.sensors.upsert('pump-1', T);
    await s.store.sensors.update('pump-1', { severityThresholds: { criticalPeak: 5 } });
    expect(s.alerts.thresholds('pump-1')).toEqual({ criticalPeak: 5, criticalSeconds: 30, custom: true });
    expect(s.alerts.severity('pump-1', 4, 0)).toBe('warning');
    expect(s.alerts.thresholds('pump-2')).toEqual({ criticalPeak: 2, criticalSeconds: 30, custom: false });
    await s.store.sensors.update('pump-1', { severityThresholds: { criticalPeak: null } });
    expect(s.alerts.thresholds('pump-1').custom).toBe(false);
  });

  it('an active warning turns critical once its occurrence has lasted criticalSeconds (the sweep)', async () => {
    const s = setup();
    const a = await s.alerts.opened({ ...anomaly(T), kind: 'silence', peakScore: 0 }, T);
    expect(await s.alerts.sweep(T + 29_000)).toEqual([]);
    const [raised] = await s.alerts.sweep(T + 30_000);
    expect(raised).toMatchObject({ id: a.id, severity: 'critical', active: true });
    expect(s.updates.at(-1)).toMatchObject({ id: a.id, severity: 'critical' });
  });
});

describe('repeats', () => {
  it('fold into one alert within the repeat window, with a count and every occurrence kept', async () => {
    const s = setup();
    const first = await s.alerts.opened(anomaly(T, 1.8), T);
    await close(s, first.id, T + 3000, T + 4000);
    const again = await s.alerts.opened(anomaly(T + 60_000, 1.4), T + 61_000);
    expect(again.id).toBe(first.id);
    expect(again).toMatchObject({ count: 2, active: true, clearedAt: null, peakScore: 1.8, state: 'open' });
    // The stronger occurrence keeps the alert's peak; a stronger repeat takes it over.
    await s.alerts.changed(first.id, {
      peakScore: 3,
      peakAt: T + 62_000,
      end: T + 62_000,
      severity: 'critical',
    });
    const a = await s.store.alerts.require(first.id);
    expect(a).toMatchObject({ peakScore: 3, peakAt: T + 62_000, severity: 'critical' });
    expect(a.occurrences).toEqual([
      { start: T, end: T + 3000, peakScore: 1.8, peakAt: T + 500, openedAt: T, clearedAt: T + 4000 },
      {
        start: T + 60_000,
        end: T + 62_000,
        peakScore: 3,
        peakAt: T + 62_000,
        openedAt: T + 61_000,
        clearedAt: null,
      },
    ]);
    expect((await s.store.alerts.list({ sensorId: 'pump-1' })).total).toBe(1);
  });

  it('open a new alert after the repeat window, after a person resolved the last, or of another kind', async () => {
    const s = setup();
    const a = await s.alerts.opened(anomaly(T), T);
    await close(s, a.id, T + 2000, T + 2000);
    const late = await s.alerts.opened(anomaly(T + 400_000), T + 302_001);
    expect(late.id).not.toBe(a.id);
    await close(s, late.id, T + 401_000, T + 303_000);
    await s.alerts.resolve(late.id, 'anna');
    const afterResolve = await s.alerts.opened(anomaly(T + 402_000), T + 303_500);
    expect(afterResolve.id).not.toBe(late.id);
    const silence = await s.alerts.opened(
      { ...anomaly(T + 403_000), kind: 'silence', peakScore: 0 },
      T + 303_600,
    );
    expect(silence.id).not.toBe(afterResolve.id);
  });

  it('a repeat reopens an auto-resolved alert (acknowledged again if someone had acknowledged it)', async () => {
    const s = setup();
    const a = await s.alerts.opened(anomaly(T), T);
    await s.alerts.acknowledge(a.id, 'anna');
    await close(s, a.id, T + 2000, T + 2000);
    expect(await s.alerts.sweep(T + 62_000)).toMatchObject([
      { id: a.id, state: 'resolved', autoResolved: true },
    ]);
    const again = await s.alerts.opened(anomaly(T + 100_000), T + 100_000);
    expect(again).toMatchObject({
      id: a.id,
      count: 2,
      state: 'acknowledged',
      autoResolved: false,
      resolvedBy: null,
      resolvedAt: null,
    });
  });
});

describe('auto-resolve', () => {
  it('resolves an alert cleared for the quiet time, as auto-resolved and not acknowledged', async () => {
    const s = setup();
    const a = await s.alerts.opened(anomaly(T), T);
    // Still active: it does not resolve (it turns critical: it has lasted 10 minutes).
    expect(await s.alerts.sweep(T + 600_000)).toMatchObject([
      { id: a.id, state: 'open', severity: 'critical' },
    ]);
    await close(s, a.id, T + 2000, T + 5000);
    expect(await s.alerts.sweep(T + 5000 + 59_999)).toEqual([]);
    const [resolved] = await s.alerts.sweep(T + 5000 + 60_000);
    expect(resolved).toMatchObject({
      id: a.id,
      state: 'resolved',
      autoResolved: true,
      resolvedBy: 'auto',
      resolvedAt: T + 65_000,
      acknowledgedAt: null,
    });
    expect(s.updates.at(-1)).toMatchObject({ id: a.id, autoResolved: true });
    expect((await s.store.alerts.attentionCounts()).get('pump-1')).toBeUndefined();
    // Still listed for review.
    expect((await s.store.alerts.list({ state: 'resolved' })).items.map((x) => x.id)).toEqual([a.id]);
  });

  it('never resolves an alert whose signal was lost (a disconnect): a person must look', async () => {
    const s = setup();
    const a = await s.alerts.opened(anomaly(T), T);
    await close(s, a.id, T + 2000, T + 2000, false);
    expect(await s.alerts.sweep(T + 10 * 3600_000)).toEqual([]);
    expect(await s.store.alerts.require(a.id)).toMatchObject({
      state: 'open',
      clearedAt: null,
      active: false,
    });
  });
});

describe('bulk steps', () => {
  it('acknowledge the ids given, skipping (with the reason) the unknown and the done', async () => {
    const s = setup();
    const a = await s.alerts.opened(anomaly(T), T);
    const b = await s.alerts.opened({ ...anomaly(T), sensorId: 'pump-2' }, T);
    await s.alerts.acknowledge(b.id, 'anna');
    const out = await s.alerts.bulk('acknowledge', { ids: [a.id, b.id, 999] }, 'ben');
    expect(out.changed.map((x) => [x.id, x.state, x.acknowledgedBy])).toEqual([
      [a.id, 'acknowledged', 'ben'],
    ]);
    expect(out.skipped).toEqual([
      { id: b.id, reason: expect.stringMatching(/already acknowledged/) },
      { id: 999, reason: 'alert 999 not found' },
    ]);
  });

  it('resolve every unresolved alert matching a filter, and only those', async () => {
    const s = setup();
    const a = await s.alerts.opened(anomaly(T), T);
    const b = await s.alerts.opened({ ...anomaly(T), kind: 'silence', peakScore: 0 }, T);
    const other = await s.alerts.opened({ ...anomaly(T), sensorId: 'pump-2' }, T);
    await s.alerts.acknowledge(b.id, 'anna');
    const out = await s.alerts.bulk('resolve', { filters: { sensorId: 'pump-1' } }, 'ben');
    expect(out.changed.map((x) => x.id).sort()).toEqual([a.id, b.id].sort());
    expect(out.skipped).toEqual([]);
    expect((await s.store.alerts.require(other.id)).state).toBe('open');
  });
});

describe('false alarm', () => {
  it('resolves the alert; without teach nothing is taught', async () => {
    const s = setup();
    const a = await s.alerts.opened(anomaly(T), T);
    const taught: number[] = [];
    const teacher = { teach: async (id: number) => taught.push(id) };
    const out = await s.alerts.falseAlarm(a.id, { teach: false, text: 'door slam' }, 'anna', teacher);
    expect(out).toMatchObject({ state: 'resolved', resolvedBy: 'anna', autoResolved: false, feedback: null });
    expect(out.annotations).toMatchObject([{ label: 'false alarm', text: 'door slam' }]);
    expect(taught).toEqual([]);
    // An alert resolved already stays as it was; the note is still kept.
    const again = await s.alerts.falseAlarm(a.id, { teach: false, text: 'twice' }, 'ben', teacher);
    expect(again).toMatchObject({ state: 'resolved', resolvedBy: 'anna' });
    expect(again.annotations).toHaveLength(2);
  });
});
