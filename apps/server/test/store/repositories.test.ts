import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../src/store/index.js';
import { tempStore } from './helpers.js';

const T0 = Date.UTC(2025, 0, 1);

describe('TokenRepository', () => {
  it('stores hashes, finds by hash, touches and revokes once', () => {
    const { store } = tempStore();
    const t = store.tokens.insert({ name: 'ci', role: 'operator', hash: 'ab'.repeat(32), createdAt: T0 });
    expect(t).toEqual({
      id: t.id,
      name: 'ci',
      role: 'operator',
      createdAt: T0,
      lastUsedAt: null,
      revokedAt: null,
      sensors: null,
    });
    expect(store.tokens.findByHash('ab'.repeat(32))?.id).toBe(t.id);
    expect(store.tokens.findByHash('cd'.repeat(32))).toBeNull();
    store.tokens.touch(t.id, T0 + 1);
    expect(store.tokens.revoke(t.id, T0 + 2)).toMatchObject({ lastUsedAt: T0 + 1, revokedAt: T0 + 2 });
    expect(store.tokens.revoke(t.id, T0 + 3).revokedAt).toBe(T0 + 2);
    expect(() => store.tokens.revoke(99, T0)).toThrow(new NotFoundError('token 99 not found'));
    expect(store.tokens.count()).toBe(1);
    expect(() =>
      store.tokens.insert({ name: 'dup', role: 'admin', hash: 'ab'.repeat(32), createdAt: T0 }),
    ).toThrow(/UNIQUE/);
  });
});

describe('SensorRepository', () => {
  it('creates on first hello, keeps first seen, updates name and labels only when given', () => {
    const { store } = tempStore();
    expect(store.sensors.upsert('pump-1', T0)).toEqual({
      id: 'pump-1',
      name: 'pump-1',
      labels: {},
      firstSeen: T0,
      lastSeen: T0,
      snoozedUntil: null,
      criticalPeak: null,
      criticalSeconds: null,
      deletedAt: null,
    });
    store.sensors.upsert('pump-1', T0 + 10, { name: 'Pump 1', labels: { site: 'plant-1' } });
    const again = store.sensors.upsert('pump-1', T0 + 5);
    expect(again).toMatchObject({
      name: 'Pump 1',
      labels: { site: 'plant-1' },
      firstSeen: T0,
      lastSeen: T0 + 10,
    });
    store.sensors.touch('pump-1', T0 + 20);
    expect(store.sensors.update('pump-1', { labels: { line: 'A' } })).toMatchObject({
      name: 'Pump 1',
      labels: { line: 'A' },
      lastSeen: T0 + 20,
    });
    expect(store.sensors.snooze('pump-1', T0 + 3600_000).snoozedUntil).toBe(T0 + 3600_000);
    expect(store.sensors.snooze('pump-1', null).snoozedUntil).toBeNull();
    expect(() => store.sensors.snooze('nope', 1)).toThrow("sensor 'nope' not found");
    store.sensors.upsert('fan-2', T0);
    expect(store.sensors.list().map((s) => s.id)).toEqual(['fan-2', 'pump-1']);
  });

  it('a deleted sensor leaves the list, keeps its row for its alerts, and registers anew', () => {
    const { store } = tempStore();
    store.sensors.upsert('pump-1', T0, { name: 'Pump 1', labels: { line: 'A' } });
    store.sensors.snooze('pump-1', T0 + 3600_000);
    store.sensors.update('pump-1', { severityThresholds: { criticalPeak: 3 } });
    const alert = store.alerts.open({
      sensorId: 'pump-1',
      kind: 'anomaly',
      start: T0,
      peakScore: 2,
      peakAt: T0,
      threshold: 1,
    });
    expect(store.sensors.markDeleted('pump-1', T0 + 100)).toBe(true);
    expect(store.sensors.markDeleted('pump-1', T0 + 200)).toBe(false);
    expect(store.sensors.list()).toEqual([]);
    expect(store.sensors.get('pump-1')).toMatchObject({ name: 'Pump 1', deletedAt: T0 + 100 });
    expect(() => store.sensors.update('pump-1', { name: 'x' })).toThrow("sensor 'pump-1' not found");
    expect(store.alerts.get(alert.id)?.sensorId).toBe('pump-1');
    // Registered again: the hello's name (or the id), no labels, snooze or thresholds, a new first-seen time.
    expect(store.sensors.upsert('pump-1', T0 + 500)).toEqual({
      id: 'pump-1',
      name: 'pump-1',
      labels: {},
      firstSeen: T0 + 500,
      lastSeen: T0 + 500,
      snoozedUntil: null,
      criticalPeak: null,
      criticalSeconds: null,
      deletedAt: null,
    });
  });

  it('purge removes the sensor and everything stored of it, in one go', () => {
    const { store } = tempStore();
    store.sensors.upsert('pump-1', T0);
    store.sensors.upsert('fan-2', T0);
    const open = (sensorId: string) =>
      store.alerts.open({ sensorId, kind: 'anomaly', start: T0, peakScore: 2, peakAt: T0, threshold: 1 });
    const mine = [open('pump-1').id, open('pump-1').id];
    const other = open('fan-2').id;
    store.scores.append('pump-1', T0, 0.5);
    store.scores.append('fan-2', T0, 0.5);
    store.scores.flush();
    expect(store.sensors.purge('pump-1')).toEqual(mine);
    expect(store.sensors.get('pump-1')).toBeNull();
    expect(store.alerts.get(mine[0])).toBeNull();
    expect(store.alerts.get(other)?.sensorId).toBe('fan-2');
    expect(store.scores.range('pump-1', { from: 0, to: T0 + 1, limit: 10 })).toEqual([]);
    expect(store.scores.range('fan-2', { from: 0, to: T0 + 1, limit: 10 })).toHaveLength(1);
  });
});

