/**
 * NotificationService over a real store and real HTTP receivers on loopback: rules by label group and severity,
 * quiet hours, escalation (sent when nobody acknowledges, cancelled when someone does), retries, and the
 * payloads of the webhook, Slack and Teams kinds.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert, NotificationRuleInput } from '@hark/protocol';
import { HarkEvents } from '../../src/events.js';
import { NotificationService, verifySignature } from '../../src/notify/index.js';
import type { HarkStore } from '../../src/store/index.js';
import { tempStore } from '../store/helpers.js';

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
}

/** A real HTTP receiver answering with the next status of `statuses` (the last one repeats). */
async function receiver(statuses: number[] = [200]) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw, body: JSON.parse(raw) as Record<string, unknown> });
      res.writeHead(statuses[Math.min(received.length - 1, statuses.length - 1)]).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function setup() {
  const { store } = tempStore();
  const events = new HarkEvents();
  const lines: string[] = [];
  const service = new NotificationService({
    store,
    baseDelayMs: 10,
    maxDelayMs: 40,
    maxAttempts: 3,
    timeoutMs: 2000,
    log: (l) => lines.push(l),
  });
  service.attach(events);
  service.start();
  afterEach(() => service.stop());
  await store.sensors.upsert('press-1', 1, { name: 'Press 1', labels: { site: 'plant-1', line: 'A' } });
  await store.sensors.upsert('press-2', 1, { labels: { site: 'plant-2', line: 'A' } });
  /** Opens a stored alert and publishes it like the alert service does. */
  const open = async (sensorId = 'press-1', extra: Record<string, unknown> = {}): Promise<Alert> => {
    const a = {
      ...(await store.alerts.open({
        sensorId,
        kind: 'anomaly',
        start: Date.now(),
        peakScore: 2.5,
        peakAt: Date.now(),
        threshold: 1,
      })),
      ...extra,
    };
    events.emit('alert', a);
    await service.routed(); // its deliveries are queued
    return a;
  };
  const webhook = (url: string, name = 'hook') =>
    service.createChannel({ name, kind: 'webhook', config: { url, secret: 's3cret' } });
  const rule = (channelId: number, over: NotificationRuleInput = {}) =>
    service.createRule({ name: 'r', channelId, ...over });
  return { store, events, service, open, webhook, rule, lines };
}

const deliveries = async (store: HarkStore, alertId: number) =>
  (await store.notifications.deliveries({ alertId })).items.reverse();

