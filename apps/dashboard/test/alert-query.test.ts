import { describe, expect, it } from 'vitest';
import {
  alertFilterQuery,
  applyAlertToPage,
  compareAlerts,
  listQuery,
  matchesAlertFilter,
  nextSort,
  parseAlertFilter,
} from '../src/lib/alert-query';
import type { Alert, Page } from '../src/lib/contracts';
import { alert } from './helpers';

describe('alert filters', () => {
  it('reads search, label group and a whitelisted sort; order only with a sort', () => {
    const f = parseAlertFilter({ q: ' bearing ', group: 'site:plant-a', sort: 'peakScore', order: 'asc' });
    expect(f).toMatchObject({ q: 'bearing', group: 'site:plant-a', sort: 'peakScore', order: 'asc' });
    expect(parseAlertFilter({ sort: 'loudness', order: 'asc' })).toEqual({ limit: 25, offset: 0 });
    expect(parseAlertFilter({ order: 'desc' }).order).toBeUndefined();
    expect(listQuery({ ...f, offset: 50 })).toEqual({
      q: 'bearing',
      group: 'site:plant-a',
      sort: 'peakScore',
      order: 'asc',
    });
  });

  it('sorts a clicked column by its own order first, then the other way', () => {
    const none = parseAlertFilter({});
    expect(nextSort(none, 'peakScore')).toEqual({ sort: 'peakScore', order: 'desc' });
    expect(nextSort(none, 'sensor')).toEqual({ sort: 'sensor', order: 'asc' });
    expect(nextSort(parseAlertFilter({ sort: 'peakScore' }), 'peakScore').order).toBe('asc');
    expect(nextSort(parseAlertFilter({ sort: 'peakScore', order: 'asc' }), 'peakScore').order).toBe('desc');
    expect(nextSort(parseAlertFilter({ sort: 'start', order: 'asc' }), 'peakScore').order).toBe('desc');
  });

  it('matches words of the notes and a label group as the server does', () => {
    const a = alert({
      annotations: [
        { id: 1, alertId: 1, label: 'maintenance', text: 'Greased the Bearing', author: 'x', at: 0 },
        { id: 2, alertId: 1, label: 'maintenance', text: 'valve B-12', author: 'x', at: 0 },
      ],
    });
    const m = (q: Record<string, string>, labels?: Record<string, string>) =>
      matchesAlertFilter(a, parseAlertFilter(q), labels);
    expect(m({ q: 'bear b-12' })).toBe(true);
    expect(m({ q: 'bear pump' })).toBe(false);
    expect(m({ group: 'site:plant-a' }, { site: 'plant-a', line: '1' })).toBe(true);
    expect(m({ group: 'site:plant-a,line:2' }, { site: 'plant-a', line: '1' })).toBe(false);
    expect(m({ group: 'site:plant-a' })).toBe(false);
  });

  it('parses the route query with defaults and bounds', () => {
    expect(parseAlertFilter({})).toEqual({ limit: 25, offset: 0 });
    const f = parseAlertFilter({
      sensorId: 'p',
      state: 'open',
      label: 'false alarm',
      from: '10',
      to: '20',
      limit: '999',
      offset: '-5',
    });
    expect(f).toMatchObject({
      sensorId: 'p',
      state: 'open',
      label: 'false alarm',
      from: 10,
      to: 20,
      limit: 200,
      offset: 0,
    });
    expect(alertFilterQuery(f)).toEqual({
      sensorId: 'p',
      state: 'open',
      label: 'false alarm',
      from: '10',
      to: '20',
      limit: '200',
      offset: '0',
    });
  });

  it('matches sensor, state, label and time range', () => {
    const a = alert({
      start: 100,
      end: 200,
      annotations: [{ id: 1, alertId: 1, label: 'maintenance', text: '', author: 'x', at: 0 }],
    });
    const f = (q: Record<string, string>) => matchesAlertFilter(a, parseAlertFilter(q));
    expect(f({ sensorId: 'pump-1', state: 'open' })).toBe(true);
    expect(f({ sensorId: 'other' })).toBe(false);
    expect(f({ state: 'resolved' })).toBe(false);
    expect(f({ label: 'maintenance' })).toBe(true);
    expect(f({ label: 'true fault' })).toBe(false);
    expect(f({ from: '150', to: '160' })).toBe(true);
    expect(f({ from: '201' })).toBe(false);
    expect(f({ to: '99' })).toBe(false);
    expect(matchesAlertFilter(alert({ start: 100, end: null }), parseAlertFilter({ from: '1000' }))).toBe(
      true,
    );
  });

  it('orders open first, then newest', () => {
    const list = [
      alert({ id: 1, state: 'resolved', start: 9 }),
      alert({ id: 2, start: 1 }),
      alert({ id: 3, start: 5 }),
    ];
    expect(list.sort(compareAlerts).map((a) => a.id)).toEqual([3, 2, 1]);
  });
});

describe('live alerts on a page', () => {
  const page = (items: Alert[], offset = 0): Page<Alert> => ({
    items,
    total: items.length + offset,
    limit: 2,
    offset,
  });
  const filter = parseAlertFilter({ state: 'open', limit: '2' });

  it('replaces a known row, or drops it when it leaves the filter', () => {
    const p = page([alert({ id: 2, start: 2 }), alert({ id: 1, start: 1 })]);
    const updated = applyAlertToPage(p, alert({ id: 1, start: 1, peakScore: 9 }), filter);
    expect(updated.items[1].peakScore).toBe(9);
    const acked = applyAlertToPage(p, alert({ id: 1, state: 'acknowledged' }), filter);
    expect(acked.items.map((a) => a.id)).toEqual([2]);
    expect(acked.total).toBe(1);
  });

  it('inserts a new matching alert on the first page only', () => {
    const p = page([alert({ id: 2, start: 2 }), alert({ id: 1, start: 1 })]);
    const added = applyAlertToPage(p, alert({ id: 3, start: 3 }), filter);
    expect(added.items.map((a) => a.id)).toEqual([3, 2]);
    expect(added.total).toBe(3);
    const later = applyAlertToPage(page([alert({ id: 1 })], 2), alert({ id: 3, start: 3 }), filter);
    expect(later.items.map((a) => a.id)).toEqual([1]);
    expect(later.total).toBe(4);
    expect(applyAlertToPage(p, alert({ id: 9, state: 'resolved' }), filter)).toBe(p);
  });
});
