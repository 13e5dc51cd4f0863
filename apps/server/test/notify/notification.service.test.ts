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

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function setup() {
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
  store.sensors.upsert('press-1', 1, { name: 'Press 1', labels: { site: 'plant-1', line: 'A' } });
  store.sensors.upsert('press-2', 1, { labels: { site: 'plant-2', line: 'A' } });
  /** Opens a stored alert and publishes it like the alert service does. */
  const open = (sensorId = 'press-1', extra: Record<string, unknown> = {}): Alert => {
    const a = {
      ...store.alerts.open({
        sensorId,
        kind: 'anomaly',
        start: Date.now(),
        peakScore: 2.5,
        peakAt: Date.now(),
        threshold: 1,
      }),
      ...extra,
    };
    events.emit('alert', a);
    return a;
  };
  const webhook = (url: string, name = 'hook') =>
    service.createChannel({ name, kind: 'webhook', config: { url, secret: 's3cret' } });
  const rule = (channelId: number, over: NotificationRuleInput = {}) =>
    service.createRule({ name: 'r', channelId, ...over });
  return { store, events, service, open, webhook, rule, lines };
}

const deliveries = (store: HarkStore, alertId: number) =>
  store.notifications.deliveries({ alertId }).items.reverse();

describe('NotificationService', () => {
  it('sends the signed webhook body to a rule of the label group, not to other sensors', async () => {
    const { store, open, webhook, rule } = setup();
    const hook = await receiver();
    const ch = webhook(hook.url);
    rule(ch.id, { labels: { site: 'plant-1' } });
    const other = open('press-2');
    const mine = open('press-1');
    // The record is written once the receiver's answer is in, a moment after the request arrives.
    await until(() => deliveries(store, mine.id)[0]?.state === 'delivered');
    const r = hook.received[0];
    expect(r.body).toMatchObject({ event: 'alert.opened', attempt: 1, alert: { id: mine.id } });
    expect(r.headers['x-hark-event']).toBe('alert.opened');
    const t = r.headers['x-hark-timestamp'] as string;
    expect(verifySignature('s3cret', t, r.raw, r.headers['x-hark-signature'] as string)).toBe(true);
    expect(deliveries(store, other.id)).toEqual([]);
    expect(deliveries(store, mine.id)).toEqual([
      expect.objectContaining({
        channelName: 'hook',
        channelKind: 'webhook',
        state: 'delivered',
        attempts: 1,
      }),
    ]);
  });

  it('a critical-only rule skips warnings and announces an alert once it turns critical', async () => {
    const { store, events, open, webhook, rule } = setup();
    const hook = await receiver();
    rule(webhook(hook.url).id, { severities: ['critical'] });
    const a = open(); // no severity: a warning
    await new Promise((r) => setTimeout(r, 100));
    expect(hook.received).toHaveLength(0);
    events.emit('alert:update', { ...a, severity: 'critical' } as Alert);
    await until(() => hook.received.length === 1);
    expect(hook.received[0].body).toMatchObject({ event: 'alert.opened', alert: { severity: 'critical' } });
    events.emit('alert:update', { ...a, peakScore: 3, severity: 'critical' } as Alert);
    await new Promise((r) => setTimeout(r, 100));
    expect(deliveries(store, a.id)).toHaveLength(1); // once
  });

  it('records a message in quiet hours as suppressed, naming them', async () => {
    const { store, open, webhook, rule } = setup();
    const hook = await receiver();
    const h = new Date().getUTCHours();
    const hh = (n: number) => `${String((n + 24) % 24).padStart(2, '0')}:00`;
    rule(webhook(hook.url).id, { quietHours: { start: hh(h), end: hh(h + 1), timeZone: 'UTC' } });
    const a = open();
    await new Promise((r) => setTimeout(r, 100));
    expect(hook.received).toHaveLength(0);
    expect(deliveries(store, a.id)).toEqual([
      expect.objectContaining({
        state: 'suppressed',
        error: `not sent: quiet hours ${hh(h)}-${hh(h + 1)} UTC`,
      }),
    ]);
  });

  it('escalates an alert nobody acknowledged to the second channel, and not one that was', async () => {
    const { store, events, open, webhook, rule } = setup();
    const first = await receiver();
    const second = await receiver();
    const ch2 = webhook(second.url, 'on-call');
    rule(webhook(first.url).id, { escalation: { afterMinutes: 0.005, channelId: ch2.id } }); // 0.3 s
    const ignored = open();
    const handled = open();
    events.emit('alert:update', store.alerts.acknowledge(handled.id, 'olga'));
    await until(() => second.received.length === 1);
    await new Promise((r) => setTimeout(r, 400));
    expect(second.received).toHaveLength(1);
    expect(second.received[0].body).toMatchObject({ event: 'alert.escalated', alert: { id: ignored.id } });
    expect(first.received).toHaveLength(2);
    expect(deliveries(store, ignored.id).map((d) => [d.channelName, d.event, d.state])).toEqual([
      ['hook', 'alert.opened', 'delivered'],
      ['on-call', 'alert.escalated', 'delivered'],
    ]);
    expect(deliveries(store, handled.id).map((d) => d.event)).toEqual(['alert.opened']);
  });

  it('retries a 503 and gives up on a 400 with the answer in the record', async () => {
    const { store, open, webhook, rule } = setup();
    const flaky = await receiver([503, 200]);
    const broken = await receiver([400]);
    rule(webhook(flaky.url, 'flaky').id);
    rule(webhook(broken.url, 'broken').id);
    const a = open();
    await until(() => deliveries(store, a.id).every((d) => d.state !== 'pending'));
    const byName = Object.fromEntries(deliveries(store, a.id).map((d) => [d.channelName, d]));
    expect(byName.flaky).toMatchObject({ state: 'delivered', attempts: 2, error: null });
    expect(byName.broken).toMatchObject({ state: 'failed', attempts: 1 });
    expect(byName.broken.error).toMatch(/answered 400 .*fix the channel's settings/);
    expect(broken.received).toHaveLength(1);
  });

  it('sends Slack blocks and a Teams Adaptive Card, and names only the host of their secret URLs', async () => {
    const { store, service, open, rule } = setup();
    const slack = await receiver();
    const teams = await receiver([404]);
    const s = service.createChannel({
      name: 'slack',
      kind: 'slack',
      config: { url: `${slack.url}/T0/B0/xyz` },
    });
    const t = service.createChannel({
      name: 'teams',
      kind: 'teams',
      config: { url: `${teams.url}/wf?sig=abc` },
    });
    expect(s).toMatchObject({
      config: { host: new URL(slack.url).host },
      hasSecret: true,
      secretFields: ['url'],
    });
    rule(s.id);
    rule(t.id);
    const a = open();
    await until(() => deliveries(store, a.id).every((d) => d.state !== 'pending'));
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
    const failed = deliveries(store, a.id).find((d) => d.channelName === 'teams');
    expect(failed?.error).toContain(`${new URL(teams.url).origin}/…`);
    expect(failed?.error).not.toContain('sig=abc');
  });
});