describe('NotificationService', () => {
  it('sends the signed webhook body to a rule of the label group, not to other sensors', async () => {
    const { store, open, webhook, rule } = await setup();
    const hook = await receiver();
    const ch = await webhook(hook.url);
    await rule(ch.id, { labels: { site: 'plant-1' } });
    const other = await open('press-2');
    const mine = await open('press-1');
    // The record is written once the receiver's answer is in, a moment after the request arrives.
    await until(async () => (await deliveries(store, mine.id))[0]?.state === 'delivered');
    const r = hook.received[0];
    expect(r.body).toMatchObject({ event: 'alert.opened', attempt: 1, alert: { id: mine.id } });
    expect(r.headers['x-hark-event']).toBe('alert.opened');
    const t = r.headers['x-hark-timestamp'] as string;
    expect(verifySignature('s3cret', t, r.raw, r.headers['x-hark-signature'] as string)).toBe(true);
    expect(await deliveries(store, other.id)).toEqual([]);
    expect(await deliveries(store, mine.id)).toEqual([
      expect.objectContaining({
        channelName: 'hook',
        channelKind: 'webhook',
        state: 'delivered',
        attempts: 1,
      }),
    ]);
  });

  it('a critical-only rule skips warnings and announces an alert once it turns critical', async () => {
    const { store, events, open, webhook, rule } = await setup();
    const hook = await receiver();
    await rule((await webhook(hook.url)).id, { severities: ['critical'] });
    const a = await open(); // no severity: a warning
    await new Promise((r) => setTimeout(r, 100));
    expect(hook.received).toHaveLength(0);
    events.emit('alert:update', { ...a, severity: 'critical' } as Alert);
    await until(() => hook.received.length === 1);
    expect(hook.received[0].body).toMatchObject({ event: 'alert.opened', alert: { severity: 'critical' } });
    events.emit('alert:update', { ...a, peakScore: 3, severity: 'critical' } as Alert);
    await new Promise((r) => setTimeout(r, 100));
    expect(await deliveries(store, a.id)).toHaveLength(1); // once
  });

  it('records a message in quiet hours as suppressed, naming them', async () => {
    const { store, open, webhook, rule } = await setup();
    const hook = await receiver();
    const h = new Date().getUTCHours();
    const hh = (n: number) => `${String((n + 24) % 24).padStart(2, '0')}:00`;
    await rule((await webhook(hook.url)).id, {
      quietHours: { start: hh(h), end: hh(h + 1), timeZone: 'UTC' },
    });
    const a = await open();
    await new Promise((r) => setTimeout(r, 100));
    expect(hook.received).toHaveLength(0);
    expect(await deliveries(store, a.id)).toEqual([
      expect.objectContaining({
        state: 'suppressed',
        error: `not sent: quiet hours ${hh(h)}-${hh(h + 1)} UTC`,
      }),
    ]);
  });

  it('escalates an alert nobody acknowledged to the second channel, and not one that was', async () => {
    const { store, events, open, webhook, rule } = await setup();
    const first = await receiver();
    const second = await receiver();
    const ch2 = await webhook(second.url, 'on-call');
    await rule((await webhook(first.url)).id, { escalation: { afterMinutes: 0.005, channelId: ch2.id } }); // 0.3 s
    const ignored = await open();
    const handled = await open();
    events.emit('alert:update', await store.alerts.acknowledge(handled.id, 'olga'));
    await until(() => second.received.length === 1);
    await new Promise((r) => setTimeout(r, 400));
    expect(second.received).toHaveLength(1);
    expect(second.received[0].body).toMatchObject({ event: 'alert.escalated', alert: { id: ignored.id } });
    expect(first.received).toHaveLength(2);
    expect((await deliveries(store, ignored.id)).map((d) => [d.channelName, d.event, d.state])).toEqual([
      ['hook', 'alert.opened', 'delivered'],
      ['on-call', 'alert.escalated', 'delivered'],
    ]);
    expect((await deliveries(store, handled.id)).map((d) => d.event)).toEqual(['alert.opened']);
  });

  it('retries a 503 and gives up on a 400 with the answer in the record', async () => {
    const { store, open, webhook, rule } = await setup();
    const flaky = await receiver([503, 200]);
    const broken = await receiver([400]);
    await rule((await webhook(flaky.url, 'flaky')).id);
    await rule((await webhook(broken.url, 'broken')).id);
    const a = await open();
    await until(async () => (await deliveries(store, a.id)).every((d) => d.state !== 'pending'));
    const byName = Object.fromEntries((await deliveries(store, a.id)).map((d) => [d.channelName, d]));
    expect(byName.flaky).toMatchObject({ state: 'delivered', attempts: 2, error: null });
    expect(byName.broken).toMatchObject({ state: 'failed', attempts: 1 });
    expect(byName.broken.error).toMatch(/answered 400 .*fix the channel's settings/);
    expect(broken.received).toHaveLength(1);
  });

  it('sends Slack blocks and a Teams Adaptive Card, and names only the host of their secret URLs', async () => {
    const { store, service, open, rule } = await setup();
    const slack = await receiver();
    const teams = await receiver([404]);
    const s = await service.createChannel({
      name: 'slack',
      kind: 'slack',
      config: { url: `${slack.url}/T0/B0/xyz` },
    });
    const t = await service.createChannel({
      name: 'teams',
      kind: 'teams',
      config: { url: `${teams.url}/wf?sig=abc` },
    });
    expect(s).toMatchObject({
      config: { host: new URL(slack.url).host },
      hasSecret: true,
      secretFields: ['url'],
    });
    await rule(s.id);
    await rule(t.id);
    const a = await open();
    await until(async () => (await deliveries(store, a.id)).every((d) => d.state !== 'pending'));
    expect(slack.received[0].body).toMatchObject({
      text: `[hark] warning anomaly alert #${a.id} on Press 1 (press-1): opened`,
      blocks: [{ type: 'section' }, { type: 'section', fields: expect.any(Array) }],
    });
    expect(teams.received[0].body).toMatchObject({
      type: 'message',
      attachments: [
        { contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard' } },
      ],
    });
    const failed = (await deliveries(store, a.id)).find((d) => d.channelName === 'teams');
    expect(failed?.error).toContain(`${new URL(teams.url).origin}/…`);
    expect(failed?.error).not.toContain('sig=abc');
  });
});