describe('FeedbackRepository', () => {
  it('creates, lists, counts active windows and reverts once', () => {
    const { store } = tempStore();
    const alert = store.alerts.open({
      sensorId: 's',
      kind: 'anomaly',
      start: T0,
      peakScore: 2,
      peakAt: T0,
      threshold: 1,
    });
    const make = (windows: number) =>
      store.feedback.create({
        sensorId: 's',
        alertId: alert.id,
        windows,
        patches: windows * 24,
        path: `feedback/s/${windows}.f32`,
        createdBy: 'ana',
        createdAt: T0,
      });
    const a = make(3);
    const b = make(5);
    expect(a).toEqual({
      id: a.id,
      sensorId: 's',
      alertId: alert.id,
      windows: 3,
      patches: 72,
      path: 'feedback/s/3.f32',
      createdBy: 'ana',
      createdAt: T0,
      revertedBy: null,
      revertedAt: null,
    });
    expect(store.feedback.activeWindows('s')).toBe(8);
    expect(store.feedback.revert('s', a.id, 'bob', T0 + 1)).toMatchObject({
      revertedBy: 'bob',
      revertedAt: T0 + 1,
    });
    expect(store.feedback.activeWindows('s')).toBe(5);
    expect(store.feedback.listBySensor('s').map((f) => f.id)).toEqual([a.id, b.id]);
    expect(store.feedback.listBySensor('s', true).map((f) => f.id)).toEqual([b.id]);
    expect(store.feedback.latestForAlert(alert.id)?.id).toBe(b.id);
    expect(() => store.feedback.revert('s', a.id, 'bob')).toThrow(ConflictError);
    expect(() => store.feedback.revert('other', b.id, 'bob')).toThrow(
      'feedback ' + b.id + " of sensor 'other' not found",
    );
    expect(() => store.feedback.create({ ...a, alertId: 999 })).toThrow('alert 999 not found');
  });
});

describe('ModelRepository', () => {
  it('keeps the history and answers the latest and latest successful fit', () => {
    const { store } = tempStore();
    expect(store.models.latest('s')).toBeNull();
    const fit = {
      sensorId: 's',
      source: 'enrol' as const,
      fittedAt: '2025-01-01T00:00:00.000Z',
      trainingSeconds: 60,
      trainingClips: 6,
      method: 'patchcore',
      backbone: 'mobilenet',
      bankSize: 4096,
      threshold: 0.42,
    };
    const ok = store.models.record({ ...fit, recordedAt: T0 });
    expect(ok).toEqual({ ...fit, id: ok.id, error: null, recordedAt: T0 });
    const failed = store.models.record({
      ...fit,
      source: 'upload',
      fittedAt: null,
      bankSize: null,
      threshold: null,
      error: 'clip 2: 8000 Hz, expected 16000 Hz',
    });
    expect(store.models.latest('s')?.id).toBe(failed.id);
    expect(store.models.latestFitted('s')?.id).toBe(ok.id);
    expect(store.models.history('s')).toHaveLength(2);
  });
});

describe('WebhookOutboxRepository', () => {
  it('queues, hands out due entries in order, retries, finishes and prunes', () => {
    const { store } = tempStore();
    const a = store.outbox.enqueue('alert.opened', '{"id":1}', T0);
    const b = store.outbox.enqueue('alert.closed', '{"id":1}', T0 + 10);
    expect(store.outbox.due(T0).map((e) => e.id)).toEqual([a.id]);
    expect(store.outbox.due(T0 + 10).map((e) => e.id)).toEqual([a.id, b.id]);
    store.outbox.markRetry(a.id, 1, 'HTTP 503', T0 + 1000);
    expect(store.outbox.due(T0 + 10).map((e) => e.id)).toEqual([b.id]);
    expect(store.outbox.nextDueAt()).toBe(T0 + 10);
    store.outbox.markDelivered(b.id, 1, T0 + 20);
    expect(store.outbox.nextDueAt()).toBe(T0 + 1000);
    store.outbox.markFailed(a.id, 2, 'HTTP 404', T0 + 1000);
    expect(store.outbox.pendingCount()).toBe(0);
    expect(store.outbox.get(a.id)).toMatchObject({ state: 'failed', attempts: 2, lastError: 'HTTP 404' });
    expect(store.outbox.list('delivered').map((e) => e.id)).toEqual([b.id]);
    expect(store.outbox.prune(T0 + 500)).toBe(1);
    expect(store.outbox.list().map((e) => e.id)).toEqual([a.id]);
  });
});
