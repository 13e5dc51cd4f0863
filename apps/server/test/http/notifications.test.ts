/**
 * `/api/notifications`: channels and rules for admins, secrets written and never read back, errors that name
 * the field and the fix, deliveries for operators.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ChannelTestResult,
  NotificationChannel,
  NotificationDelivery,
  NotificationRule,
  Page,
} from '@hark/protocol';
import { verifySignature } from '../../src/notify/index.js';
import { startHarness, type Harness } from './harness.js';

describe('/api/notifications', () => {
  let h: Harness;
  const bodies: { raw: string; headers: Record<string, unknown> }[] = [];
  const hookServer = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      bodies.push({ raw, headers: req.headers });
      res.end('ok');
    });
  });
  let hook: string;
  let dead: string;

  beforeAll(async () => {
    h = await startHarness();
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
    hook = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`;
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    dead = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/nothing`;
    await new Promise((r) => gone.close(r));
  });
  afterAll(async () => {
    await h.close();
    hookServer.closeAllConnections();
    await new Promise((r) => hookServer.close(r));
  });

  const post = <T>(path: string, body: unknown, token?: string) =>
    h.call<T>(path, { method: 'POST', body, ...(token ? { token } : {}) });

  it('never answers a secret: create, list, get and patch show hasSecret and the fields set', async () => {
    const created = await post<NotificationChannel>('/api/notifications/channels', {
      name: 'mqtt-plant',
      kind: 'mqtt',
      config: {
        url: 'mqtt://127.0.0.1:1',
        topic: 'hark/{sensorId}',
        username: 'hark',
        password: 'mq-pass-1',
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'mqtt',
      enabled: true,
      hasSecret: true,
      secretFields: ['password'],
      config: {
        url: 'mqtt://127.0.0.1:1',
        topic: 'hark/{sensorId}',
        qos: 1,
        retain: false,
        username: 'hark',
      },
    });
    const id = created.body.id;
    const patched = await h.call<NotificationChannel>(`/api/notifications/channels/${id}`, {
      method: 'PATCH',
      body: { enabled: false },
    });
    expect(patched.body).toMatchObject({ enabled: false, hasSecret: true });
    for (const answer of [created, patched, await h.call(`/api/notifications/channels/${id}`)])
      expect(answer.bytes.toString()).not.toContain('mq-pass-1');
    expect((await h.call('/api/notifications/channels')).bytes.toString()).not.toContain('mq-pass-1');
    // Stored all the same.
    expect((await h.store.notifications.requireChannel(id)).secret).toEqual({ password: 'mq-pass-1' });
  });

  it('a patch without the secret keeps it: the test message is still signed with it', async () => {
    const created = await post<NotificationChannel>('/api/notifications/channels', {
      name: 'receiver',
      kind: 'webhook',
      config: { url: dead, secret: 'hook-secret' },
    });
    const id = created.body.id;
    await h.call(`/api/notifications/channels/${id}`, { method: 'PATCH', body: { config: { url: hook } } });
    const test = await post<ChannelTestResult>(`/api/notifications/channels/${id}/test`, {});
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({
      ok: true,
      delivery: { event: 'test', state: 'delivered', alertId: null },
    });
    const last = bodies.at(-1)!;
    expect(
      verifySignature(
        'hook-secret',
        last.headers['x-hark-timestamp'] as string,
        last.raw,
        last.headers['x-hark-signature'] as string,
      ),
    ).toBe(true);
    // A failing channel says why, at once.
    await h.call(`/api/notifications/channels/${id}`, {
      method: 'PATCH',
      body: { config: { url: dead } },
    });
    const bad = await post<ChannelTestResult>(`/api/notifications/channels/${id}/test`, {});
    expect(bad.body).toMatchObject({ ok: false, delivery: { state: 'failed' } });
    expect(bad.body.error).toBe(`POST ${dead} failed: ECONNREFUSED`);
  });

  it('refuses bad channels with the field, the value and the fix', async () => {
    const cases: [unknown, RegExp][] = [
      [{ name: 'x', kind: 'pager', config: {} }, /kind \('pager'\) must be one of 'webhook', 'slack'/],
      [
        { name: 'x', kind: 'webhook', config: { url: 'ftp://a', secret: 's' } },
        /config.url \('ftp:\/\/a'\) must use http or https/,
      ],
      [{ name: 'x', kind: 'webhook', config: { url: 'http://a' } }, /config.secret \(missing\) is required/],
      [
        { name: 'x', kind: 'mqtt', config: { url: 'mqtt://b', topic: 'hark/#' } },
        /config.topic .* wildcards/,
      ],
      [
        { name: 'x', kind: 'mqtt', config: { url: 'mqtt://u:pw@b', topic: 't' } },
        /must not hold a password: use config.password/,
      ],
      [
        { name: 'x', kind: 'email', config: { host: 'h', from: 'a@b.c', to: ['not-an-address'] } },
        /config.to\[0\] \('not-an-address'\) must be an e-mail address/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await post<{ message: string }>('/api/notifications/channels', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message).toMatch(message);
    }
    const dup = await post<{ message: string }>('/api/notifications/channels', {
      name: 'receiver',
      kind: 'slack',
      config: { url: 'https://hooks.slack.com/services/x' },
    });
    expect(dup.status).toBe(409);
    const channel = (await h.store.notifications.channels())[0];
    const kind = await h.call<{ message: string }>(`/api/notifications/channels/${channel.id}`, {
      method: 'PATCH',
      body: { kind: 'email' },
    });
    expect(kind.status).toBe(400);
    expect(kind.body.message).toMatch(/cannot change .* create a new channel/);
  });

  it('rules: defaults, checks, and deletion with their channel', async () => {
    const ch = await post<NotificationChannel>('/api/notifications/channels', {
      name: 'slack',
      kind: 'slack',
      config: { url: 'https://hooks.slack.com/services/T/B/C' },
    });
    const second = await post<NotificationChannel>('/api/notifications/channels', {
      name: 'mail',
      kind: 'email',
      config: { host: 'smtp.plant', from: 'hark@plant.example', to: 'a@plant.example,b@plant.example' },
    });
    expect(second.body.config).toMatchObject({
      port: 587,
      security: 'starttls',
      to: ['a@plant.example', 'b@plant.example'],
    });
    const rule = await post<NotificationRule>('/api/notifications/rules', {
      name: 'line A',
      channelId: ch.body.id,
      labels: { line: 'A' },
      quietHours: { start: '22:00', end: '06:00', timeZone: 'Europe/Berlin' },
      escalation: { afterMinutes: 15, channelId: second.body.id },
    });
    expect(rule.status).toBe(201);
    expect(rule.body).toMatchObject({
      enabled: true,
      sensorIds: [],
      severities: ['warning', 'critical'],
      events: ['alert.opened'],
      escalation: { afterMinutes: 15, channelId: second.body.id },
    });
    const cases: [unknown, RegExp][] = [
      [{ name: 'r', channelId: 999 }, /channelId \(999\) is no notification channel/],
      [
        { name: 'r', channelId: ch.body.id, severities: ['fatal'] },
        /severities \('fatal'\) must be one of 'warning', 'critical'/,
      ],
      [
        { name: 'r', channelId: ch.body.id, quietHours: { start: '22:00', end: '6', timeZone: 'UTC' } },
        /quietHours.end \('6'\) must be a 24-hour time HH:MM/,
      ],
      [
        {
          name: 'r',
          channelId: ch.body.id,
          quietHours: { start: '22:00', end: '06:00', timeZone: 'Mars/Olympus' },
        },
        /quietHours.timeZone \('Mars\/Olympus'\) must be an IANA time zone/,
      ],
      [
        { name: 'r', channelId: ch.body.id, escalation: { afterMinutes: 5, channelId: ch.body.id } },
        /must differ from the rule's channelId/,
      ],
      [{ name: 'r', channelId: ch.body.id, sensorIds: ['bad id!'] }, /sensorIds\[0\] \('bad id!'\)/],
      [
        { name: 'r', channelId: ch.body.id, events: ['alert.escalated'] },
        /events \('alert.escalated'\) must be one of/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await post<{ message: string }>('/api/notifications/rules', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message).toMatch(message);
    }
    const patched = await h.call<NotificationRule>(`/api/notifications/rules/${rule.body.id}`, {
      method: 'PATCH',
      body: { severities: ['critical'], escalation: null },
    });
    expect(patched.body).toMatchObject({ severities: ['critical'], escalation: null, labels: { line: 'A' } });
    await h.call(`/api/notifications/channels/${ch.body.id}`, { method: 'DELETE' });
    expect((await h.call(`/api/notifications/rules/${rule.body.id}`)).status).toBe(404);
  });

  it('operators read deliveries but not channels or rules; sensors nothing', async () => {
    const a = await h.alert('pump-1');
    const channel = (await h.store.notifications.channels())[0];
    await h.store.notifications.enqueue({
      alertId: a.id,
      channel,
      ruleId: null,
      event: 'alert.opened',
      payload: '{}',
    });
    const page = await h.call<Page<NotificationDelivery>>(`/api/notifications/deliveries?alertId=${a.id}`, {
      token: h.operator,
    });
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({
      total: 1,
      items: [{ alertId: a.id, channelName: channel.name, state: 'pending' }],
    });
    expect(page.body.items[0]).not.toHaveProperty('payload');
    for (const path of ['/api/notifications/channels', '/api/notifications/rules'])
      expect((await h.call(path, { token: h.operator })).status).toBe(403);
    expect((await h.call('/api/notifications/deliveries', { token: h.sensor })).status).toBe(403);
    const bad = await h.call<{ message: string }>('/api/notifications/deliveries?state=lost');
    expect(bad.status).toBe(400);
  });
});
