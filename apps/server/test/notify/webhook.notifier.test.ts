import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '@hark/protocol';
import { HarkEvents } from '../../src/events.js';
import {
  WebhookNotifier,
  verifySignature,
  type WebhookBody,
  type WebhookNotifierOptions,
  type WebhookOutcome,
} from '../../src/notify/index.js';
import { HarkStore } from '../../src/store/index.js';
import { tempDir, tempStore } from '../store/helpers.js';

const SECRET = 'test-secret';

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: WebhookBody;
}

/** A real HTTP receiver answering each request with the next status of `statuses` (the last one repeats). */
async function receiver(statuses: number[] | ((n: number) => number | null)) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw, body: JSON.parse(raw) as WebhookBody });
      const n = received.length - 1;
      const status =
        typeof statuses === 'function' ? statuses(n) : statuses[Math.min(n, statuses.length - 1)];
      if (status === null) return; // never answer
      res.writeHead(status, status === 429 ? { 'Retry-After': '0' } : {}).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url, received };
}

/** A URL on which nothing listens. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/hook`;
}

const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 7,
  sensorId: 'pump-1',
  kind: 'anomaly',
  state: 'open',
  active: true,
  start: 1000,
  end: null,
  peakScore: 1.5,
  peakAt: 1200,
  threshold: 0.8,
  boxes: [],
  acknowledgedBy: null,
  acknowledgedAt: null,
  resolvedBy: null,
  resolvedAt: null,
  annotations: [],
  clip: { available: false, start: null, seconds: null },
  feedback: null,
  severity: 'warning',
  count: 1,
  occurrences: [{ start: 1000, end: null, peakScore: 1.5, peakAt: 1200, openedAt: 1000, clearedAt: null }],
  clearedAt: null,
  autoResolved: false,
  ...over,
});

function notifier(store: HarkStore, url: string, over: Partial<WebhookNotifierOptions> = {}) {
  const outcomes: WebhookOutcome[] = [];
  const n = new WebhookNotifier({
    url,
    secret: SECRET,
    outbox: store.outbox,
    baseDelayMs: 10,
    maxDelayMs: 40,
    maxAttempts: 5,
    timeoutMs: 2000,
    onOutcome: (o) => outcomes.push(o),
    ...over,
  });
  afterEach(() => n.stop(0));
  return { n, outcomes };
}

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('WebhookNotifier', () => {
  it('retries 503 twice, then delivers one signed delivery with the same id', async () => {
    const { store } = tempStore();
    const hook = await receiver([503, 503, 200]);
    const { n, outcomes } = notifier(store, hook.url);
    n.start();
    const entry = await n.enqueue('alert.opened', alert());
    await until(() => outcomes.length === 3);

    expect(outcomes).toEqual(['retry', 'retry', 'delivered']);
    expect(hook.received.map((r) => r.body.attempt)).toEqual([1, 2, 3]);
    for (const r of hook.received) {
      expect(r.body).toMatchObject({ event: 'alert.opened', deliveryId: entry.id, alert: alert() });
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-hark-event']).toBe('alert.opened');
      expect(r.headers['x-hark-delivery']).toBe(String(entry.id));
      expect(Number(r.headers['x-hark-timestamp'])).toBe(r.body.sentAt);
      expect(r.headers['x-hark-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(
        verifySignature(
          SECRET,
          r.headers['x-hark-timestamp'] as string,
          r.raw,
          r.headers['x-hark-signature'] as string,
        ),
      ).toBe(true);
    }
    expect(await store.outbox.get(entry.id)).toMatchObject({
      state: 'delivered',
      attempts: 3,
      lastError: null,
    });
    expect(await n.stats()).toMatchObject({
      pending: 0,
      delivered: 1,
      retried: 2,
      failed: 0,
      inFlight: false,
    });
  });

  it('gives up at once on a 4xx other than 408 / 429', async () => {
    const { store } = tempStore();
    const hook = await receiver([404]);
    const { n, outcomes } = notifier(store, hook.url);
    n.start();
    const { id } = await n.enqueue('alert.resolved', alert({ state: 'resolved' }));
    await until(() => outcomes.length === 1);
    await new Promise((r) => setTimeout(r, 60));
    expect(hook.received).toHaveLength(1);
    expect(outcomes).toEqual(['failed']);
    expect(await store.outbox.get(id)).toMatchObject({ state: 'failed', attempts: 1 });
    expect((await store.outbox.get(id))?.lastError).toMatch(/answered 404 Not Found; giving up/);
  });

  it('retries 429 and gives up after maxAttempts of 5xx', async () => {
    const { store } = tempStore();
    const hook = await receiver([429, 500]);
    const { n, outcomes } = notifier(store, hook.url, { maxAttempts: 3 });
    n.start();
    const { id } = await n.enqueue('alert.opened', alert());
    await until(() => outcomes.length === 3);
    expect(outcomes).toEqual(['retry', 'retry', 'failed']);
    expect(await store.outbox.get(id)).toMatchObject({ state: 'failed', attempts: 3 });
    expect(await n.stats()).toMatchObject({ failed: 1, retried: 2 });
  });

  it('backs off exponentially with jitter, capped', async () => {
    const { store } = tempStore();
    let now = 0;
    const { n } = notifier(store, await deadUrl(), {
      baseDelayMs: 10,
      maxDelayMs: 50,
      maxAttempts: 10,
      now: () => now,
      random: () => 1, // the top of the jitter range
    });
    const { id } = await n.enqueue('alert.opened', alert());
    n.start();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = (await store.outbox.get(id))?.attempts ?? 0;
      await until(async () => ((await store.outbox.get(id))?.attempts ?? 0) > before);
      delays.push(((await store.outbox.get(id))?.nextAttemptAt ?? 0) - now);
      now = (await store.outbox.get(id))?.nextAttemptAt ?? 0; // jump the clock to the next attempt
    }
    expect(delays).toEqual([10, 20, 40, 50, 50]);
    expect((await store.outbox.get(id))?.lastError).toMatch(/ECONNREFUSED/);
  });

  it('resumes pending deliveries after a restart', async () => {
    const dir = tempDir();
    const first = new HarkStore(dir);
    const down = notifier(first, await deadUrl(), { baseDelayMs: 10_000, maxDelayMs: 10_000 });
    down.n.start();
    const { id } = await down.n.enqueue('alert.opened', alert());
    await until(() => down.outcomes.length === 1);
    expect(down.outcomes).toEqual(['retry']);
    await down.n.stop();
    await first.close();

    const second = new HarkStore(dir);
    afterEach(() => second.close());
    expect(await second.outbox.get(id)).toMatchObject({ state: 'pending', attempts: 1 });
    const hook = await receiver([200]);
    let now = Date.now() + 20_000; // past the retry time
    const up = notifier(second, hook.url, { now: () => now++ });
    up.n.start();
    await until(() => up.outcomes.length === 1);
    expect(hook.received[0].body).toMatchObject({ deliveryId: id, attempt: 2, event: 'alert.opened' });
    expect((await second.outbox.get(id))?.state).toBe('delivered');
  });

  it('stop() waits for a request in flight, then aborts it without counting the attempt', async () => {
    const { store } = tempStore();
    const hook = await receiver(() => null); // never answers
    const { n, outcomes } = notifier(store, hook.url);
    n.start();
    const { id } = await n.enqueue('alert.opened', alert());
    await until(() => hook.received.length === 1);
    expect((await n.stats()).inFlight).toBe(true);
    const t = Date.now();
    await n.stop(50);
    expect(Date.now() - t).toBeLessThan(1000);
    expect(outcomes).toEqual([]);
    expect(await store.outbox.get(id)).toMatchObject({ state: 'pending', attempts: 0 });
    expect((await n.stats()).inFlight).toBe(false);
  });

  it('times out a silent receiver and retries', async () => {
    const { store } = tempStore();
    const hook = await receiver((i) => (i === 0 ? null : 200));
    const { n, outcomes } = notifier(store, hook.url, { timeoutMs: 100 });
    n.start();
    const { id } = await n.enqueue('alert.opened', alert());
    await until(() => outcomes.length === 2);
    expect(outcomes).toEqual(['retry', 'delivered']);
    expect((await store.outbox.get(id))?.attempts).toBe(2);
  });

  it('sends lifecycle events from the event bus but not peak-only updates', async () => {
    const { store } = tempStore();
    const hook = await receiver([200]);
    const { n, outcomes } = notifier(store, hook.url);
    const events = new HarkEvents();
    const detach = n.attach(events);
    n.start();
    events.emit('alert', alert());
    events.emit('alert:update', alert({ peakScore: 3 }));
    events.emit('alert:update', alert({ peakScore: 3, active: false, end: 5000 }));
    events.emit(
      'alert:update',
      alert({ active: false, end: 5000, state: 'acknowledged', acknowledgedBy: 'ana' }),
    );
    const note = { id: 1, alertId: 7, label: 'maintenance' as const, text: '', author: 'ana', at: 1 };
    events.emit('alert:update', alert({ active: false, state: 'acknowledged', annotations: [note] }));
    events.emit('alert:update', alert({ active: false, state: 'resolved', annotations: [note] }));
    detach();
    events.emit('alert', alert({ id: 8 }));
    await until(() => outcomes.length === 5);
    await new Promise((r) => setTimeout(r, 50));
    expect(hook.received.map((r) => r.body.event)).toEqual([
      'alert.opened',
      'alert.closed',
      'alert.acknowledged',
      'alert.annotated',
      'alert.resolved',
    ]);
  });

  it('rejects bad configuration', () => {
    const { store } = tempStore();
    const base = { secret: 's', outbox: store.outbox };
    expect(() => new WebhookNotifier({ ...base, url: 'nope' })).toThrow("webhook url 'nope' is not a URL");
    expect(() => new WebhookNotifier({ ...base, url: 'ftp://x' })).toThrow('must be http or https');
    expect(() => new WebhookNotifier({ ...base, url: 'http://x', secret: '' })).toThrow(
      'secret must not be empty',
    );
    expect(() => new WebhookNotifier({ ...base, url: 'http://x', maxAttempts: 0 })).toThrow(
      'webhook maxAttempts (0) must be an integer >= 1',
    );
  });
});

describe('verifySignature', () => {
  const body = '{"event":"alert.opened"}';
  const now = 1_700_000_000_000;
  it('accepts the right secret, body and a fresh timestamp only', async () => {
    const { signWebhook } = await import('../../src/notify/index.js');
    const sig = signWebhook(SECRET, now, body);
    expect(verifySignature(SECRET, String(now), body, sig, { now })).toBe(true);
    expect(verifySignature(SECRET, now, Buffer.from(body), sig, { now: now + 1000 })).toBe(true);
    expect(verifySignature('other', now, body, sig, { now })).toBe(false);
    expect(verifySignature(SECRET, now, body + ' ', sig, { now })).toBe(false);
    expect(verifySignature(SECRET, now + 1, body, sig, { now })).toBe(false);
    expect(verifySignature(SECRET, now, body, sig, { now: now + 10 * 60_000 })).toBe(false); // replay
    expect(verifySignature(SECRET, now, body, 'sha256=00', { now })).toBe(false);
    expect(verifySignature(SECRET, now, body, undefined, { now })).toBe(false);
    expect(verifySignature(SECRET, 'x', body, sig, { now })).toBe(false);
  });
});
