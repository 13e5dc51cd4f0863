/**
 * Three `hark serve` instances on one real Redis (`--redis`, issue 17), each with its own data directory
 * (the same model copied into each): a dashboard on C gets the columns, scores, status and alerts of sensors
 * streaming to A and B; an instance whose relay subscriber alone was cut says `degraded` until it has
 * subscribed again, then gets the alert changes it missed (its hello, answered by a replay); a second
 * connection of a sensor to B while A holds its lease is refused with `SENSOR_LEASED` and no window is scored
 * twice; a clean disconnect lets B take the sensor at once; a model change on A makes B reload; Redis killed:
 * every instance keeps scoring its own sensors and says `degraded`, new sensors are refused
 * `LEASE_UNAVAILABLE`, and all of it comes back when Redis returns, without a restart; an instance whose lease
 * another one took drops the sensor; a `kill -9`ed instance's lease expires by itself; an instance started
 * while Redis is down starts degraded and joins when Redis comes up.
 */
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alert, Health, LeaseRefusal, SensorStatus } from '@hark/protocol';
import { leaseKey } from '../../apps/server/src/cluster/ownership.js';
import { synthPumpModel } from '../support/models.js';
import { redisOrWarn, startRedis, type TestRedis } from '../support/redis.js';
import { connectSensor, TestSensor } from '../support/sensor.js';
import {
  liveClient,
  recordLive,
  serveChild,
  sleep,
  startServer,
  tempDir,
  type TestServer,
  until as waitUntil,
} from '../support/server.js';

const until = (what: string, ok: () => boolean | Promise<boolean>, ms = 20_000) => waitUntil(what, ok, ms);

const HAVE_REDIS = redisOrWarn('cluster.test.ts');
const SENSORS = ['ca-1', 'cb-1', 'cd-1'];
const LEASE_SECONDS = 2;

let redis: TestRedis;
let modelDir: string;
const servers: Record<'A' | 'B' | 'C', TestServer> = {} as never;
const open: { close(): void }[] = [];

async function sensorOn(s: TestServer, id: string): Promise<TestSensor> {
  const token = (await s.server.tokens.create('sensor', `cluster ${id}`, [id])).token;
  const sensor = await TestSensor.open(s.url, token, id);
  open.push(sensor);
  return sensor;
}

/** A `redis-cli` command on the test's Redis (`auth`: as that user, password `pw`); its trimmed output. */
const redisCli = (args: string[], auth?: string) =>
  spawnSync('redis-cli', [
    '-p',
    String(redis.port),
    ...(auth ? ['--user', auth, '--pass', 'pw', '--no-auth-warning'] : []),
    ...args,
  ])
    .stdout.toString()
    .trim();
/** Instances subscribed to the `/live` relay channel of socket.io's adapter. */
const liveSubscribers = () => Number(redisCli(['PUBSUB', 'NUMSUB', 'socket.io#/live#']).split('\n')[1]);
/** The ids of the Redis connections in pub/sub mode (each instance's relay subscriber). */
const pubsubClients = () =>
  new Set([...redisCli(['CLIENT', 'LIST', 'TYPE', 'pubsub']).matchAll(/^id=(\d+) /gm)].map((m) => m[1]));
/** Each instance's relay subscriber, told apart by starting the instances one after the other. */
const subscriberOf: Partial<Record<'A' | 'B' | 'C', string>> = {};
/** Operator dashboards on C and B, subscribed to every sensor, and what each receives. */
async function dashboardsOnCAndB() {
  const dashC = await liveClient(servers.C.url, await servers.C.token('operator'));
  const dashB = await liveClient(servers.B.url, await servers.B.token('operator'));
  open.push(dashC, dashB);
  const onC = recordLive(dashC);
  const onB = recordLive(dashB);
  await dashC.emitWithAck('subscribe', { sensorId: '*' });
  await dashB.emitWithAck('subscribe', { sensorId: '*' });
  return { onC, onB };
}
const health = (s: TestServer) => fetch(`${s.url}/api/health`).then((r) => r.json() as Promise<Health>);
const metrics = (s: TestServer) => s.api<ArrayBuffer>('/metrics').then((b) => Buffer.from(b).toString());

