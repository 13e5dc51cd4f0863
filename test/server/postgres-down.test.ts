/**
 * PostgreSQL lost while a sensor streams costs nothing acknowledged and no restart. The real server runs on a
 * real PostgreSQL 15 (`--database`); a sensor with a model streams and a silence alert is open; PostgreSQL is
 * stopped at once (`pg_ctl stop -m immediate`, connections cut as in a crash). The sensor streams on: windows
 * are still scored, the open alert closes and a second one opens and closes, all queued in memory; an
 * operator's acknowledgement is refused with 503 and a Retry-After (nothing acknowledged), reads answer 503;
 * `/api/health` says degraded (storage unreachable) and `/metrics` says `hark_store_up 0` and the queue
 * depths; the sensor reconnects and a dashboard connects meanwhile (tokens verified before the outage).
 * PostgreSQL is started again on the same port: the same server process writes the queue in order (both
 * alerts and their updates, the second one's clip, the score points of the outage), reports ok, and takes the
 * acknowledgement. Skipped, visibly, where PostgreSQL is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, Health, Page } from '@hark/protocol';
import { postgresOrWarn, startPostgres, type Postgres } from '../support/postgres.js';
import { TestSensor } from '../support/sensor.js';
import {
  liveClient,
  sleep,
  startServer,
  tempDir,
  type TestServer,
  untilValue,
  waitForModel,
} from '../support/server.js';
import { placeSynthPumpModel } from '../support/models.js';

const enabled = postgresOrWarn('PostgreSQL down while a sensor streams');

async function health(s: TestServer): Promise<Health> {
  const res = await fetch(`${s.url}/api/health`);
  expect(res.status).toBe(200);
  return (await res.json()) as Health;
}

async function metric(s: TestServer, series: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

const SCORED = 'hark_windows_scored_total{sensor="pump-1"}';

describe.runIf(enabled)('PostgreSQL down while a sensor streams', () => {
  let pg: Postgres;
  let s: TestServer | null = null;
  let sensor: TestSensor | null = null;
  /** Errors that would end a plain `hark serve` process. */
  const fatal: unknown[] = [];
  const onFatal = (err: unknown) => fatal.push(err);

  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
    sensor?.socket.close();
    await s?.close();
    await pg?.stop();
  });

  it('scores on, queues the writes, answers 503 to an acknowledgement, and writes it all once PostgreSQL is back', async () => {
    process.on('uncaughtException', onFatal);
    process.on('unhandledRejection', onFatal);
    const dataDir = tempDir('pg-down-data');
    await placeSynthPumpModel(dataDir, 'pump-1');
    s = await startServer({ dataDir, database: pg.url, silenceSeconds: 1, clipPostSeconds: 0.5 });
    await waitForModel(s, 'pump-1', 60_000);
    const operator = await s.token('operator', 'ana');
    const sensorToken = await s.token('sensor', 'mic-1');
    sensor = await TestSensor.open(s.url, sensorToken, 'pump-1');
    // A dashboard, so that the operator's token was verified before the outage.
    (await liveClient(s.url, operator)).close();
    // Silence until the alert opens (stored: PostgreSQL is up).
    await sensor.stream(1.2, 0);
    await sleep(550);
    await sensor.stream(0.1, 0);
    const open = await untilValue(
      'silence alert stored',
      () => s!.api<Page<Alert>>('/api/alerts?sensorId=pump-1&kind=silence', { token: operator }),
      (p) => p.total === 1,
    );
    const first = open.items[0];
    expect(first).toMatchObject({ active: true, state: 'open' });
    expect((await health(s)).status).toBe('ok');
    expect(await metric(s, 'hark_store_up')).toBe(1);
    const scoredBefore = await metric(s, SCORED);
    expect(scoredBefore).toBeGreaterThan(0);

    pg.halt();

    // Sound closes the open alert; silence and sound again open and close another: all while PostgreSQL is down.
    await sensor.stream(0.5, 0.3);
    await sleep(550);
    await sensor.stream(0.1, 0.3);
    await sensor.silenceAlert();
    await sensor.stream(3, 0.3);
    await s.server.sensors.scheduler.idle();
    // The sensor reconnects and a dashboard connects meanwhile: their tokens, verified before the outage,
    // are taken as they were (TOKEN_FALLBACK_MS), and the sensor is scored again.
    sensor.socket.close();
    sensor = await TestSensor.open(s.url, sensorToken, 'pump-1');
    const dash = await liveClient(s.url, operator);
    dash.close();
    const scoredReconnected = await metric(s, SCORED);
    await sensor.stream(2, 0.3);
    await s.server.sensors.scheduler.idle();
    expect(await metric(s, SCORED)).toBeGreaterThan(scoredReconnected);

    const down = await untilValue(
      'health degraded',
      () => health(s!),
      (h) => h.status === 'degraded' && (h.storage.waitingWrites.alerts ?? 0) >= 3,
    );
    expect(down.storage).toMatchObject({
      engine: 'postgres',
      writable: false,
      reason: 'storage unreachable',
    });
    // Scoring went on.
    const scoredDown = await metric(s, SCORED);
    expect(scoredDown).toBeGreaterThan(scoredBefore + 5);
    expect(await metric(s, 'hark_store_up')).toBe(0);
    expect(await metric(s, 'hark_write_queue_depth{queue="alerts"}')).toBeGreaterThanOrEqual(3);
    expect(await metric(s, 'hark_write_queue_depth{queue="scores"}')).toBeGreaterThan(0);
    expect(s.logs.join('\n')).toMatch(/STORAGE ERROR: alert write failed/);

    // An acknowledgement is refused, saying why and when to retry; nothing is acknowledged.
    const ack = await fetch(`${s.url}/api/alerts/${first.id}/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(ack.status).toBe(503);
    expect(ack.headers.get('retry-after')).toBe('5');
    expect(((await ack.json()) as { message: string }).message).toMatch(
      /^the database cannot be reached \(.+\); nothing was changed: try again in a few seconds/,
    );
    // A read answers 503 too, not 500.
    expect(
      (await fetch(`${s.url}/api/alerts`, { headers: { authorization: `Bearer ${operator}` } })).status,
    ).toBe(503);

    pg.restart();

    await untilValue(
      'health ok',
      () => health(s!),
      (h) => h.status === 'ok',
    );
    expect(s.logs.join('\n')).toMatch(/storage: writes resumed after/);
    expect(await metric(s, 'hark_store_up')).toBe(1);
    // Both alerts and their updates are stored, in order: the first closed, the second opened and closed.
    const after = await s.api<Page<Alert>>('/api/alerts?sensorId=pump-1&kind=silence', {
      token: operator,
    });
    expect(after.total).toBe(2);
    const [a, b] = [...after.items].sort((x, y) => x.start - y.start);
    expect(a).toMatchObject({ id: first.id, active: false, state: 'open' });
    expect(a.end).toBeGreaterThan(a.start);
    expect(b.id).toBeGreaterThan(a.id);
    expect(b.start).toBeGreaterThanOrEqual(a.end as number);
    expect(b).toMatchObject({ active: false });
    // The second alert's clip, cut while PostgreSQL was down, waited in memory and is stored with it.
    await untilValue(
      'clip of the alert opened during the outage',
      () => s!.api<Alert>(`/api/alerts/${b.id}`, { token: operator }),
      (x) => x.clip.available,
    );
    // The score points of the outage were kept and written.
    await s.server.store.scores.flush();
    const points = await s.server.store.scores.range('pump-1', { limit: 20_000 });
    expect(points.length).toBeGreaterThanOrEqual(scoredDown);
    // Now the acknowledgement goes through, on the same server process.
    expect(
      await s.api<Alert>(`/api/alerts/${first.id}/ack`, { method: 'POST', token: operator }),
    ).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'ana',
    });
    // The sensor streams on, untroubled.
    await sensor.stream(0.3, 0.3);
    expect(fatal).toEqual([]);
  }, 600_000);
});
