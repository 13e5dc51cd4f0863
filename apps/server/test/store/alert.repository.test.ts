import { describe, expect, it } from 'vitest';
import type { Alert } from '@hark/protocol';
import { ConflictError, InvalidArgumentError, NotFoundError, type NewAlert } from '../../src/store/index.js';
import { ERROR_STATUS } from '../../src/http/error.filter.js';
import { tempStore } from './helpers.js';

const T0 = Date.UTC(2025, 0, 1);
const box = { t0: T0, t1: T0 + 500, fLow: 200, fHigh: 800, score: 1.4 };
const anomaly = (over: Partial<NewAlert> = {}): NewAlert => ({
  sensorId: 'pump-1',
  kind: 'anomaly',
  start: T0,
  peakScore: 1.2,
  peakAt: T0 + 200,
  threshold: 0.8,
  ...over,
});

describe('AlertRepository', () => {
  it('opens an alert as the exact Alert of the contract', () => {
    const { store } = tempStore();
    const alert = store.alerts.open(anomaly({ boxes: [box], openedAt: T0 + 1000 }));
    const expected: Alert = {
      id: alert.id,
      sensorId: 'pump-1',
      kind: 'anomaly',
      state: 'open',
      active: true,
      start: T0,
      end: null,
      peakScore: 1.2,
      peakAt: T0 + 200,
      threshold: 0.8,
      boxes: [box],
      acknowledgedBy: null,
      acknowledgedAt: null,
      resolvedBy: null,
      resolvedAt: null,
      annotations: [],
      clip: { available: false, start: null, seconds: null },
      feedback: null,
      severity: 'warning',
      count: 1,
      occurrences: [
        { start: T0, end: null, peakScore: 1.2, peakAt: T0 + 200, openedAt: T0 + 1000, clearedAt: null },
      ],
      clearedAt: null,
      autoResolved: false,
    };
    expect(alert).toStrictEqual(expected);
    expect(store.alerts.get(alert.id)).toStrictEqual(expected);
    expect(store.sensors.get('pump-1')?.name).toBe('pump-1'); // created on the fly
  });

  it('updates the signal side, closes and records the clip', () => {
    const { store } = tempStore();
    const { id } = store.alerts.open(anomaly());
    store.alerts.update(id, { peakScore: 2.5, peakAt: T0 + 900, boxes: [box] });
    const closed = store.alerts.update(id, { active: false, end: T0 + 3000 });
    expect(closed).toMatchObject({
      active: false,
      end: T0 + 3000,
      peakScore: 2.5,
      peakAt: T0 + 900,
      boxes: [box],
    });
    expect(store.alerts.setClip(id, { start: T0 - 2000, seconds: 7 }).clip).toEqual({
      available: true,
      start: T0 - 2000,
      seconds: 7,
    });
    expect(() => store.alerts.update(999, { active: false })).toThrow(
      new NotFoundError('alert 999 not found'),
    );
  });

  it('acknowledges once, resolves from open or acknowledged, and resolved is final', () => {
    const { store } = tempStore();
    const a = store.alerts.open(anomaly());
    const b = store.alerts.open(anomaly({ start: T0 + 1 }));

    const acked = store.alerts.acknowledge(a.id, 'ana', T0 + 10);
    expect(acked).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'ana', acknowledgedAt: T0 + 10 });
    expect(() => store.alerts.acknowledge(a.id, 'bob')).toThrow(ConflictError);
    expect(() => store.alerts.acknowledge(a.id, 'bob')).toThrow(
      `alert ${a.id} is already acknowledged (by ana at 2025-01-01T00:00:00.010Z)`,
    );

    expect(store.alerts.resolve(a.id, 'bob', T0 + 20)).toMatchObject({
      state: 'resolved',
      acknowledgedBy: 'ana',
      resolvedBy: 'bob',
      resolvedAt: T0 + 20,
    });
    expect(store.alerts.resolve(b.id, 'bob', T0 + 30).state).toBe('resolved'); // straight from open
    expect(() => store.alerts.resolve(b.id, 'bob')).toThrow(`alert ${b.id} is already resolved`);
    expect(() => store.alerts.acknowledge(b.id, 'bob')).toThrow(`alert ${b.id} is resolved (by bob)`);
    expect(() => store.alerts.acknowledge(404, 'bob')).toThrow('alert 404 not found');
    expect(ERROR_STATUS[new ConflictError('x').code]).toBe(409); // mapped to HTTP in http/
  });

  it('annotates in any state and rejects unknown labels', () => {
    const { store } = tempStore();
    const { id } = store.alerts.open(anomaly());
    store.alerts.annotate(id, { label: 'maintenance', text: 'bearing swap', author: 'ana', at: T0 + 5 });
    store.alerts.resolve(id, 'ana');
    const alert = store.alerts.annotate(id, { label: 'true fault', author: 'bob', at: T0 + 6 });
    expect(alert.annotations).toEqual([
      {
        id: expect.any(Number),
        alertId: id,
        label: 'maintenance',
        text: 'bearing swap',
        author: 'ana',
        at: T0 + 5,
      },
      { id: expect.any(Number), alertId: id, label: 'true fault', text: '', author: 'bob', at: T0 + 6 },
    ]);
    // @ts-expect-error: not a label
    expect(() => store.alerts.annotate(id, { label: 'bogus', author: 'x' })).toThrow(
      "annotation label 'bogus' must be one of 'true fault', 'false alarm', 'maintenance', 'unknown'",
    );
    expect(() => store.alerts.annotate(77, { label: 'unknown', author: 'x' })).toThrow(NotFoundError);
  });

  it('joins the latest feedback of the alert', () => {
    const { store } = tempStore();
    const { id } = store.alerts.open(anomaly());
    const first = store.feedback.create({
      sensorId: 'pump-1',
      alertId: id,
      windows: 4,
      patches: 96,
      path: 'feedback/pump-1/1.f32',
      createdBy: 'ana',
    });
    expect(store.alerts.require(id).feedback).toEqual({ id: first.id, taught: true, revertedAt: null });
    store.feedback.revert('pump-1', first.id, 'bob', T0 + 9);
    expect(store.alerts.require(id).feedback).toEqual({ id: first.id, taught: false, revertedAt: T0 + 9 });
    const second = store.feedback.create({ ...first, createdBy: 'ana' });
    expect(store.alerts.require(id).feedback).toEqual({ id: second.id, taught: true, revertedAt: null });
  });

  it('lists open first, then acknowledged, then resolved, newest first within each', () => {
    const { store } = tempStore();
    const ids = Array.from({ length: 6 }, (_, i) => store.alerts.open(anomaly({ start: T0 + i * 1000 })).id);
    store.alerts.acknowledge(ids[1], 'a');
    store.alerts.acknowledge(ids[4], 'a');
    store.alerts.resolve(ids[5], 'a');
    store.alerts.resolve(ids[0], 'a');
    const page = store.alerts.list({}, 10, 0);
    expect(page.items.map((a) => a.id)).toEqual([ids[3], ids[2], ids[4], ids[1], ids[5], ids[0]]);
    expect(page).toMatchObject({ total: 6, limit: 10, offset: 0 });

    const second = store.alerts.list({}, 2, 2);
    expect(second.items.map((a) => a.id)).toEqual([ids[4], ids[1]]);
    expect(second.total).toBe(6);
  });

  it('filters by sensor, state(s), kind, label and overlapping time range', () => {
    const { store } = tempStore();
    const a = store.alerts.open(anomaly({ start: T0 }));
    store.alerts.update(a.id, { active: false, end: T0 + 1000 });
    const b = store.alerts.open(anomaly({ sensorId: 'fan-2', kind: 'silence', start: T0 + 5000 }));
    const c = store.alerts.open(anomaly({ start: T0 + 10_000 }));
    store.alerts.annotate(c.id, { label: 'false alarm', author: 'ana' });
    store.alerts.acknowledge(b.id, 'ana');
    const ids = (f: Parameters<typeof store.alerts.list>[0]) =>
      store.alerts.list(f, 50).items.map((x) => x.id);

    expect(ids({ sensorId: 'pump-1' })).toEqual([c.id, a.id]);
    expect(ids({ state: 'acknowledged' })).toEqual([b.id]);
    expect(ids({ state: ['open', 'acknowledged'] })).toEqual([c.id, a.id, b.id]);
    expect(ids({ kind: 'silence' })).toEqual([b.id]);
    expect(ids({ label: 'false alarm' })).toEqual([c.id]);
    expect(ids({ label: 'true fault' })).toEqual([]);
    expect(ids({ from: T0 + 2000 })).toEqual([c.id, b.id]); // a ended at T0 + 1000
    expect(ids({ to: T0 + 5000 })).toEqual([a.id, b.id]);
    expect(ids({ from: T0 + 500, to: T0 + 600 })).toEqual([a.id]);
    expect(store.alerts.list({ sensorId: 'nobody' })).toEqual({ items: [], total: 0, limit: 50, offset: 0 });
  });

  it('searches the notes: every word, case-insensitive, as substrings; % and _ are plain characters', () => {
    const { store } = tempStore();
    const a = store.alerts.open(anomaly({ start: T0 }));
    const b = store.alerts.open(anomaly({ start: T0 + 1000 }));
    const c = store.alerts.open(anomaly({ start: T0 + 2000 }));
    store.alerts.annotate(a.id, { label: 'true fault', text: 'Bearing B-12 worn', author: 'ana' });
    store.alerts.annotate(b.id, { label: 'maintenance', text: 'greased the bearing', author: 'ana' });
    store.alerts.annotate(b.id, { label: 'maintenance', text: 'valve at 50% open', author: 'ana' });
    store.alerts.annotate(c.id, { label: 'false alarm', text: 'forklift passing', author: 'ana' });
    const ids = (q: string) => store.alerts.list({ q }, 50).items.map((x) => x.id);

    expect(ids('bear')).toEqual([b.id, a.id]);
    expect(ids('BEARING b-12')).toEqual([a.id]);
    expect(ids('bearing valve')).toEqual([b.id]); // words may sit in different notes of one alert
    expect(ids('50%')).toEqual([b.id]);
    expect(ids('5_%')).toEqual([]); // not a wildcard
    expect(ids('conveyor')).toEqual([]);
    expect(() => store.alerts.list({ q: 'a b c d e f g h i' })).toThrow(
      "q ('a b c d e f g h i') has 9 words; search with at most 8",
    );
  });

  it('filters by a label group of the sensors', () => {
    const { store } = tempStore();
    store.sensors.upsert('pump-1', T0, { labels: { site: 'plant-a', line: '1' } });
    store.sensors.upsert('fan-2', T0, { labels: { site: 'plant-a', line: '2' } });
    store.sensors.upsert('mill-3', T0, { labels: { site: 'plant-b' } });
    const a = store.alerts.open(anomaly({ sensorId: 'pump-1', start: T0 }));
    const b = store.alerts.open(anomaly({ sensorId: 'fan-2', start: T0 + 1000 }));
    store.alerts.open(anomaly({ sensorId: 'mill-3', start: T0 + 2000 }));
    const ids = (f: Parameters<typeof store.alerts.list>[0]) =>
      store.alerts.list(f, 50).items.map((x) => x.id);
    expect(ids({ labels: { site: 'plant-a' } })).toEqual([b.id, a.id]);
    expect(ids({ labels: { site: 'plant-a', line: '1' } })).toEqual([a.id]);
    expect(ids({ labels: { site: 'plant-a' }, sensorId: 'fan-2' })).toEqual([b.id]);
    expect(ids({ labels: { site: 'plant-c' } })).toEqual([]);
    expect(store.alerts.ids({ labels: { line: '2' } }, 10)).toEqual([b.id]);
  });

  it('sorts by a whitelisted column, ties by id, and finds the neighbours of an alert in that order', () => {
    const { store } = tempStore();
    store.sensors.upsert('b-pump', T0, { name: 'Pump B' });
    store.sensors.upsert('a-fan', T0, { name: 'Zeta fan' });
    const peaks = [1.5, 3, 1.5, 2, 9];
    const ids = peaks.map(
      (p, i) =>
        store.alerts.open(
          anomaly({ sensorId: i % 2 ? 'a-fan' : 'b-pump', start: T0 + i * 1000, peakScore: p }),
        ).id,
    );
    store.alerts.acknowledge(ids[4], 'ana');
    const order = (o: Parameters<typeof store.alerts.list>[3]) =>
      store.alerts.list({}, 50, 0, o).items.map((x) => x.id);

    expect(order({})).toEqual([ids[3], ids[2], ids[1], ids[0], ids[4]]); // open first, newest first
    expect(order({ sort: 'peakScore' })).toEqual([ids[4], ids[1], ids[3], ids[2], ids[0]]);
    expect(order({ sort: 'peakScore', order: 'asc' })).toEqual([ids[0], ids[2], ids[3], ids[1], ids[4]]);
    expect(order({ sort: 'start', order: 'asc' })).toEqual(ids);
    // By display name: 'Pump B' before 'Zeta fan'.
    expect(order({ sort: 'sensor' })).toEqual([ids[0], ids[2], ids[4], ids[1], ids[3]]);
    expect(order({ sort: 'state', order: 'desc' })[0]).toBe(ids[4]);
    expect(store.alerts.list({}, 2, 1, { sort: 'peakScore' }).items.map((x) => x.id)).toEqual([
      ids[1],
      ids[3],
    ]);

    // Walking the list by neighbours visits it in order, both ways, for every sort.
    for (const o of [{}, { sort: 'peakScore' }, { sort: 'sensor', order: 'desc' }] as const) {
      const list = order(o);
      list.forEach((id, i) => {
        expect(store.alerts.neighbours(id, {}, o), JSON.stringify(o)).toEqual({
          id,
          previous: list[i - 1] ?? null,
          next: list[i + 1] ?? null,
          position: i + 1,
          total: 5,
        });
      });
    }
    // An alert that left the filtered list still has the neighbours around where it was.
    expect(store.alerts.neighbours(ids[2], { state: 'acknowledged' }, {})).toEqual({
      id: ids[2],
      previous: null,
      next: ids[4],
      position: null,
      total: 1,
    });
    expect(store.alerts.neighbours(ids[2], { sensorId: 'b-pump' }, { sort: 'peakScore' })).toMatchObject({
      previous: ids[4],
      next: ids[0],
      position: 2,
      total: 3,
    });
    expect(() => store.alerts.neighbours(999, {}, {})).toThrow(new NotFoundError('alert 999 not found'));
  });

  it('validates page sizes and filters with clear messages', () => {
    const { store } = tempStore();
    expect(() => store.alerts.list({}, 0)).toThrow(
      new InvalidArgumentError('limit (0) must be an integer in 1..500'),
    );
    expect(() => store.alerts.list({}, 501)).toThrow('limit (501) must be an integer in 1..500');
    expect(() => store.alerts.list({}, 10, -1)).toThrow('offset (-1) must be an integer');
    // @ts-expect-error: not a state
    expect(() => store.alerts.list({ state: 'closed' })).toThrow(
      "state 'closed' must be one of open, acknowledged",
    );
    expect(() => store.alerts.list({ from: 10, to: 5 })).toThrow('from (10) must not be after to (5)');
    expect(store.alerts.list({}, 500).limit).toBe(500);
  });

  it('finds the active alert, counts unresolved ones and deactivates all after a restart', () => {
    const { store } = tempStore();
    const a = store.alerts.open(anomaly());
    const s = store.alerts.open(anomaly({ kind: 'silence', start: T0 + 1 }));
    store.alerts.open(anomaly({ sensorId: 'fan-2' }));
    expect(store.alerts.activeFor('pump-1')?.id).toBe(s.id);
    expect(store.alerts.activeFor('pump-1', 'anomaly')?.id).toBe(a.id);
    store.alerts.resolve(a.id, 'x');
    expect(store.alerts.unresolvedCounts()).toEqual(
      new Map([
        ['pump-1', 1],
        ['fan-2', 1],
      ]),
    );
    const changed = store.alerts.deactivateAll(T0 + 60_000);
    expect(changed.map((x) => [x.active, x.end])).toEqual([
      [false, T0 + 60_000],
      [false, T0 + 60_000],
      [false, T0 + 60_000],
    ]);
    expect(store.alerts.activeFor('pump-1')).toBeNull();
  });
});