describe.skipIf(!HAVE_REDIS)('three instances on one Redis', () => {
  beforeAll(async () => {
    redis = await startRedis();
    modelDir = await synthPumpModel();
    for (const [i, name] of (['A', 'B', 'C'] as const).entries()) {
      const dataDir = tempDir(`cluster-${name}`);
      // cd-1's model reaches B only by the notice of a change on A (B's own folder check is an hour away).
      for (const id of ['ca-1', 'cb-1']) cpSync(modelDir, join(dataDir, 'models', id), { recursive: true });
      servers[name] = await startServer({
        dataDir,
        redisUrl: redis.url,
        instance: name,
        leaseSeconds: LEASE_SECONDS,
        silenceSeconds: 1,
        modelPollMs: 3_600_000,
      });
      const known = new Set(Object.values(subscriberOf));
      await until(`${name} subscribed to the relay`, () => liveSubscribers() === i + 1);
      subscriberOf[name] = [...pubsubClients()].find((id) => !known.has(id));
    }
    await until('every instance reaches Redis', async () =>
      (await Promise.all(Object.values(servers).map(health))).every((h) => h.cluster.redis === 'up'),
    );
    // And listens: the adapter's subscriber connects a moment after the clients the health reports on.
    await until('every instance subscribed to the relay', () => liveSubscribers() === 3);
  }, 300_000);

  afterAll(async () => {
    for (const c of open) c.close();
    for (const s of Object.values(servers)) await s?.close();
    await redis?.stop();
  });

  test('a dashboard on C gets the columns, scores, status and alerts of sensors on A and B', async () => {
    const dash = await liveClient(servers.C.url, await servers.C.token('operator'));
    open.push(dash);
    const got = recordLive(dash);
    await dash.emitWithAck('subscribe', { sensorId: '*' });
    const a = await sensorOn(servers.A, 'ca-1');
    const b = await sensorOn(servers.B, 'cb-1');
    await Promise.all([a.stream(3, 0.3), b.stream(3, 0.3)]);
    await until('C has the status of both, naming their instances', () =>
      ['A', 'B'].every((inst, i) =>
        got.status.some((s) => s.id === SENSORS[i] && s.connected && s.instance === inst),
      ),
    );
    // Columns go to the subscribers of a sensor: C's dashboard subscribes to sensors streaming elsewhere, and
    // gets their recent columns first from the instance that holds them (the sensors are idle now).
    expect(got.columns).toHaveLength(0);
    // Columns go out as their windows are scored: wait until A and B have scored what the sensors sent.
    await Promise.all([servers.A.server.sensors.scheduler.idle(), servers.B.server.sensors.scheduler.idle()]);
    for (const id of ['ca-1', 'cb-1']) {
      const ack = (await dash.emitWithAck('subscribe', { sensorId: id })) as {
        ok: boolean;
        status: SensorStatus;
      };
      expect(ack).toMatchObject({ ok: true, status: { id, connected: true } });
      const backfill = got.columns.filter((c) => c.sensorId === id);
      expect(backfill.length).toBeGreaterThan(0);
      expect(backfill[0].melHz).toHaveLength(backfill[0].nMels);
    }
    await Promise.all([a.stream(3, 0.3), b.stream(3, 0.3)]);
    await until('C has columns and scores of both', () =>
      ['ca-1', 'cb-1'].every(
        (id) => got.columns.some((c) => c.sensorId === id) && got.score.some((s) => s.sensorId === id),
      ),
    );
    const col = got.columns.find((c) => c.sensorId === 'ca-1')!;
    expect(col.spectrogram.byteLength).toBe(col.nColumns * col.nMels);
    // The REST view on C says where each sensor streams.
    const list = await servers.C.api<SensorStatus[]>('/api/sensors');
    expect(list.find((s) => s.id === 'ca-1')).toMatchObject({ connected: true, instance: 'A' });
    // A silence alert on A reaches C.
    await a.silenceAlert();
    await until('C got the alert opened on A', () => got.alert.some((x) => x.sensorId === 'ca-1'));
    // An acknowledgement on A shows at once on C.
    const updates: Alert[] = [];
    dash.on('alert:update', (x: Alert) => updates.push(x));
    const opened = got.alert.find((x) => x.sensorId === 'ca-1')!;
    await servers.A.api(`/api/alerts/${opened.id}/ack`, { method: 'POST', body: '{}' });
    await until('C saw the acknowledgement made on A', () =>
      updates.some((x) => x.id === opened.id && x.sensorId === 'ca-1' && x.acknowledgedBy !== null),
    );
    const m = await metrics(servers.A);
    expect(m).toMatch(/hark_instance_info\{instance="A"\} 1/);
    expect(m).toMatch(/hark_redis_up 1/);
    expect(m).toMatch(/hark_cluster_leases_held 1/);
    expect(servers.A.logs.some((l) => l.startsWith('[A] '))).toBe(true);
    // Each instance here keeps its own SQLite store, and says what that means for a cluster.
    expect(servers.A.logs.some((l) => /keeps its own SQLite store: .* --database postgres:/.test(l))).toBe(
      true,
    );
  }, 120_000);

  test('an instance whose relay subscriber alone dropped says degraded until it is back, then gets what it missed', async () => {
    const { onC, onB } = await dashboardsOnCAndB();
    const acked = (await servers.A.api<{ items: Alert[] }>('/api/alerts?state=acknowledged')).items.find(
      (a) => a.sensorId === 'ca-1',
    )!;
    // Once the alert has ended and its clip is kept, A changes it only when asked: what C gets of it later is
    // the change it missed, not a newer one.
    await until('the alert on A has ended and its clip is kept', async () => {
      const a = await servers.A.api<Alert>(`/api/alerts/${acked.id}`);
      return !a.active && a.clip.available;
    });
    const ofAlert = (a: Alert) => a.sensorId === 'ca-1' && a.id === acked.id;
    // A replay is the alert's latest state, sent as it was first sent (`alert`): a dashboard merges it by id.
    const resolved = (got: ReturnType<typeof recordLive>) =>
      [...got.alert, ...got.update].some((a) => ofAlert(a) && a.state === 'resolved');
    const logged = servers.C.logs.length;
    // C's subscriber is cut and kept away (new connections refused; the ones standing, A's and B's, stay).
    const admin = (...args: string[]) => redisCli(args, 'hark-test');
    redisCli(['ACL', 'SETUSER', 'hark-test', 'on', '>pw', '~*', '&*', '+@all']);
    try {
      expect(admin('ACL', 'SETUSER', 'default', 'off')).toBe('OK');
      expect(admin('CLIENT', 'KILL', 'ID', subscriberOf.C!)).toBe('1');
      await until('C says degraded', async () => (await health(servers.C)).status === 'degraded');
      // A resolves its alert: B hears it, C cannot.
      await servers.A.api(`/api/alerts/${acked.id}/resolve`, { method: 'POST', body: '{}' });
      await until('B got the resolution', () => resolved(onB));
      await sleep(200);
      expect(resolved(onC)).toBe(false);
    } finally {
      admin('ACL', 'SETUSER', 'default', 'on');
      admin('ACL', 'DELUSER', 'hark-test');
    }
    // Subscribed again, C asks the others for what it missed, and A replays it.
    await until('C got the resolution made on A while its subscriber was away', () => resolved(onC));
    expect(servers.C.logs.slice(logged).some((l) => /DEGRADED: Redis .* is unreachable/.test(l))).toBe(true);
    expect((await health(servers.C)).status).toBe('ok');
  }, 60_000);

  test('a second connection to B while A holds the lease is refused, and no window is scored twice', async () => {
    const dash = await liveClient(servers.C.url, await servers.C.token('operator'));
    open.push(dash);
    const got = recordLive(dash);
    await dash.emitWithAck('subscribe', { sensorId: '*' });
    const a = open.find((x) => x instanceof TestSensor && x.socket.connected) as TestSensor;
    const token = (await servers.B.server.tokens.create('sensor', 'second', ['ca-1'])).token;
    const refused = await connectSensor(servers.B.url, token, 'ca-1').then(
      () => null,
      (err: Error & { data?: LeaseRefusal }) => err,
    );
    expect(refused?.data).toMatchObject({ code: 'SENSOR_LEASED', instance: 'A' });
    expect(refused?.data?.retryAfterMs).toBeGreaterThan(0);
    expect(refused?.message).toMatch(/streaming to instance A/);
    await a.stream(4, 0.3);
    // A clean disconnect releases the lease: B takes the sensor at once, not a lease period later.
    a.close();
    await until(
      'A saw the disconnect',
      async () => !(await servers.A.api<SensorStatus>('/api/sensors/ca-1')).connected,
    );
    const t0 = Date.now();
    const moved = await TestSensor.open(servers.B.url, token, 'ca-1');
    open.push(moved);
    expect(Date.now() - t0).toBeLessThan(LEASE_SECONDS * 1000);
    await moved.stream(4, 0.3);
    await until('C sees ca-1 on B', () => got.status.some((s) => s.id === 'ca-1' && s.instance === 'B'));
    await sleep(500);
    const times = got.score.filter((s) => s.sensorId === 'ca-1').map((s) => s.t);
    expect(times.length).toBeGreaterThan(4);
    expect(new Set(times).size).toBe(times.length);
    expect(await metrics(servers.B)).toMatch(/hark_ingest_rejections_total\{code="SENSOR_LEASED"\} 1/);
  }, 120_000);

  test('a model change on A is told to B, which reloads that sensor before it scores it', async () => {
    const b = servers.B.server;
    cpSync(modelDir, join(b.config.dataDir, 'models', 'cd-1'), { recursive: true });
    expect(b.models.detector('cd-1')).toBeNull();
    cpSync(modelDir, join(servers.A.server.config.dataDir, 'models', 'cd-1'), { recursive: true });
    await servers.A.server.models.poll();
    await until('B loaded cd-1', () => b.models.detector('cd-1') !== null, 10_000);
    expect(servers.B.logs.some((l) => /instance A changed the model of sensor cd-1/.test(l))).toBe(true);
  }, 60_000);

  test('Redis killed: instances keep scoring their own sensors and say degraded; all returns with Redis', async () => {
    const { onC, onB } = await dashboardsOnCAndB();
    const moved = open.filter((x): x is TestSensor => x instanceof TestSensor && x.socket.connected).at(-1)!;

    await redis.kill();
    await until('B says degraded', async () => (await health(servers.B)).status === 'degraded');
    const h = await health(servers.B);
    expect(h.cluster).toMatchObject({ instance: 'B', redis: 'down', leasesHeld: 2 });
    expect(h.cluster.downSince).not.toBeNull();
    expect(await metrics(servers.B)).toMatch(/hark_redis_up 0/);
    expect(servers.B.logs.some((l) => /DEGRADED: Redis .* is unreachable/.test(l))).toBe(true);
    // B keeps scoring the sensor it holds: its own dashboard sees it, C's does not.
    const before = { b: onB.score.length, c: onC.score.length };
    await moved.stream(4, 0.3);
    await until('B scores its sensor while Redis is down', () => onB.score.length > before.b + 2);
    expect(onC.score.filter((s) => s.sensorId === 'ca-1').length).toBe(
      onC.score.slice(0, before.c).filter((s) => s.sensorId === 'ca-1').length,
    );
    // A new sensor cannot be leased: refused with a code a sensor can fail over on.
    const token = (await servers.A.server.tokens.create('sensor', 'new while down', ['cd-1'])).token;
    const refused = await connectSensor(servers.A.url, token, 'cd-1').then(
      () => null,
      (err: Error & { data?: LeaseRefusal }) => err,
    );
    expect(refused?.data?.code).toBe('LEASE_UNAVAILABLE');
    // An alert opened while Redis is away: B's dashboard sees it at once, C's once Redis returns.
    await moved.silenceAlert();
    await until('B opened an alert', () => onB.alert.some((a) => a.sensorId === 'ca-1'));
    const opened = onB.alert.find((a) => a.sensorId === 'ca-1')!;
    expect(onC.alert.some((a) => a.sensorId === 'ca-1')).toBe(false);
    const statusesBefore = onC.status.length;

    await redis.restart();
    await until('B is ok again', async () => (await health(servers.B)).status === 'ok', 20_000);
    expect(await metrics(servers.B)).toMatch(/hark_redis_up 1/);
    await sleep(300);
    // The lease vanished with Redis's data: B's renewal sets it again, so A still refuses the sensor.
    const again = await connectSensor(
      servers.A.url,
      (await servers.A.server.tokens.create('sensor', 'x', ['ca-1'])).token,
      'ca-1',
    ).then(
      () => null,
      (err: Error & { data?: LeaseRefusal }) => err,
    );
    expect(again?.data).toMatchObject({ code: 'SENSOR_LEASED', instance: 'B' });
    await until('C got the alert opened on B while Redis was down', () =>
      onC.alert.some((a) => a.sensorId === 'ca-1' && a.id === opened.id),
    );
    await until("C got the status of B's sensors again", () =>
      onC.status.slice(statusesBefore).some((st) => st.id === 'ca-1' && st.instance === 'B'),
    );
    const after = onC.score.length;
    await moved.stream(4, 0.3);
    await until('C gets B scores again', () => onC.score.slice(after).some((s) => s.sensorId === 'ca-1'));
  }, 120_000);

  test('an instance whose lease is taken drops the sensor at its next renewal', async () => {
    const b = open.find((x): x is TestSensor => x instanceof TestSensor && x.socket.connected)!;
    const dropped = new Promise<string>((r) => b.socket.once('disconnect', r));
    // Another holder, as if B's renewals had not reached Redis in time and another instance took the sensor.
    expect(redisCli(['SET', leaseKey('cb-1'), 'Z#00', 'PX', '10000'])).toBe('OK');
    expect(await Promise.race([dropped, sleep(LEASE_SECONDS * 1000).then(() => 'still connected')])).toBe(
      'io server disconnect',
    );
    expect(servers.B.logs.some((l) => /lost the lease of sensor cb-1 to Z#00/.test(l))).toBe(true);
  }, 30_000);

  test('a kill -9ed instance holds its sensors only until its lease expires', async () => {
    process.env.HARK_LEASE_SECONDS = String(LEASE_SECONDS);
    const k = await serveChild([
      '--port',
      '0',
      '--data',
      tempDir('cluster-K'),
      '--redis',
      redis.url,
      '--instance',
      'K',
    ]).finally(() => delete process.env.HARK_LEASE_SECONDS);
    try {
      expect(k.out()).toMatch(/\[K\] hark server listening on .*instance K, cluster through Redis/);
      const admin = /created an admin token[^:]*: (\S+)/.exec(k.out())![1];
      await until(
        'K reaches Redis',
        async () => (await health({ url: k.url } as TestServer)).cluster.redis === 'up',
      );
      const sensor = await TestSensor.open(k.url, admin, 'ck-1');
      open.push(sensor);
      await sensor.stream(1, 0.3);
      // C has never heard of ck-1 (no record, no model): it lists it all the same, streaming on K.
      await until('C lists ck-1 on K', async () =>
        (await servers.C.api<SensorStatus[]>('/api/sensors')).some(
          (st) => st.id === 'ck-1' && st.connected && st.instance === 'K',
        ),
      );
      expect(await servers.C.api<SensorStatus>('/api/sensors/ck-1')).toMatchObject({ instance: 'K' });
      k.child.kill('SIGKILL');
      await k.exited;
      const killedAt = Date.now();
      const refused = await connectSensor(servers.B.url, servers.B.admin, 'ck-1').then(
        (c) => (c.close(), null),
        (err: Error & { data?: LeaseRefusal }) => err,
      );
      expect(refused?.data).toMatchObject({ code: 'SENSOR_LEASED', instance: 'K' });
      await until(
        'B takes ck-1',
        () =>
          connectSensor(servers.B.url, servers.B.admin, 'ck-1').then(
            (c) => (open.push(c), true),
            () => false,
          ),
        LEASE_SECONDS * 1000 + 2000,
      );
      // Its TTL after the last renewal, plus what a loaded machine takes to poll.
      expect(Date.now() - killedAt).toBeLessThan(LEASE_SECONDS * 1000 + 2000);
    } finally {
      if (k.child.exitCode === null) k.child.kill('SIGKILL');
    }
  }, 90_000);
});

describe.skipIf(!HAVE_REDIS)('an instance started while Redis is down', () => {
  test('starts degraded, refuses new sensors LEASE_UNAVAILABLE, and joins when Redis comes up', async () => {
    const r = await startRedis();
    await r.kill();
    const s = await startServer({ redisUrl: r.url, instance: 'late', leaseSeconds: LEASE_SECONDS });
    try {
      expect(await health(s)).toMatchObject({
        status: 'degraded',
        cluster: { instance: 'late', redis: 'down' },
      });
      const refused = await connectSensor(s.url, s.admin, 'late-1').then(
        (c) => (c.close(), null),
        (err: Error & { data?: LeaseRefusal }) => err,
      );
      expect(refused?.data).toMatchObject({ code: 'LEASE_UNAVAILABLE', instance: null });
      await r.restart();
      await until('it reaches Redis', async () => (await health(s)).status === 'ok');
      const sensor = await TestSensor.open(s.url, s.admin, 'late-1');
      sensor.close();
    } finally {
      await s.close();
      await r.stop();
    }
  }, 60_000);
});
