import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetTree } from '@hark/protocol';
import { startHarness, type Harness } from './harness.js';

describe('GET /api/assets', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    h.store.sensors.upsert('press-10', 1000, {
      name: 'Press 10',
      labels: { site: 'plant-1', line: 'A', machine: 'press' },
    });
    h.store.sensors.upsert('press-2', 1000, {
      name: 'Press 2',
      labels: { site: 'plant-1', line: 'A', machine: 'press' },
    });
    h.store.sensors.upsert('mic-1', 1000, { name: 'Mic 1', labels: { line: 'C', room: 'x' } });
    h.store.sensors.upsert('bare', 1000);
  });
  afterAll(() => h.close());

  it('answers the site > line > machine tree with each group rolled up, unassigned levels last', async () => {
    const res = await h.call<AssetTree>('/api/assets', { token: h.operator });
    expect(res.status).toBe(200);
    const { groups, total } = res.body;
    expect(total).toBe(4);
    expect(groups.map((g) => [g.key, g.value, g.total])).toEqual([
      ['site=plant-1', 'plant-1', 2],
      ['site=', null, 2],
    ]);
    const press = groups[0].children[0].children[0];
    expect(press).toMatchObject({
      level: 'machine',
      value: 'press',
      key: 'site=plant-1/line=A/machine=press',
    });
    // Numeric by name: Press 2 before Press 10; the harness' sensors are stored, never connected.
    expect(press.sensors.map((s) => [s.id, s.state])).toEqual([
      ['press-2', 'disconnected'],
      ['press-10', 'disconnected'],
    ]);
    expect(groups[0]).toMatchObject({ worst: 'disconnected', counts: { disconnected: 2, ok: 0 } });
    expect(groups[1].sensors.map((s) => s.id)).toEqual(['bare']);
    expect(groups[1].children.map((g) => [g.key, g.sensors[0].labels])).toEqual([
      ['site=/line=C', { line: 'C', room: 'x' }],
    ]);
    expect((await h.call('/api/assets', { token: h.sensor })).status).toBe(403);
  });
});
