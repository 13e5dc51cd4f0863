import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../src/store/index.js';
import { tempStore } from './helpers.js';

const T0 = Date.UTC(2025, 0, 1);

describe('TokenRepository', () => {
  it('stores hashes, finds by hash, touches and revokes once', async () => {
    const { store } = tempStore();
    const t = await store.tokens.insert({
      name: 'ci',
      role: 'operator',
      hash: 'ab'.repeat(32),
      createdAt: T0,
    });
    expect(t).toEqual({
      id: t.id,
      name: 'ci',
      role: 'operator',
      createdAt: T0,
      lastUsedAt: null,
      revokedAt: null,
      sensors: null,
    });
    expect((await store.tokens.findByHash('ab'.repeat(32)))?.id).toBe(t.id);
    expect(await store.tokens.findByHash('cd'.repeat(32))).toBeNull();
    await store.tokens.touch(t.id, T0 + 1);
    expect(await store.tokens.revoke(t.id, T0 + 2)).toMatchObject({ lastUsedAt: T0 + 1, revokedAt: T0 + 2 });
    expect((await store.tokens.revoke(t.id, T0 + 3)).revokedAt).toBe(T0 + 2);
    await expect(async () => store.tokens.revoke(99, T0)).rejects.toThrow(
      new NotFoundError('token 99 not found'),
    );
    expect(await store.tokens.count()).toBe(1);
    await expect(async () =>
      store.tokens.insert({ name: 'dup', role: 'admin', hash: 'ab'.repeat(32), createdAt: T0 }),
    ).rejects.toThrow(/UNIQUE/);
  });
});

