import { describe, expect, it } from 'vitest';
import { deriveTileState } from '../src/lib/sensor-state';
import { arrangeTiles, buildTiles, compareTiles, countStates, matchesFilter } from '../src/lib/tiles';
import { alert, model, sensor } from './helpers';

describe('tile state', () => {
  it('derives every state from the status and the alerts held', () => {
    expect(deriveTileState(sensor())).toBe('ok');
    expect(deriveTileState(sensor(), [alert({ state: 'open' })])).toBe('alert');
    expect(deriveTileState(sensor({ openAlerts: 1 }))).toBe('alert');
    expect(deriveTileState(sensor(), [alert({ state: 'acknowledged' })])).toBe('acknowledged');
    expect(deriveTileState(sensor({ openAlerts: 1 }), [alert({ state: 'acknowledged' })])).toBe(
      'acknowledged',
    );
    expect(deriveTileState(sensor(), [alert({ state: 'resolved' })])).toBe('ok');
    expect(deriveTileState(sensor(), [alert({ sensorId: 'other' })])).toBe('ok');
    expect(deriveTileState(sensor({ connected: false, state: 'disconnected' }))).toBe('disconnected');
    expect(deriveTileState(sensor({ state: 'overloaded' }))).toBe('overloaded');
    expect(deriveTileState(sensor({ silent: true }))).toBe('silent');
    expect(deriveTileState(sensor({ state: 'enrolling', model: model({ state: 'recording' }) }))).toBe(
      'enrolling',
    );
    expect(deriveTileState(sensor({ state: 'connected', model: model({ state: 'fitting' }) }))).toBe(
      'enrolling',
    );
    expect(deriveTileState(sensor({ state: 'no-model', model: model({ state: 'none' }) }))).toBe('no-model');
  });

  it('an open alert outranks a disconnection; a disconnection outranks silence', () => {
    expect(deriveTileState(sensor({ connected: false, state: 'disconnected' }), [alert()])).toBe('alert');
    expect(deriveTileState(sensor({ connected: false, state: 'disconnected', silent: true }))).toBe(
      'disconnected',
    );
  });
});

describe('tiles', () => {
  const sensors = [
    sensor({ id: 'fan-2', name: 'Fan 2', labels: { site: 'plant-1', line: 'A' } }),
    sensor({ id: 'pump-1', name: 'Pump 1', labels: { site: 'plant-1', line: 'A' } }),
    sensor({ id: 'pump-3', name: 'Pump 3', labels: { site: 'plant-2' }, silent: true }),
    sensor({ id: 'valve-9', name: 'Valve 9', connected: false, state: 'disconnected' }),
  ];
  const alerts = [
    alert({ id: 1, sensorId: 'pump-1' }),
    alert({ id: 2, sensorId: 'pump-1', state: 'acknowledged' }),
  ];
  const tiles = buildTiles(sensors, alerts);

  it('counts open and acknowledged alerts apart and sorts problems first', () => {
    const byId = Object.fromEntries(tiles.map((t) => [t.status.id, t]));
    expect(byId['pump-1'].openAlerts).toBe(1);
    expect(byId['pump-1'].acknowledgedAlerts).toBe(1);
    expect(byId['pump-1'].state).toBe('alert');
    expect([...tiles].sort(compareTiles).map((t) => t.state)).toEqual([
      'alert',
      'disconnected',
      'silent',
      'ok',
    ]);
  });

  it("takes the server's unresolved count as open only while it holds none of the sensor's alerts", () => {
    const [unknown] = buildTiles([sensor({ id: 'fan-4', openAlerts: 2 })], alerts);
    expect([unknown.openAlerts, unknown.acknowledgedAlerts]).toEqual([2, 0]);
    // Acknowledged: the server still counts it as unresolved, the tile does not call it open.
    const [acked] = buildTiles(
      [sensor({ id: 'fan-4', openAlerts: 1 })],
      [alert({ id: 7, sensorId: 'fan-4', state: 'acknowledged' })],
    );
    expect([acked.state, acked.openAlerts, acked.acknowledgedAlerts]).toEqual(['acknowledged', 0, 1]);
  });

  it('filters by text (id, name, label values) and by state', () => {
    const t = tiles.find((x) => x.status.id === 'fan-2')!;
    expect(matchesFilter(t, { text: 'FAN' })).toBe(true);
    expect(matchesFilter(t, { text: 'plant-1 a' })).toBe(true);
    expect(matchesFilter(t, { text: 'line:A' })).toBe(true);
    expect(matchesFilter(t, { text: 'pump' })).toBe(false);
    expect(matchesFilter(t, { states: ['alert'] })).toBe(false);
    expect(matchesFilter(t, { states: ['ok', 'alert'] })).toBe(true);
  });

  it('groups by site and line, the group with the worst tile first, unlabelled sensors last among equals', () => {
    const groups = arrangeTiles(tiles);
    expect(groups.map((g) => g.key)).toEqual(['site: plant-1 / line: A', '', 'site: plant-2']);
    expect(groups[0].tiles.map((t) => t.status.id)).toEqual(['pump-1', 'fan-2']);
    expect(arrangeTiles(tiles, { states: ['silent'] }).map((g) => g.key)).toEqual(['site: plant-2']);
  });

  it('counts states for the filter chips', () => {
    expect(countStates(tiles)).toMatchObject({
      alert: 1,
      disconnected: 1,
      silent: 1,
      ok: 1,
      acknowledged: 0,
    });
  });
});
