/**
 * The repositories on both engines: the same calls against SQLite in a temporary directory and against a real
 * PostgreSQL 15 (started by `test/support/postgres.ts`; skipped, visibly, where it is not installed).
 */
import { describe, expect, it } from 'vitest';
import { HarkStore, MIGRATIONS, type BurnInSeries } from '../../src/store/index.js';
import { storeEngines } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const { engines: ENGINES, hasPostgres, postgresUrl, open } = storeEngines('the store on PostgreSQL');

describe.each(ENGINES)('the store on %s', (engine) => {
  it('alerts: open, repeat, ack, resolve, notes, filters, order, neighbours, counts', async () => {
    const store = await open(engine);
    try {
      const opening = {
        kind: 'anomaly' as const,
        peakScore: 2.5,
        peakAt: T0 + 500.5,
        threshold: 1,
        boxes: [],
      };
      const a = await store.alerts.open({ sensorId: 'pump-1', start: T0 + 0.25, ...opening });
      expect(a).toMatchObject({ id: 1, state: 'open', active: true, start: T0 + 0.25, count: 1 });
      await store.alerts.update(a.id, {
        active: false,
        end: T0 + 4000,
        closedAt: T0 + 4000,
        clearedAt: T0 + 4000,
      });
      const again = await store.alerts.recur(a.id, { start: T0 + 9000, peakScore: 3, peakAt: T0 + 9100 });
      expect(again).toMatchObject({ count: 2, active: true, peakScore: 3, end: null });
      const b = await store.alerts.open({ sensorId: 'fan-2', start: T0 + 1000, ...opening });
      expect((await store.alerts.acknowledge(b.id, 'ana')).state).toBe('acknowledged');
      await expect(store.alerts.acknowledge(b.id, 'bob')).rejects.toThrow(/already acknowledged \(by ana/);
      expect(
        (await store.alerts.actions(b.id)).map(({ action, outcome, by }) => ({ action, outcome, by })),
      ).toEqual([
        { action: 'acknowledge', outcome: 'applied', by: 'ana' },
        { action: 'acknowledge', outcome: 'refused', by: 'bob' },
      ]);
      await expect(store.alerts.actions(999_999)).rejects.toThrow(/alert 999999 not found/);
      await store.alerts.annotate(b.id, { label: 'true fault', text: 'Bearing B-12 worn', author: 'ana' });
      expect((await store.alerts.list({ q: 'bear b-12' })).items.map((x) => x.id)).toEqual([b.id]);
      expect((await store.alerts.list({ label: 'true fault' })).total).toBe(1);
      expect((await store.alerts.list({}, 50, 0, { sort: 'peakScore' })).items.map((x) => x.id)).toEqual([
        a.id,
        b.id,
      ]);
      expect(await store.alerts.neighbours(b.id, {}, {})).toEqual({
        id: b.id,
        previous: a.id,
        next: null,
        position: 2,
        total: 2,
      });
      expect(await store.alerts.unresolvedCounts()).toEqual(
        new Map([
          ['fan-2', 1],
          ['pump-1', 1],
        ]),
      );
      expect((await store.alerts.resolve(a.id, 'ana')).state).toBe('resolved');
      // After a restart nothing is over the threshold any more: both close, ending at the given time.
      expect((await store.alerts.deactivateAll(T0 + 20_000)).map((x) => [x.id, x.active, x.end])).toEqual([
        [a.id, false, T0 + 20_000],
        [b.id, false, T0 + 20_000],
      ]);
      expect(await store.trends.alertsPerDay('pump-1', T0, T0)).toEqual(new Map([[T0, 1]]));
    } finally {
      await store.close();
    }
  });

  it('tokens, sensors, feedback, models, the outbox and notifications', async () => {
    const store = await open(engine);
    try {
      const t = await store.tokens.insert({ name: 'x', role: 'sensor', hash: 'h', createdAt: T0 });
      expect((await store.tokens.bindSensor(t.id, 'pump-1')).sensors).toEqual(['pump-1']);
      expect(await store.tokens.count()).toBe(1);
      expect((await store.tokens.revoke(t.id, T0 + 1)).revokedAt).toBe(T0 + 1);
      await store.sensors.upsert('pump-1', T0, { name: 'Pump 1', labels: { site: 'a' } });
      expect(await store.sensors.upsert('pump-1', T0 - 5)).toMatchObject({ name: 'Pump 1', lastSeen: T0 });
      expect(await store.sensors.markDeleted('pump-1', T0 + 1)).toBe(true);
      expect(await store.sensors.list()).toEqual([]);
      expect(await store.sensors.upsert('pump-1', T0 + 2)).toMatchObject({ name: 'pump-1', deletedAt: null });
      const a = await store.alerts.open({
        sensorId: 'pump-1',
        kind: 'anomaly',
        start: T0,
        peakScore: 2,
        peakAt: T0,
        threshold: 1,
      });
      const f = await store.feedback.create({
        sensorId: 'pump-1',
        alertId: a.id,
        windows: 3,
        patches: 9,
        path: '/p',
        createdBy: 'ana',
      });
      expect(await store.feedback.activeWindows('pump-1')).toBe(3);
      await store.feedback.revert('pump-1', f.id, 'bob');
      expect(await store.feedback.activeWindows('pump-1')).toBe(0);
      const m = await store.models.record({
        sensorId: 'pump-1',
        source: 'enrol',
        trainingSeconds: 60,
        trainingClips: 1,
        method: 'patchcore',
        backbone: 'b',
        bankSize: 10,
        threshold: 1.5,
      });
      expect(await store.models.latestFitted('pump-1')).toEqual(m);
      const o = await store.outbox.enqueue('alert.opened', '{}', T0);
      await store.outbox.markFailed(o.id, 1, 'no', T0 + 1);
      expect(await store.outbox.prune(T0 + 2)).toBe(1);
      const ch = await store.notifications.createChannel({
        name: 'c',
        kind: 'webhook',
        enabled: true,
        config: {},
        secret: {},
      });
      await store.notifications.scheduleEscalation(
        a.id,
        (
          await store.notifications.createRule({
            name: 'r',
            enabled: true,
            channelId: ch.id,
            sensorIds: [],
            labels: {},
            severities: ['warning'],
            events: ['alert.opened'],
            quietHours: null,
            escalation: null,
          })
        ).id,
        T0,
      );
      expect(await store.notifications.nextEscalationAt()).toBe(T0);
      expect((await store.sensors.purge('pump-1')).length).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('the two retry queues, webhook outbox and notification deliveries: due, next due, retry, deliver, fail', async () => {
    const store = await open(engine);
    try {
      const channel = await store.notifications.createChannel({
        name: 'ops',
        kind: 'webhook',
        enabled: true,
        config: {},
        secret: {},
      });
      const delivery = (dueAt: number) =>
        store.notifications.enqueue(
          { alertId: null, channel, ruleId: null, event: 'alert.opened', payload: '{}', dueAt },
          T0,
        );
      // One script for both queues, through each repository's own names.
      const queues = [
        {
          add: async (at: number) => (await store.outbox.enqueue('alert.opened', '{}', at)).id,
          due: async (now: number) => (await store.outbox.due(now)).map((e) => e.id),
          next: () => store.outbox.nextDueAt(),
          get: async (id: number) => {
            const e = (await store.outbox.get(id))!;
            return { state: e.state, attempts: e.attempts, error: e.lastError, doneAt: e.doneAt };
          },
          q: store.outbox,
        },
        {
          add: async (at: number) => (await delivery(at)).id,
          due: async (now: number) => (await store.notifications.due(now)).map((d) => d.id),
          next: () => store.notifications.nextDeliveryAt(),
          get: async (id: number) => {
            const d = await store.notifications.requireDelivery(id);
            return { state: d.state, attempts: d.attempts, error: d.error, doneAt: d.doneAt };
          },
          q: store.notifications,
        },
      ];
      for (const { add, due, next, get, q } of queues) {
        expect(await next()).toBeNull();
        const a = await add(T0);
        const b = await add(T0 + 10);
        const c = await add(T0 + 10);
        expect(await due(T0)).toEqual([a]);
        expect(await due(T0 + 10)).toEqual([a, b, c]);
        await q.markRetry(a, 1, 'HTTP 503', T0 + 1000);
        expect(await get(a)).toEqual({ state: 'pending', attempts: 1, error: 'HTTP 503', doneAt: null });
        expect(await due(T0 + 10)).toEqual([b, c]);
        expect(await next()).toBe(T0 + 10);
        await q.markDelivered(b, 1, T0 + 20);
        await q.markFailed(c, 3, 'HTTP 404', T0 + 20);
        expect(await get(b)).toEqual({ state: 'delivered', attempts: 1, error: null, doneAt: T0 + 20 });
        expect(await get(c)).toEqual({ state: 'failed', attempts: 3, error: 'HTTP 404', doneAt: T0 + 20 });
        expect(await next()).toBe(T0 + 1000);
        expect(await due(T0 + 999)).toEqual([]);
        expect(await due(T0 + 1000)).toEqual([a]);
        await q.markDelivered(a, 2, T0 + 1000);
        expect(await get(a)).toEqual({ state: 'delivered', attempts: 2, error: null, doneAt: T0 + 1000 });
        expect(await next()).toBeNull();
      }
      expect(await store.outbox.pendingCount()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('scores and history: flush, downsample to the peaks, prune, trends, blocks', async () => {
    const store = await open(engine);
    try {
      for (let i = 0; i < 100; i++) await store.scores.append('s', T0 + i * 500, i === 37 ? 9 : 0.1);
      await store.scores.append('s', T0, 0.2); // the later point of one ms wins
      expect(await store.scores.flush()).toBe(101);
      const all = await store.scores.range('s');
      expect(all).toHaveLength(100);
      expect(all[0]).toEqual({ t: T0, score: 0.2 });
      const ten = await store.scores.range('s', { limit: 10 });
      expect(ten).toHaveLength(10);
      expect(ten.map((p) => p.score)).toContain(9);
      expect(await store.trends.days('s', T0, T0, T0 + 86_400_000)).toMatchObject([
        { day: T0, n: 100, max: 9 },
      ]);
      expect(await store.scores.prune(T0 + store.scores.retentionMs + 25_000)).toBe(50);
      const bytes = new Uint8Array(8).fill(7);
      await store.history.insert([
        {
          sensorId: 's',
          tier: 0,
          t0: T0,
          hopMs: 10,
          nMels: 2,
          nColumns: 4,
          dbRange: [-80, 0],
          anomalyScale: 2,
          spectrogram: bytes,
          anomaly: bytes,
        },
      ]);
      const [block] = await store.history.range('s', 0, T0, T0 + 100);
      expect(Buffer.from(block.spectrogram)).toEqual(Buffer.from(bytes));
      expect(store.history.bytes(0)).toBe(16);
      expect(await store.history.trimTo(0)).toBe(16);
    } finally {
      await store.close();
    }
  });

  it('burn-ins: start once, progress, finish, refit, revert, restart', async () => {
    const store = await open(engine);
    try {
      const b = store.burnIns;
      const start = { sensorId: 'pump-1', version: 2, target: 100, by: null, ifAbsent: true };
      const first = await b.start({ ...start, at: T0 });
      expect(first.started).toBe(true);
      expect(first.record).toMatchObject({ state: 'collecting', target: 100, windows: 0, startedBy: null });
      // A new version's burn-in starts once: the server starting again finds it.
      expect((await b.start({ ...start, at: T0 + 5 })).started).toBe(false);
      expect(
        await b.progress('pump-1', 2, T0 + 1, { windows: 9, spanStart: 0, spanEnd: 1, reason: null }),
      ).toBe(false);
      const span = { spanStart: 1000.5, spanEnd: 51000.5 };
      expect(await b.progress('pump-1', 2, T0, { windows: 40, ...span, reason: 'waiting' })).toBe(true);
      expect(await b.get('pump-1', 2)).toMatchObject({ windows: 40, reason: 'waiting', spanStart: 1000.5 });
      await expect(b.revert('pump-1', 2, 'ana')).rejects.toThrow(/is collecting \(waiting\), not applied/);
      const fit = {
        perDay: 1,
        windowsPerDay: 172800,
        alertWindows: 2,
        confidence: 0.9,
        threshold: 0.61,
        estimate: 0.55,
        u: 0.4,
        zeta: 0.25,
        xi: -0.3,
        sigma: 0.05,
        n: 99,
        excesses: 25,
        clusters: 12,
      };
      const series: BurnInSeries = [[1000.5, 0.4], null, [2000.5, 0.5]];
      const outcome = { factor: 0.61, unbounded: 0.61, windows: 100, excluded: 0, fit };
      const finish = { outcome, reason: null, series, ...span, collected: 100 };
      expect(await b.finish('pump-1', 2, T0 + 1, finish, T0 + 60_000)).toBe(false);
      expect(await b.finish('pump-1', 2, T0, finish, T0 + 60_000)).toBe(true);
      expect(await b.get('pump-1', 2)).toMatchObject({
        state: 'applied',
        factor: 0.61,
        fit,
        appliedAt: T0 + 60_000,
        revertedAt: null,
      });
      expect(await b.series('pump-1', 2)).toEqual(series);
      const refitted = await b.refit(
        'pump-1',
        2,
        { ...outcome, factor: 0.7, windows: 80, excluded: 20 },
        null,
        20,
      );
      expect(refitted).toMatchObject({ state: 'applied', factor: 0.7, windows: 80, excluded: 20 });
      const reverted = await b.revert('pump-1', 2, 'ana', T0 + 90_000);
      expect(reverted).toMatchObject({
        state: 'reverted',
        revertedBy: 'ana',
        revertedAt: T0 + 90_000,
        factor: 0.7,
      });
      await expect(b.revert('pump-1', 2, 'bob')).rejects.toThrow(/already reverted by ana/);
      expect(await b.refit('pump-1', 2, outcome, null, 0)).toBeNull(); // only an applied one is refitted
      // An admin's restart replaces the record and collects again.
      const again = await b.start({ ...start, by: 'ana', ifAbsent: false, at: T0 + 100_000 });
      expect(again.started).toBe(true);
      expect(again.record).toMatchObject({ state: 'collecting', windows: 0, factor: null, startedBy: 'ana' });
      expect(await b.series('pump-1', 2)).toBeNull();
      expect((await b.listBySensor('pump-1')).map((r) => r.version)).toEqual([2]);
      await expect(b.require('pump-1', 3)).rejects.toThrow(/sensor 'pump-1' version 3 has no burn-in/);
    } finally {
      await store.close();
    }
  });
});

describe.runIf(hasPostgres)('several servers on one PostgreSQL', () => {
  it('open it at the same time: the migrations run once, under the advisory lock', async () => {
    const url = postgresUrl();
    const stores = await Promise.all([1, 2, 3].map(() => HarkStore.open({ engine: 'postgres', url })));
    try {
      expect(await Promise.all(stores.map((s) => s.database.schemaVersion()))).toEqual([
        MIGRATIONS.length,
        MIGRATIONS.length,
        MIGRATIONS.length,
      ]);
      const a = await stores[0].alerts.open({
        sensorId: 'p',
        kind: 'anomaly',
        start: T0,
        peakScore: 2,
        peakAt: T0,
        threshold: 1,
      });
      // Two operators on two instances at once: one wins, the other is told who did it first.
      const results = await Promise.allSettled([
        stores[1].alerts.acknowledge(a.id, 'ana'),
        stores[2].alerts.acknowledge(a.id, 'bob'),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
      // Both are in the alert's record, seen alike from a third instance: the winner applied, the other refused.
      const winner = (await stores[0].alerts.require(a.id)).acknowledgedBy!;
      const actions = await stores[0].alerts.actions(a.id);
      expect(actions.map((x) => [x.action, x.by, x.outcome]).sort()).toEqual(
        [
          ['acknowledge', winner, 'applied'],
          ['acknowledge', winner === 'ana' ? 'bob' : 'ana', 'refused'],
        ].sort(),
      );
      expect(actions.find((x) => x.outcome === 'refused')!.detail).toMatch(
        new RegExp(`already acknowledged \\(by ${winner}`),
      );
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