describe('SensorRepository', () => {
  it('creates on first hello, keeps first seen, updates name and labels only when given', async () => {
    const { store } = tempStore();
    expect(await store.sensors.upsert('pump-1', T0)).toEqual({
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
    await store.sensors.upsert('pump-1', T0 + 10, { name: 'Pump 1', labels: { site: 'plant-1' } });
    const again = await store.sensors.upsert('pump-1', T0 + 5);
    expect(again).toMatchObject({
      name: 'Pump 1',
      labels: { site: 'plant-1' },
      firstSeen: T0,
      lastSeen: T0 + 10,
    });
    await store.sensors.touch('pump-1', T0 + 20);
    expect(await store.sensors.update('pump-1', { labels: { line: 'A' } })).toMatchObject({
      name: 'Pump 1',
      labels: { line: 'A' },
      lastSeen: T0 + 20,
    });
    expect((await store.sensors.snooze('pump-1', T0 + 3600_000)).snoozedUntil).toBe(T0 + 3600_000);
    expect((await store.sensors.snooze('pump-1', null)).snoozedUntil).toBeNull();
    await expect(async () => store.sensors.snooze('nope', 1)).rejects.toThrow("sensor 'nope' not found");
    await store.sensors.upsert('fan-2', T0);
    expect((await store.sensors.list()).map((s) => s.id)).toEqual(['fan-2', 'pump-1']);
  });

  it('a deleted sensor leaves the list, keeps its row for its alerts, and registers anew', async () => {
    const { store } = tempStore();
    await store.sensors.upsert('pump-1', T0, { name: 'Pump 1', labels: { line: 'A' } });
    await store.sensors.snooze('pump-1', T0 + 3600_000);
    await store.sensors.update('pump-1', { severityThresholds: { criticalPeak: 3 } });
    const alert = await store.alerts.open({
      sensorId: 'pump-1',
      kind: 'anomaly',
      start: T0,
      peakScore: 2,
      peakAt: T0,
      threshold: 1,
    });
    expect(await store.sensors.markDeleted('pump-1', T0 + 100)).toBe(true);
    expect(await store.sensors.markDeleted('pump-1', T0 + 200)).toBe(false);
    expect(await store.sensors.list()).toEqual([]);
    expect(await store.sensors.get('pump-1')).toMatchObject({ name: 'Pump 1', deletedAt: T0 + 100 });
    await expect(async () => store.sensors.update('pump-1', { name: 'x' })).rejects.toThrow(
      "sensor 'pump-1' not found",
    );
    expect((await store.alerts.get(alert.id))?.sensorId).toBe('pump-1');
    // Registered again: the hello's name (or the id), no labels, snooze or thresholds, a new first-seen time.
    expect(await store.sensors.upsert('pump-1', T0 + 500)).toEqual({
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

  it('purge removes the sensor and everything stored of it, in one go', async () => {
    const { store } = tempStore();
    await store.sensors.upsert('pump-1', T0);
    await store.sensors.upsert('fan-2', T0);
    const open = (sensorId: string) =>
      store.alerts.open({ sensorId, kind: 'anomaly', start: T0, peakScore: 2, peakAt: T0, threshold: 1 });
    const mine = [(await open('pump-1')).id, (await open('pump-1')).id];
    const other = (await open('fan-2')).id;
    await store.scores.append('pump-1', T0, 0.5);
    await store.scores.append('fan-2', T0, 0.5);
    await store.scores.flush();
    expect(await store.sensors.purge('pump-1')).toEqual(mine);
    expect(await store.sensors.get('pump-1')).toBeNull();
    expect(await store.alerts.get(mine[0])).toBeNull();
    expect((await store.alerts.get(other))?.sensorId).toBe('fan-2');
    expect(await store.scores.range('pump-1', { from: 0, to: T0 + 1, limit: 10 })).toEqual([]);
    expect(await store.scores.range('fan-2', { from: 0, to: T0 + 1, limit: 10 })).toHaveLength(1);
  });
});

describe('FeedbackRepository', () => {
  it('creates, lists, counts active windows and reverts once', async () => {
    const { store } = tempStore();
    const alert = await store.alerts.open({
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
    const a = await make(3);
    const b = await make(5);
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
    expect(await store.feedback.activeWindows('s')).toBe(8);
    expect(await store.feedback.revert('s', a.id, 'bob', T0 + 1)).toMatchObject({
      revertedBy: 'bob',
      revertedAt: T0 + 1,
    });
    expect(await store.feedback.activeWindows('s')).toBe(5);
    expect((await store.feedback.listBySensor('s')).map((f) => f.id)).toEqual([a.id, b.id]);
    expect((await store.feedback.listBySensor('s', true)).map((f) => f.id)).toEqual([b.id]);
    expect((await store.feedback.latestForAlert(alert.id))?.id).toBe(b.id);
    await expect(async () => store.feedback.revert('s', a.id, 'bob')).rejects.toThrow(ConflictError);
    await expect(async () => store.feedback.revert('other', b.id, 'bob')).rejects.toThrow(
      'feedback ' + b.id + " of sensor 'other' not found",
    );
    await expect(async () => store.feedback.create({ ...a, alertId: 999 })).rejects.toThrow(
      'alert 999 not found',
    );
  });
});

describe('ModelRepository', () => {
  it('keeps the history and answers the latest and latest successful fit', async () => {
    const { store } = tempStore();
    expect(await store.models.latest('s')).toBeNull();
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
    const ok = await store.models.record({ ...fit, recordedAt: T0 });
    expect(ok).toEqual({ ...fit, id: ok.id, error: null, recordedAt: T0 });
    const failed = await store.models.record({
      ...fit,
      source: 'upload',
      fittedAt: null,
      bankSize: null,
      threshold: null,
      error: 'clip 2: 8000 Hz, expected 16000 Hz',
    });
    expect((await store.models.latest('s'))?.id).toBe(failed.id);
    expect((await store.models.latestFitted('s'))?.id).toBe(ok.id);
    expect(await store.models.history('s')).toHaveLength(2);
  });
});

describe('WebhookOutboxRepository', () => {
  it('queues, hands out due entries in order, retries, finishes and prunes', async () => {
    const { store } = tempStore();
    const a = await store.outbox.enqueue('alert.opened', '{"id":1}', T0);
    const b = await store.outbox.enqueue('alert.closed', '{"id":1}', T0 + 10);
    expect((await store.outbox.due(T0)).map((e) => e.id)).toEqual([a.id]);
    expect((await store.outbox.due(T0 + 10)).map((e) => e.id)).toEqual([a.id, b.id]);
    await store.outbox.markRetry(a.id, 1, 'HTTP 503', T0 + 1000);
    expect((await store.outbox.due(T0 + 10)).map((e) => e.id)).toEqual([b.id]);
    expect(await store.outbox.nextDueAt()).toBe(T0 + 10);
    await store.outbox.markDelivered(b.id, 1, T0 + 20);
    expect(await store.outbox.nextDueAt()).toBe(T0 + 1000);
    await store.outbox.markFailed(a.id, 2, 'HTTP 404', T0 + 1000);
    expect(await store.outbox.pendingCount()).toBe(0);
    expect(await store.outbox.get(a.id)).toMatchObject({
      state: 'failed',
      attempts: 2,
      lastError: 'HTTP 404',
    });
    expect((await store.outbox.list('delivered')).map((e) => e.id)).toEqual([b.id]);
    expect(await store.outbox.prune(T0 + 500)).toBe(1);
    expect((await store.outbox.list()).map((e) => e.id)).toEqual([a.id]);
  });
});
