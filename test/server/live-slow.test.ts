/**
 * A dashboard that stops reading (L8, issue 18), over real socket.io with the real server: its broadcasts are
 * coalesced to the latest state of each alert and sensor, and past the bound the oldest are dropped and counted
 * in /metrics, while a dashboard that keeps up gets every message. The slow one is a real socket.io client whose
 * TCP socket is paused, so the kernel's buffers fill and the server's transport backs up as on a bad link.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { LIVE_HUB_DEFAULTS } from '@hark/server';
import { startServer, type TestServer } from '../support/server.js';

let s: TestServer;
const open: Socket[] = [];

beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  for (const c of open) c.close();
  await s.close();
});

async function dashboard(token: string): Promise<Socket> {
  const c = io(`${s.url}/live`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  open.push(c);
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('connect_error', reject);
  });
  return c;
}

/** The client's TCP socket (socket.io-client over `ws` in Node). */
function tcp(c: Socket): { pause(): void; resume(): void } {
  const transport = (
    c.io.engine as unknown as { transport: { ws: { _socket: { pause(): void; resume(): void } } } }
  ).transport;
  return transport.ws._socket;
}

const tick = () => new Promise((r) => setImmediate(r));
const SENSORS = 20;
const status = (i: number, v: number) => ({ id: `s${i}`, v, labels: { pad: 'x'.repeat(4096) } });

test('a dashboard that stops reading gets the latest state of each alert and sensor; the oldest past the bound are dropped and counted', async () => {
  const token = await s.token('operator');
  const fast = await dashboard(token);
  const slow = await dashboard(token);
  const got = {
    fast: [] as [string, { id: unknown; v?: number }][],
    slow: [] as [string, { id: unknown; v?: number }][],
  };
  for (const [name, c] of [
    ['fast', fast],
    ['slow', slow],
  ] as const)
    c.onAny((event: string, payload: { id: unknown; v?: number }) => got[name].push([event, payload]));
  tcp(slow).pause();

  // Phase 1: sensor statuses until the slow client's transport has backed up (the kernel buffers are full).
  let v = 0;
  while ((s.server.hub.stats(slow.id!)?.pendingBroadcasts ?? 0) === 0) {
    v++;
    for (let i = 0; i < SENSORS; i++) s.server.hub.broadcast('sensor:status', status(i, v));
    await tick();
    if (v > 20000) throw new Error('the paused client never backed up');
  }
  // One more round, so that every sensor has a status waiting.
  v++;
  for (let i = 0; i < SENSORS; i++) s.server.hub.broadcast('sensor:status', status(i, v));
  expect(s.server.hub.stats(slow.id!)?.pendingBroadcasts).toBe(SENSORS);
  // Phase 2: 1100 new alerts, more than the 1000 broadcasts kept for a slow client.
  const ALERTS = 1100;
  expect(LIVE_HUB_DEFAULTS.maxPendingBroadcasts).toBe(1000);
  for (let id = 1; id <= ALERTS; id++) {
    s.server.hub.broadcast('alert', { id, v: 0 });
    s.server.hub.broadcast('alert:update', { id, v: 1 });
    if (id % 100 === 0) await tick();
  }
  // Phase 3: 50 more rounds of statuses.
  for (let k = 0; k < 50; k++) {
    v++;
    for (let i = 0; i < SENSORS; i++) s.server.hub.broadcast('sensor:status', status(i, v));
    await tick();
  }
  const stats = s.server.hub.stats(slow.id!)!;
  // Kept: the bound; every alert's update folded into its `alert`, every status into its sensor's latest.
  expect(stats.pendingBroadcasts).toBe(1000);
  // The 20 statuses of phase 1, alerts 1-100 (phase 2), alerts 101-120 (phase 3's 20 new sensor keys).
  expect(stats.dropped).toBe(140);
  expect(s.server.hub.dropped).toBe(140);
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  expect(metrics).toMatch(/^hark_live_dropped_messages_total 140$/m);

  // The one that keeps up lost nothing: every alert, and every sensor's latest status (when its own transport
  // backed up for a moment, it was coalesced too, never dropped).
  expect(s.server.hub.stats(fast.id!)?.dropped).toBe(0);
  await waitFor(() => got.fast.some(([e, p]) => e === 'alert' && p.id === ALERTS));
  await waitFor(() => [...latest(got.fast).values()].every((x) => x === v));
  expect(new Set(got.fast.filter(([e]) => e === 'alert').map(([, p]) => p.id)).size).toBe(ALERTS);

  // The slow one reads again: it catches up, with the latest state of everything kept.
  tcp(slow).resume();
  await waitFor(() => got.slow.some(([e, p]) => e === 'alert' && p.id === ALERTS));
  await waitFor(
    () => latest(got.slow).size === SENSORS && [...latest(got.slow).values()].every((x) => x === v),
  );
  const alerts = got.slow.filter(([e]) => e === 'alert').map(([, p]) => p);
  expect(alerts.map((a) => a.id)).toEqual(Array.from({ length: ALERTS - 120 }, (_, k) => k + 121));
  expect(alerts.every((a) => a.v === 1)).toBe(true);
  expect(got.slow.filter(([e]) => e === 'alert:update')).toHaveLength(0);
  expect(s.server.hub.stats(slow.id!)?.pendingBroadcasts).toBe(0);
}, 120_000);

function latest(events: [string, { id: unknown; v?: number }][]): Map<unknown, number | undefined> {
  const m = new Map<unknown, number | undefined>();
  for (const [e, p] of events) if (e === 'sensor:status') m.set(p.id, p.v);
  return m;
}

async function waitFor(ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
