import { describe, expect, it } from 'vitest';
import { deriveTileState, formatAge, tileSince } from '../src/lib/sensor-state';
import { allTiles, assetPath, buildAssetTree, labelFormOf, labelsOfForm } from '../src/lib/assets';
import { buildTiles, compareTiles, countStates, matchesFilter, worstState } from '../src/lib/tiles';
import { alert, model, sensor } from './helpers';

describe('tile state', () => {
  it('derives every state from the status and the alerts held', () => {
    expect(deriveTileState(sensor())).toBe('ok');
    // The condition holds now: alert, whatever the alert's state.
    expect(deriveTileState(sensor({ activeAlertId: 1 }), [alert({ active: true })])).toBe('alert');
    expect(deriveTileState(sensor({ activeAlertId: 1 }), [alert({ state: 'acknowledged' })])).toBe('alert');
    // Cleared, nobody has looked: to review.
    expect(deriveTileState(sensor(), [alert({ state: 'open' })])).toBe('review');
    expect(deriveTileState(sensor({ openAlerts: 1, needsAttention: 1 }))).toBe('review');
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

  it('connectivity outranks the live condition and alert history; the live condition outranks silence', () => {
    const gone = sensor({ connected: false, state: 'disconnected', activeAlertId: 1, needsAttention: 1 });
    expect(deriveTileState(gone, [alert()])).toBe('disconnected');
    expect(deriveTileState(sensor({ connected: false, state: 'disconnected', silent: true }))).toBe(
      'disconnected',
    );
    expect(deriveTileState(sensor({ activeAlertId: 3, silent: true }))).toBe('alert');
  });

  it('says since when: the condition for an alert, else the state', () => {
    const s = sensor({ stateSince: 1000, activeSince: 5000, activeAlertId: 2 });
    expect(tileSince(s, 'alert')).toBe(5000);
    expect(tileSince(s, 'ok')).toBe(1000);
    expect(tileSince(sensor({ stateSince: null }), 'ok')).toBeNull();
    expect([
      formatAge(42_400),
      formatAge(5 * 60_000),
      formatAge(200 * 60_000),
      formatAge(50 * 3600_000),
    ]).toEqual(['42 s', '5 min', '3 h 20 min', '2 d 2 h']);
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

  it('counts open and acknowledged alerts apart and keeps a stable order (by name), whatever the states', () => {
    const byId = Object.fromEntries(tiles.map((t) => [t.status.id, t]));
    expect(byId['pump-1'].openAlerts).toBe(1);
    expect(byId['pump-1'].acknowledgedAlerts).toBe(1);
    expect(byId['pump-1'].state).toBe('review');
    expect([...tiles].sort(compareTiles).map((t) => t.status.id)).toEqual([
      'fan-2',
      'pump-1',
      'pump-3',
      'valve-9',
    ]);
    const [alerting] = buildTiles(
      [{ ...sensors[3], connected: true, state: 'scoring', activeAlertId: 9 }],
      [],
    );
    expect(alerting.state).toBe('alert');
    expect([alerting, ...tiles.slice(0, 3)].sort(compareTiles).map((t) => t.status.id)).toEqual([
      'fan-2',
      'pump-1',
      'pump-3',
      'valve-9',
    ]);
  });

  it("takes the server's needsAttention count as open only while it holds none of the sensor's alerts", () => {
    const [unknown] = buildTiles([sensor({ id: 'fan-4', openAlerts: 3, needsAttention: 2 })], alerts);
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
    expect(matchesFilter(t, { states: ['review'] })).toBe(false);
    expect(matchesFilter(t, { states: ['ok', 'review'] })).toBe(true);
  });

  it("names the worst state by the tiles' ranking, ok for none", () => {
    expect(worstState(tiles)).toBe('disconnected');
    expect(worstState(tiles.filter((t) => t.status.id !== 'valve-9'))).toBe('silent');
    expect(worstState([])).toBe('ok');
  });

  it('counts states for the filter chips', () => {
    expect(countStates(tiles)).toMatchObject({
      alert: 0,
      review: 1,
      disconnected: 1,
      silent: 1,
      ok: 1,
      acknowledged: 0,
    });
  });
});

describe('asset groups', () => {
  const sensors = [
    sensor({ id: 'press-10', name: 'Press 10', labels: { site: 'plant-1', line: 'A', machine: 'press' } }),
    sensor({ id: 'press-2', name: 'Press 2', labels: { site: 'plant-1', line: 'A', machine: 'press' } }),
    sensor({ id: 'hall-mic', name: 'Hall mic', labels: { site: 'plant-1' }, silent: true }),
    sensor({ id: 'fan-1', name: 'Fan 1', labels: { site: 'plant-1', line: 'B' } }),
    sensor({ id: 'pump-9', name: 'Pump 9', labels: { site: 'plant-1', machine: 'pump' } }),
    sensor({ id: 'orphan', name: 'Orphan', labels: { line: 'C' } }),
    sensor({ id: 'bare', name: 'Bare', labels: { room: 'cellar' }, connected: false, state: 'disconnected' }),
    sensor({ id: 'kiln', name: 'Kiln', labels: { site: 'yard 10' } }),
    sensor({ id: 'saw', name: 'Saw', labels: { site: 'yard 2' } }),
  ];
  const alerts = [alert({ id: 1, sensorId: 'press-2' })];
  const tiles = buildTiles(sensors, alerts);

  it('places a sensor at its deepest label, missing levels above it in "unassigned", none at all at the top', () => {
    expect(assetPath({ site: 'p', line: 'A', machine: 'm' })).toEqual(['p', 'A', 'm']);
    expect(assetPath({ site: 'p', machine: 'm' })).toEqual(['p', null, 'm']);
    expect(assetPath({ line: ' C ' })).toEqual([null, 'C']);
    expect(assetPath({ site: 'p', line: '  ' })).toEqual(['p']);
    expect(assetPath({ room: 'x' })).toEqual([]);
    const tree = buildAssetTree(tiles);
    // Sites by value (numeric), unassigned last.
    expect(tree.map((g) => g.value)).toEqual(['plant-1', 'yard 2', 'yard 10', null]);
    const plant = tree[0];
    expect(plant.sensors.map((t) => t.status.id)).toEqual(['hall-mic']);
    expect(plant.children.map((g) => [g.level, g.value])).toEqual([
      ['line', 'A'],
      ['line', 'B'],
      ['line', null],
    ]);
    expect(plant.children[0].children[0]).toMatchObject({
      level: 'machine',
      value: 'press',
      key: 'site=plant-1/line=A/machine=press',
    });
    // Numeric order inside a group: Press 2 before Press 10.
    expect(plant.children[0].children[0].sensors.map((t) => t.status.id)).toEqual(['press-2', 'press-10']);
    expect(plant.children[2].children[0].sensors.map((t) => t.status.id)).toEqual(['pump-9']);
    const unassigned = tree[3];
    expect(unassigned.sensors.map((t) => t.status.id)).toEqual(['bare']);
    expect(unassigned.children.map((g) => [g.key, g.sensors[0].status.id])).toEqual([
      ['site=/line=C', 'orphan'],
    ]);
    expect(tree.flatMap(allTiles)).toHaveLength(sensors.length);
  });

  it('rolls every group up: the worst state of its sensors, nested ones included, and the count in each state', () => {
    const [plant, , , unassigned] = buildAssetTree(tiles);
    expect(plant.total).toBe(5);
    // press-2 waits for review, the hall mic is silent: silent ranks above review.
    expect(plant.worst).toBe('silent');
    expect(plant.counts).toMatchObject({ silent: 1, review: 1, ok: 3, alert: 0 });
    expect(plant.children[0]).toMatchObject({ worst: 'review', total: 2 });
    expect(plant.children[1]).toMatchObject({ worst: 'ok', total: 1 });
    expect(unassigned).toMatchObject({ worst: 'disconnected', total: 2 });
    // A filtered tree keeps only the groups with matching sensors.
    const onlyOk = buildAssetTree(tiles.filter((t) => t.state === 'review'));
    expect(onlyOk.map((g) => g.key)).toEqual(['site=plant-1']);
    expect(onlyOk[0].children[0].children[0].total).toBe(1);
  });

  it('turns the settings form into labels and back, refusing a line that is not key=value', () => {
    const form = labelFormOf({ site: 'plant-1', machine: 'press', room: 'north', bay: '3' });
    expect(form).toEqual({ site: 'plant-1', line: '', machine: 'press', other: 'room=north\nbay=3' });
    expect(labelsOfForm({ ...form, line: ' B ', other: 'room = north\n\nbay=3' })).toEqual({
      site: 'plant-1',
      line: 'B',
      machine: 'press',
      room: 'north',
      bay: '3',
    });
    expect(() => labelsOfForm({ ...form, other: 'north' })).toThrow("label line 'north' must be key=value");
    expect(() => labelsOfForm({ ...form, other: 'site=x' })).toThrow("label 'site' has its own field");
  });
});

describe('wall grid', () => {
  it('fills a 1920x1080 screen with 24 tiles in a grid of wide cells, and grows with the count', async () => {
    const { wallGrid } = await import('../src/lib/wall');
    expect(wallGrid(24, 1920, 1080)).toEqual({ columns: 5, rows: 5 });
    expect(wallGrid(1, 1920, 1080)).toEqual({ columns: 1, rows: 1 });
    expect(wallGrid(4, 1920, 1080)).toEqual({ columns: 2, rows: 2 });
    expect(wallGrid(0, 1920, 1080)).toEqual({ columns: 1, rows: 1 });
    const { columns, rows } = wallGrid(12, 1080, 1920); // a portrait screen
    expect(rows).toBeGreaterThan(columns);
  });
});
