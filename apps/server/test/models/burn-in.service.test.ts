/**
 * The live burn-in's wiring over a real store and event bus: which versions burn in, collecting with breaks,
 * waiting for an open unlabelled alert, leaving out fault spans (also when marked after the factor was
 * applied), revert, restart, and a server restart during a collection (resumed from the windows written). The registry's view of the active model
 * is a plain object here (the e2e test in test/server/burn-in.test.ts runs it over real models).
 */
import type { ModelStatus } from '@hark/protocol';
import { describe, expect, it } from 'vitest';
import { HarkEvents, type BurnInChanged } from '../../src/events.js';
import { BurnInService, type BurnInModels } from '../../src/models/burn-in.service.js';
import type { HarkStore } from '../../src/store/store.js';
import { tempStore } from '../store/helpers.js';

const HOP = 500;
const WINDOW = 2000;

/** Deterministic normal-looking scores: 0.3 plus an exponential-tailed term (a fixed LCG, no Math.random). */
function scores(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return 0.3 - 0.05 * Math.log(1 - x / 2 ** 31);
  });
}

function setup(o: { windows?: number; source?: ModelStatus['source']; asked?: boolean | null } = {}) {
  const { store } = tempStore();
  return { store, ...service(store, o) };
}

function service(
  store: HarkStore,
  o: { windows?: number; source?: ModelStatus['source']; asked?: boolean | null } = {},
) {
  const events = new HarkEvents();
  const notices: BurnInChanged[] = [];
  events.on('burn-in:changed', (m) => notices.push(m));
  const model = { version: 3 as number | null, source: o.source ?? 'upload', asked: o.asked ?? null };
  const models: BurnInModels = {
    status: () => ({ version: model.version, source: model.source }),
    detector: () =>
      model.version === null ? null : { config: { falseAlarmsPerDay: 0, falseAlarmConfidence: 0.9 } },
    burnInAsked: () => model.asked,
  };
  const logs: string[] = [];
  const burnIn = new BurnInService({
    store,
    events,
    models,
    windows: o.windows ?? 100,
    hopSeconds: HOP / 1000,
    alertWindows: 2,
    log: (l) => logs.push(l),
  });
  /** Feeds windows i0.. (stream time from t0) with the given scores. */
  const feed = (xs: number[], t0 = 0) =>
    xs.forEach((s, i) => burnIn.scored('pump-1', { t0: t0 + i * HOP, t1: t0 + i * HOP + WINDOW }, s));
  return { events, notices, model, burnIn, logs, feed };
}

const settle = async (b: BurnInService) => {
  // The fit and its write run off the data path: wait for the record to leave 'collecting' or say why not.
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 10));
    const r = await b.get('pump-1', 3).catch(() => null);
    if (r && (r.state !== 'collecting' || r.reason)) return r;
  }
  throw new Error('the burn-in did not finish');
};

