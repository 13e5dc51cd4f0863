import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, AlertNeighbours, ApiError, BulkAlertResult, Page } from '@hark/protocol';
import { startHarness, type Harness } from './harness.js';

describe('REST alerts', () => {
  let h: Harness;
  const updates: Alert[] = [];
  beforeAll(async () => {
    h = await startHarness();
    h.events.on('alert:update', (a) => updates.push(a));
  });
  afterAll(() => h.close());

  it('lists open alerts first, newest first, with filters and paging', async () => {
    const a = h.alert('pump-1', 1000);
    h.store.alerts.update(a.id, { active: false, end: 1200 });
    const b = h.alert('pump-1', 2000);
    const c = h.alert('fan-2', 3000);
    h.store.alerts.resolve(c.id, 'x');
    h.store.alerts.annotate(a.id, { label: 'maintenance', author: 'x' });

    const all = await h.call<Page<Alert>>('/api/alerts', { token: h.operator });
    expect(all.status).toBe(200);
    expect(all.body.items.map((x) => x.id)).toEqual([b.id, a.id, c.id]);
    expect(all.body.items[1]).toEqual(h.store.alerts.require(a.id));
    expect(all.body).toMatchObject({ total: 3, limit: 50, offset: 0 });

    const page = await h.call<Page<Alert>>('/api/alerts?limit=1&offset=1');
    expect(page.body.items.map((x) => x.id)).toEqual([a.id]);
    expect(page.body).toMatchObject({ total: 3, limit: 1, offset: 1 });

    const ids = async (q: string) =>
      (await h.call<Page<Alert>>(`/api/alerts?${q}`)).body.items.map((x) => x.id);
    expect(await ids('sensorId=fan-2')).toEqual([c.id]);
    expect(await ids('state=resolved')).toEqual([c.id]);
    expect(await ids('state=open,resolved')).toEqual([b.id, a.id, c.id]);
    expect(await ids('state=open&state=resolved')).toEqual([b.id, a.id, c.id]);
    expect(await ids('label=maintenance')).toEqual([a.id]);
    expect(await ids('kind=silence')).toEqual([]);
    expect(await ids('from=1500&to=2500')).toEqual([b.id]);
  });

  it("searches notes, filters by label group, sorts, and answers an alert's neighbours in that list", async () => {
    h.store.sensors.upsert('grp-1', 0, { labels: { site: 'plant-q', line: '1' } });
    h.store.sensors.upsert('grp-2', 0, { labels: { site: 'plant-q', line: '2' } });
    const a = h.alert('grp-1', 10_000);
    const b = h.alert('grp-2', 11_000);
    const c = h.alert('grp-2', 12_000);
    h.store.alerts.update(b.id, { peakScore: 7 });
    h.store.alerts.annotate(a.id, { label: 'true fault', text: 'Gearbox whine, plant Q', author: 'x' });
    h.store.alerts.annotate(c.id, { label: 'maintenance', text: 'gearbox oil changed', author: 'x' });
    const ids = async (q: string) =>
      (await h.call<Page<Alert>>(`/api/alerts?${q}`)).body.items.map((x) => x.id);

    expect(await ids('q=GEARBOX')).toEqual([c.id, a.id]);
    expect(await ids('q=gearbox%20whine')).toEqual([a.id]);
    expect(await ids('group=site:plant-q')).toEqual([c.id, b.id, a.id]);
    expect(await ids('group=site:plant-q,line:2')).toEqual([c.id, b.id]);
    expect(await ids('group=site:plant-q&q=gearbox&sort=start&order=asc')).toEqual([a.id, c.id]);
    expect((await ids('group=site:plant-q&sort=peakScore'))[0]).toBe(b.id);

    const n = await h.call<AlertNeighbours>(`/api/alerts/${c.id}/neighbours?group=site:plant-q&sort=start`, {
      token: h.operator,
    });
    expect(n.status).toBe(200);
    expect(n.body).toEqual({ id: c.id, previous: null, next: b.id, position: 1, total: 3 });
    const last = await h.call<AlertNeighbours>(
      `/api/alerts/${a.id}/neighbours?group=site:plant-q&sort=start`,
    );
    expect(last.body).toEqual({ id: a.id, previous: b.id, next: null, position: 3, total: 3 });
    expect((await h.call<ApiError>('/api/alerts/99999/neighbours')).status).toBe(404);
  });

  it('answers 400 naming the bad query parameter and its value', async () => {
    const message = async (q: string) => {
      const res = await h.call<ApiError>(`/api/alerts?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error).toBe('Bad Request');
      return res.body.message;
    };
    expect(await message('limit=0')).toBe("limit ('0') must be an integer in 1..500");
    expect(await message('limit=501')).toBe("limit ('501') must be an integer in 1..500");
    expect(await message('limit=ten')).toBe("limit ('ten') must be an integer in 1..500");
    expect(await message('offset=-1')).toBe("offset ('-1') must be an integer >= 0");
    expect(await message('state=open,closed')).toBe(
      "state ('closed') must be one of 'open', 'acknowledged', 'resolved'",
    );
    expect(await message('label=bogus')).toMatch(/^label \('bogus'\) must be one of 'true fault'/);
    expect(await message('kind=noise')).toBe("kind ('noise') must be one of 'anomaly', 'silence'");
    expect(await message('from=yesterday')).toMatch(/^from \('yesterday'\) must be an integer/);
    expect(await message('from=5&to=4')).toBe('from (5) must not be after to (4)');
    expect(await message('sensorId=a%20b')).toBe(
      "sensorId ('a b') must be 1-64 characters of A-Z a-z 0-9 . _ -",
    );
    expect(await message('limit=1&limit=2')).toBe('limit (["1","2"]) must be given once');
    expect(await message('sort=loudness')).toMatch(
      /^sort \('loudness'\) must be one of 'start', 'peakScore'/,
    );
    expect(await message('sort=start&order=up')).toBe("order ('up') must be one of 'asc', 'desc'");
    expect(await message('order=asc')).toBe(
      "order ('asc') needs a sort (one of start, peakScore, count, severity, id, sensor, state, kind)",
    );
    expect(await message('group=plant-a')).toBe(
      "group ('plant-a') must be key:value pairs separated by commas, e.g. 'site:plant-a,line:2'",
    );
    expect(await message(`q=${'x'.repeat(201)}`)).toBe("q ('201 characters') must be at most 200");
    expect(await message('q=a%20b%20c%20d%20e%20f%20g%20h%20i')).toBe(
      "q ('a b c d e f g h i') has 9 words; search with at most 8",
    );
  });

  it('gets one alert; unknown ids are 404 JSON, bad ids 400', async () => {
    const a = h.alert();
    expect((await h.call<Alert>(`/api/alerts/${a.id}`)).body).toEqual(a);
    const missing = await h.call<ApiError>('/api/alerts/9999');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'alert 9999 not found' });
    expect((await h.call<ApiError>('/api/alerts/1.5')).body.message).toBe(
      "alert id ('1.5') must be an integer >= 1",
    );
  });

  it('acknowledges once (409 JSON the second time), records who, and emits alert:update', async () => {
    const a = h.alert();
    updates.length = 0;
    const ack = await h.call<Alert>(`/api/alerts/${a.id}/ack`, { method: 'POST', token: h.operator });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'olga' });
    expect(updates).toEqual([ack.body]);
    const again = await h.call<ApiError>(`/api/alerts/${a.id}/ack`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('Conflict');
    expect(again.body.message).toMatch(new RegExp(`^alert ${a.id} is already acknowledged \\(by olga at `));
    expect(updates).toHaveLength(1);
  });

  it('resolves (final) and annotates in any state, persisting the note', async () => {
    const a = h.alert();
    const resolved = await h.call<Alert>(`/api/alerts/${a.id}/resolve`, { method: 'POST' });
    expect(resolved.body).toMatchObject({ state: 'resolved', resolvedBy: 'alice' });
    expect((await h.call(`/api/alerts/${a.id}/resolve`, { method: 'POST' })).status).toBe(409);
    expect((await h.call(`/api/alerts/${a.id}/ack`, { method: 'POST' })).status).toBe(409);

    updates.length = 0;
    const noted = await h.call<Alert>(`/api/alerts/${a.id}/annotations`, {
      method: 'POST',
      token: h.operator,
      body: { label: 'true fault', text: 'bearing replaced' },
    });
    expect(noted.status).toBe(200);
    expect(noted.body.annotations).toEqual([
      {
        id: expect.any(Number),
        alertId: a.id,
        label: 'true fault',
        text: 'bearing replaced',
        author: 'olga',
        at: expect.any(Number),
      },
    ]);
    expect(h.store.alerts.require(a.id).annotations).toEqual(noted.body.annotations);
    expect(updates).toEqual([noted.body]);

    const bad = await h.call<ApiError>(`/api/alerts/${a.id}/annotations`, {
      method: 'POST',
      body: { label: 'oops' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^label \('oops'\) must be one of 'true fault', 'false alarm'/);
    const long = await h.call<ApiError>(`/api/alerts/${a.id}/annotations`, {
      method: 'POST',
      body: { label: 'unknown', text: 'x'.repeat(2001) },
    });
    expect(long.body.message).toMatch(
      /^text \('x{80}…' \(2001 characters\)\) must be a string of 0-2000 characters$/,
    );
  });

  it('marks a false alarm and teaches it to the model when asked', async () => {
    h.models.ready('pump-1');
    const a = h.alert('pump-1');
    updates.length = 0;
    const res = await h.call<Alert>(`/api/alerts/${a.id}/false-alarm`, {
      method: 'POST',
      token: h.operator,
      body: { teach: true, text: 'forklift passing' },
    });
    expect(res.status).toBe(200);
    expect(h.models.taught).toEqual([{ alertId: a.id, by: 'olga' }]);
    expect(res.body.annotations).toMatchObject([
      { label: 'false alarm', text: 'forklift passing', author: 'olga' },
    ]);
    expect(res.body.feedback).toEqual({ id: expect.any(Number), taught: true, revertedAt: null });
    // Marking a false alarm resolves the alert (issue 14 item 4).
    expect(res.body).toMatchObject({ state: 'resolved', resolvedBy: 'olga' });
    expect(updates).toEqual([res.body]);

    const b = h.alert('pump-1');
    const plain = await h.call<Alert>(`/api/alerts/${b.id}/false-alarm`, {
      method: 'POST',
      body: { teach: false },
    });
    expect(plain.body.annotations).toMatchObject([{ label: 'false alarm', text: '' }]);
    expect(plain.body.feedback).toBeNull();
    expect(plain.body.state).toBe('resolved');
    expect(h.models.taught).toHaveLength(1);
    // teach is false unless given.
    const c = h.alert('pump-1');
    const untaught = await h.call<Alert>(`/api/alerts/${c.id}/false-alarm`, { method: 'POST', body: {} });
    expect(untaught.body).toMatchObject({ state: 'resolved', feedback: null });
    expect(h.models.taught).toHaveLength(1);
  });

  it('acknowledges and resolves in bulk, by ids or by filter, each change sent as alert:update', async () => {
    const a = h.alert('bulk-1');
    const b = h.alert('bulk-1');
    const c = h.alert('bulk-2');
    h.store.alerts.resolve(c.id, 'x');
    updates.length = 0;
    const ack = await h.call<BulkAlertResult>('/api/alerts/ack', {
      method: 'POST',
      token: h.operator,
      body: { ids: [a.id, b.id, c.id] },
    });
    expect(ack.status).toBe(200);
    expect(ack.body.changed.map((x) => [x.id, x.state, x.acknowledgedBy])).toEqual([
      [a.id, 'acknowledged', 'olga'],
      [b.id, 'acknowledged', 'olga'],
    ]);
    expect(ack.body.skipped).toEqual([{ id: c.id, reason: expect.stringMatching(/is resolved/) }]);
    expect(updates.map((x) => x.id)).toEqual([a.id, b.id]);
    const res = await h.call<BulkAlertResult>('/api/alerts/resolve', {
      method: 'POST',
      body: { sensorId: 'bulk-1' },
    });
    expect(res.body.changed.map((x) => x.id)).toEqual([a.id, b.id]);
    expect(h.store.alerts.require(b.id).state).toBe('resolved');
    expect((await h.call<Page<Alert>>('/api/alerts?severity=critical')).body.total).toBe(0);
  });

  it('answers 400 for a bulk body without ids or filter, or with bad ids', async () => {
    const message = async (body: unknown) => {
      const res = await h.call<ApiError>('/api/alerts/ack', { method: 'POST', body });
      expect(res.status).toBe(400);
      return res.body.message;
    };
    expect(await message({})).toMatch(/^give ids/);
    expect(await message({ ids: [] })).toBe('ids ([]) must be an array of 1..500 alert ids');
    expect(await message({ ids: [1, 'x'] })).toBe("ids[1] ('x') must be an alert id (an integer >= 1)");
    expect(await message({ ids: [1], sensorId: 'a' })).toBe("sensorId ('a') cannot be combined with ids");
    expect(await message({ severity: 'bad' })).toBe("severity ('bad') must be one of 'warning', 'critical'");
  });

  it('records nothing when teaching fails, and checks the body', async () => {
    const a = h.alert('no-model-3');
    const res = await h.call<ApiError>(`/api/alerts/${a.id}/false-alarm`, {
      method: 'POST',
      body: { teach: true },
    });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: 'sensor no-model-3 has no model',
    });
    expect(h.store.alerts.require(a.id).annotations).toEqual([]);
    const bad = await h.call<ApiError>(`/api/alerts/${a.id}/false-alarm`, {
      method: 'POST',
      body: { teach: 'yes' },
    });
    expect(bad.body.message).toBe("teach ('yes') must be true or false");
    const none = await h.call<ApiError>(`/api/alerts/${a.id}/false-alarm`, { method: 'POST' });
    expect(none.status).toBe(400);
    expect(none.body.message).toMatch(/^the request body must be a JSON object/);
  });
});
