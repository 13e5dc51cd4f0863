/**
 * The real server with its store in a real PostgreSQL 15 (`--database`): what an operator does is stored there
 * and survives a restart; two servers starting at once on the same database both come up (the migrations run
 * under an advisory lock). Skipped, visibly, where PostgreSQL is not installed.
 */
import type { Alert, Health, Page } from '@hark/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresOrWarn, startPostgres, type Postgres } from '../support/postgres.js';
import { startServer, type TestServer } from '../support/server.js';

const enabled = postgresOrWarn('the server on PostgreSQL');

describe.runIf(enabled)('hark serve --database postgres://...', () => {
  let pg: Postgres;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const s of servers.splice(0)) await s.close();
    await pg?.stop();
  });

  it('keeps tokens, sensors, alerts, acknowledgements and notes in PostgreSQL across a restart', async () => {
    const a = await startServer({ database: pg.url });
    servers.push(a);
    expect(a.logs.join('\n')).toMatch(/store: postgres postgres:\/\/hark@127\.0\.0\.1:\d+\/hark/);
    const health = await (await fetch(`${a.url}/api/health`)).json();
    expect((health as Health).storage).toMatchObject({ engine: 'postgres', writable: true });
    expect(await (await fetch(`${a.url}/metrics`)).text()).toMatch(/hark_store_info\{engine="postgres"\} 1/);
    const operator = await a.token('operator', 'ana');
    const t = Date.now() - 60_000;
    const alert = await a.server.store.alerts.open({
      sensorId: 'pump-1',
      kind: 'anomaly',
      start: t + 0.5, // stream times are not always whole ms
      peakScore: 2.5,
      peakAt: t + 700,
      threshold: 1,
    });
    const acked = await a.api<Alert>(`/api/alerts/${alert.id}/ack`, { method: 'POST', token: operator });
    expect(acked).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'ana' });
    await a.api(`/api/alerts/${alert.id}/annotations`, {
      method: 'POST',
      token: operator,
      body: JSON.stringify({ label: 'true fault', text: 'bearing B-12' }),
    });
    const admin = a.admin;
    await a.close();
    servers.splice(servers.indexOf(a), 1);

    // Another data directory, the same database: everything is there.
    const b = await startServer({ database: pg.url }, admin);
    servers.push(b);
    const page = await b.api<Page<Alert>>('/api/alerts?q=b-12', { token: operator });
    expect(page.items).toMatchObject([
      {
        id: alert.id,
        start: t + 0.5,
        state: 'acknowledged',
        annotations: [{ label: 'true fault', text: 'bearing B-12', author: 'ana' }],
      },
    ]);
    await expect(
      b.api(`/api/alerts/${alert.id}/ack`, { method: 'POST', token: operator }),
    ).rejects.toMatchObject({ status: 409 });
  }, 120_000);

  it('two servers starting at once on the same PostgreSQL both come up', async () => {
    const admin = servers[0]?.admin;
    const [c, d] = await Promise.all([
      startServer({ database: pg.url }, admin),
      startServer({ database: pg.url }, admin),
    ]);
    servers.push(c, d);
    for (const s of [c, d])
      expect(((await (await fetch(`${s.url}/api/health`)).json()) as Health).status).toBe('ok');
    expect(await c.server.store.database.schemaVersion()).toBe(await d.server.store.database.schemaVersion());
  }, 120_000);
});