describe('BurnInService', () => {
  it('burns in an uploaded version: collects its first windows, applies a bounded factor, records it', async () => {
    const s = setup();
    await s.burnIn.sync('pump-1');
    expect(await s.burnIn.get('pump-1', 3)).toMatchObject({ state: 'collecting', target: 100, windows: 0 });
    s.feed(scores(60, 1));
    expect(await s.burnIn.get('pump-1', 3)).toMatchObject({ state: 'collecting', windows: 60 });
    expect(s.burnIn.summary('pump-1')).toEqual({
      version: 3,
      state: 'collecting',
      windows: 60,
      target: 100,
      factor: null,
    });
    expect(s.burnIn.factor('pump-1')).toBe(1);
    s.feed(scores(40, 2), 60 * HOP);
    const r = await settle(s.burnIn);
    expect(r.state).toBe('applied');
    expect(r.windows).toBe(100);
    expect(r.excluded).toBe(0);
    // Live scores sit near 0.3-0.5 of the fitted threshold: the factor lowers it, within the bounds.
    expect(r.factor).toBeGreaterThanOrEqual(0.5);
    expect(r.factor).toBeLessThan(1);
    expect(r.factor).toBe(Math.max(0.5, r.unbounded!));
    expect(r.fit).toMatchObject({ perDay: 1, windowsPerDay: 172_800, alertWindows: 2, confidence: 0.9 });
    expect(r.fit!.xi).toBeLessThanOrEqual(0);
    expect(r.spanStart).toBe(0);
    expect(r.spanEnd).toBe(99 * HOP + WINDOW);
    expect(s.burnIn.factor('pump-1')).toBe(r.factor);
    expect(s.burnIn.summary('pump-1')).toEqual({
      version: 3,
      state: 'applied',
      windows: 100,
      target: 100,
      factor: r.factor,
    });
    expect(s.notices).toEqual([{ sensorId: 'pump-1', version: 3 }]);
    // Later windows change nothing.
    s.feed(scores(50, 3), 100 * HOP);
    expect((await s.burnIn.get('pump-1', 3)).factor).toBe(r.factor);
  });

  it('burns in only enrolled and uploaded versions, or a placed model whose model.json asks', async () => {
    const placed = setup({ source: 'directory' });
    await placed.burnIn.sync('pump-1');
    await expect(placed.burnIn.get('pump-1', 3)).rejects.toThrow(/version 3 has no burn-in/);
    placed.model.asked = true;
    await placed.burnIn.sync('pump-1');
    expect((await placed.burnIn.get('pump-1', 3)).state).toBe('collecting');
    const refused = setup({ source: 'enrol', asked: false });
    await refused.burnIn.sync('pump-1');
    await expect(refused.burnIn.get('pump-1', 3)).rejects.toThrow(/has no burn-in/);
    const off = setup({ windows: 0 });
    await off.burnIn.sync('pump-1');
    await expect(off.burnIn.get('pump-1', 3)).rejects.toThrow(/has no burn-in/);
    await expect(off.burnIn.restart('pump-1', 3, 'ana')).rejects.toThrow(/--burn-in-windows 0/);
  });

  it('cuts the series at breaks: a window not scored, a reconnect', async () => {
    const s = setup();
    await s.burnIn.sync('pump-1');
    s.feed(scores(30, 4));
    s.feed(scores(30, 5), 31 * HOP); // window 30 was dropped
    s.feed(scores(40, 6), 3_600_000); // a reconnect an hour later
    const r = await settle(s.burnIn);
    expect(r.state).toBe('applied');
    const series = (await s.store.burnIns.series('pump-1', 3))!;
    expect(series.filter((p) => p === null)).toHaveLength(2);
    // Three runs of 30, 30 and 40 windows: one run minimum fewer per window in each (alert rule of 2).
    expect(r.fit!.n).toBe(100 - 3);
  });

  it('puts a window scored out of order back in its place', async () => {
    const s = setup();
    await s.burnIn.sync('pump-1');
    const xs = scores(100, 13);
    const at = (i: number) => ({ t0: i * HOP, t1: i * HOP + WINDOW });
    for (let i = 0; i < 100; i += 2) {
      // Two windows scored at once: the later one finishes first.
      s.burnIn.scored('pump-1', at(i + 1), xs[i + 1]);
      s.burnIn.scored('pump-1', at(i), xs[i]);
    }
    expect((await settle(s.burnIn)).state).toBe('applied');
    const series = (await s.store.burnIns.series('pump-1', 3))!;
    expect(series).toEqual(xs.map((x, i) => [at(i).t1, x]));
  });

  it('waits while an alert in it is open and unlabelled, then leaves out the span marked as a fault', async () => {
    const s = setup();
    await s.burnIn.sync('pump-1');
    const live = scores(100, 7);
    for (let i = 40; i < 60; i++) live[i] = 3; // a fault of 10 s
    const alert = await s.store.alerts.open({
      sensorId: 'pump-1',
      kind: 'anomaly',
      start: 40 * HOP,
      peakScore: 3,
      peakAt: 45 * HOP,
      threshold: 1,
    });
    await s.store.alerts.update(alert.id, {
      active: false,
      end: 59 * HOP + WINDOW,
      closedAt: 1,
      clearedAt: 1,
    });
    s.feed(live);
    const waiting = await settle(s.burnIn);
    expect(waiting).toMatchObject({ state: 'collecting', windows: 100 });
    expect(waiting.reason).toMatch(new RegExp(`waiting for alert ${alert.id} to be labelled`));
    expect(s.burnIn.factor('pump-1')).toBe(1);
    // The operator's mark (as the REST annotation publishes it): the next window looks again at once.
    s.events.emit(
      'alert:update',
      await s.store.alerts.annotate(alert.id, { label: 'true fault', text: 'bearing', author: 'ana' }),
    );
    s.feed([0.3], 100 * HOP);
    const r = await settle(s.burnIn);
    expect(r.state).toBe('applied');
    // Windows overlapping [start, end]: 4 before the fault (their ends reach into it) and 4 after.
    expect(r.excluded).toBe(20 + 2 * (WINDOW / HOP));
    expect(r.windows).toBe(100 - r.excluded);
    expect(r.factor).toBeLessThan(1); // without the fault's 3s the live threshold is under the fitted one
  });

  it('fits again without a span marked as a fault after the factor was applied', async () => {
    const s = setup();
    await s.burnIn.sync('pump-1');
    const live = scores(100, 8);
    for (let i = 70; i < 80; i++) live[i] = 1.8;
    const alert = await s.store.alerts.open({
      sensorId: 'pump-1',
      kind: 'anomaly',
      start: 70 * HOP,
      peakScore: 1.8,
      peakAt: 71 * HOP,
      threshold: 1,
    });
    await s.store.alerts.update(alert.id, {
      active: false,
      end: 79 * HOP + WINDOW,
      closedAt: 1,
      clearedAt: 1,
    });
    await s.store.alerts.resolve(alert.id, 'bob'); // resolved without a label: not a fault (yet)
    s.feed(live);
    const before = await settle(s.burnIn);
    expect(before).toMatchObject({ state: 'applied', excluded: 0 });
    s.events.emit(
      'alert:update',
      await s.store.alerts.annotate(alert.id, { label: 'true fault', text: 'late', author: 'ana' }),
    );
    for (let i = 0; i < 100 && (await s.burnIn.get('pump-1', 3)).excluded === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    const after = await s.burnIn.get('pump-1', 3);
    expect(after.state).toBe('applied');
    expect(after.excluded).toBe(10 + 2 * (WINDOW / HOP));
    expect(after.factor!).toBeLessThan(before.factor!);
    expect(s.burnIn.factor('pump-1')).toBe(after.factor);
    expect(s.notices).toHaveLength(2);
  });

  it('reverts to the fitted threshold and restarts, recording who and when', async () => {
    const s = setup();
    await s.burnIn.sync('pump-1');
    s.feed(scores(100, 9));
    const applied = await settle(s.burnIn);
    expect(applied.state).toBe('applied');
    const reverted = await s.burnIn.revert('pump-1', 3, 'ana');
    expect(reverted).toMatchObject({ state: 'reverted', revertedBy: 'ana', factor: applied.factor });
    expect(s.burnIn.factor('pump-1')).toBe(1);
    expect(s.burnIn.summary('pump-1')).toMatchObject({ state: 'reverted', factor: null });
    await expect(s.burnIn.revert('pump-1', 3, 'bob')).rejects.toThrow(/already reverted by ana/);
    await expect(s.burnIn.restart('pump-1', 2, 'ana')).rejects.toThrow(/scores with version 3, not 2/);
    const restarted = await s.burnIn.restart('pump-1', 3, 'ana');
    expect(restarted).toMatchObject({ state: 'collecting', startedBy: 'ana', windows: 0, factor: null });
    s.feed(scores(100, 10), 10_000_000);
    expect((await settle(s.burnIn)).state).toBe('applied');
    expect(s.notices.map((n) => n.version)).toEqual([3, 3, 3, 3]);
  });

  it('resumes after a server restart from the windows written with its progress; a new version starts its own', async () => {
    const { store, ...first } = setup();
    await first.burnIn.sync('pump-1');
    const before = scores(60, 11);
    first.feed(before);
    await new Promise((r) => setTimeout(r, 50));
    expect((await store.burnIns.get('pump-1', 3))!.windows).toBe(50); // progress written every 50
    expect((await store.burnIns.series('pump-1', 3))!).toHaveLength(50);
    // The process dies: its last 10 windows were in memory only. The next one resumes from the 50 written.
    const second = service(store);
    await second.burnIn.sync('pump-1');
    expect(await second.burnIn.get('pump-1', 3)).toMatchObject({
      state: 'collecting',
      windows: 50,
      spanStart: 0,
    });
    expect(second.logs).toContain('burn-in: pump-1 version 3: resuming from 50 of 100 windows');
    // The sensor resends from window 45 (not acknowledged before the restart): 45-49 count once.
    second.feed(scores(55, 12), 45 * HOP);
    expect(await second.burnIn.get('pump-1', 3)).toMatchObject({ state: 'collecting', windows: 100 });
    const r = await settle(second.burnIn);
    expect(r.state).toBe('applied');
    const series = (await store.burnIns.series('pump-1', 3))!;
    expect(series).toHaveLength(100);
    // The first 50 are the first process's windows, unchanged; no window is there twice.
    expect(series.slice(0, 50)).toEqual(before.slice(0, 50).map((x, i) => [i * HOP + WINDOW, x]));
    expect(new Set(series.map((p) => p![0])).size).toBe(100);
    second.model.version = 4;
    await second.burnIn.sync('pump-1');
    expect(second.burnIn.factor('pump-1')).toBe(1);
    expect((await second.burnIn.get('pump-1', 4)).state).toBe('collecting');
  });
});
