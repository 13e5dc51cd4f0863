/**
 * End to end: notifications configured over REST reach real servers on loopback. An admin creates an MQTT
 * channel (Debian's mosquitto, started here), an e-mail channel (an SMTP sink, `smtp-server`) and a rule for a
 * label group that escalates to e-mail; a real sensor stream goes silent and opens an alert; the alert is
 * published at mosquitto (read by an mqtt.js subscriber), nobody acknowledges it, and the escalation e-mail
 * reaches the sink. Every delivery is listed for the alert; secrets are never answered.
 *
 * Skipped, with a message, when mosquitto is not installed.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type {
  Alert,
  ChannelTestResult,
  HelloAck,
  NotificationChannel,
  NotificationDelivery,
  NotificationRule,
  Page,
  SensorAck,
} from '@hark/protocol';
import { mosquittoOrWarn, startMosquitto, type Broker } from '../support/mosquitto.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { sleep, startServer, type TestServer } from '../support/server.js';

const haveBroker = mosquittoOrWarn('test/server/notifications.test.ts');
const SMTP_PASSWORD = 'smtp-pw-never-shown';

/** Polls `read` until it returns a value (not undefined) or `ms` pass. */
async function until<T>(
  what: string,
  read: () => T | undefined | Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe.runIf(haveBroker)('notifications to real servers', () => {
  let s: TestServer;
  let broker: Broker;
  let sink: SmtpSink;
  let sub: MqttClient;
  let sensor: Socket | null = null;
  const messages: { topic: string; body: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    sink = await startSmtpSink({ hark: SMTP_PASSWORD });
    s = await startServer({ silenceSeconds: 1 });
    sub = await connectAsync(broker.url, { reconnectPeriod: 0 });
    sub.on('message', (topic, payload) =>
      messages.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }),
    );
    await sub.subscribeAsync('hark/#', { qos: 1 });
  });

  afterAll(async () => {
    sensor?.close();
    await sub?.endAsync();
    await s?.close();
    await sink?.stop();
    await broker?.stop();
  });

  test('an MQTT rule publishes the alert; unacknowledged, it escalates by e-mail', async () => {
    const post = <T>(path: string, body: unknown) =>
      s.api<T>(path, { method: 'POST', body: JSON.stringify(body) });
    const mqtt = await post<NotificationChannel>('/api/notifications/channels', {
      name: 'plant MQTT',
      kind: 'mqtt',
      config: { url: broker.url, topic: 'hark/{severity}/{sensorId}', qos: 1 },
    });
    expect(mqtt).toMatchObject({ kind: 'mqtt', hasSecret: false, config: { qos: 1, retain: false } });
    const mail = await post<NotificationChannel>('/api/notifications/channels', {
      name: 'maintenance mail',
      kind: 'email',
      config: {
        host: sink.host,
        port: sink.port,
        security: 'none',
        user: 'hark',
        password: SMTP_PASSWORD,
        from: 'hark@plant.example',
        to: ['maintenance@plant.example'],
      },
    });
    expect(mail).toMatchObject({ hasSecret: true, secretFields: ['password'], config: { user: 'hark' } });
    expect(JSON.stringify(mail)).not.toContain(SMTP_PASSWORD);
    expect(JSON.stringify(await s.api('/api/notifications/channels'))).not.toContain(SMTP_PASSWORD);

    // A test message goes through the stored password.
    const tested = await post<ChannelTestResult>(`/api/notifications/channels/${mail.id}/test`, {});
    expect(tested).toMatchObject({ ok: true, error: null, delivery: { event: 'test', state: 'delivered' } });
    expect(sink.mails).toHaveLength(1);
    expect(sink.mails[0]).toMatchObject({ user: 'hark', to: ['maintenance@plant.example'] });

    const rule = await post<NotificationRule>('/api/notifications/rules', {
      name: 'plant 1 to MQTT',
      channelId: mqtt.id,
      labels: { site: 'plant-1' },
      escalation: { afterMinutes: 0.05, channelId: mail.id }, // 3 s
    });
    expect(rule).toMatchObject({ severities: ['warning', 'critical'], events: ['alert.opened'] });

    // A sensor of the label group goes silent: a silence alert opens (silenceSeconds 1).
    const token = (await s.server.tokens.create('sensor', 'press-mic')).token;
    sensor = io(`${s.url}/sensor`, {
      auth: { token, sensorId: 'press-4' },
      transports: ['websocket'],
      reconnection: false,
    });
    const c = sensor;
    await new Promise<void>((r) => c.once('connect', () => r()));
    const hello = (await c.timeout(5000).emitWithAck('hello', {
      sampleRate: 16000,
      channels: 1,
      format: 's16le',
      name: 'Press 4',
      labels: { site: 'plant-1', line: 'B' },
    })) as HelloAck;
    expect(hello).toMatchObject({ ok: true });
    let seq = 0;
    const alerts = () => s.api<Page<Alert>>('/api/alerts?sensorId=press-4');
    const alert = await until('the silence alert', async () => {
      for (let i = 0; i < 5; i++) {
        const ack = (await c
          .timeout(5000)
          .emitWithAck('audio', { seq: seq++, data: Buffer.alloc(3200) })) as SensorAck;
        expect(ack).toMatchObject({ ok: true });
        await sleep(20);
      }
      return (await alerts()).items[0];
    });
    expect(alert).toMatchObject({ kind: 'silence', state: 'open' });

    const published = await until('the MQTT message', () =>
      messages.find((m) => m.body.event === 'alert.opened'),
    );
    expect(published.topic).toBe('hark/warning/press-4');
    expect(published.body).toMatchObject({
      severity: 'warning',
      sensorName: 'Press 4',
      alert: { id: alert.id, sensorId: 'press-4', kind: 'silence' },
    });

    // Nobody acknowledges: 3 s later the escalation e-mail arrives.
    const escalated = await until('the escalation e-mail', () =>
      sink.mails.find((m) => /escalated/.test(m.raw)),
    );
    expect(escalated.raw).toMatch(/Subject: \[hark\] warning silence alert #\d+ on Press 4 \(press-4\): NOT/);
    expect(escalated.raw).toContain(`X-Hark-Event: alert.escalated`);

    // Both deliveries are recorded for the alert, and an operator may read them.
    const operator = await s.token('operator', 'olga');
    const page = await until('both deliveries delivered', async () => {
      const p = await s.api<Page<NotificationDelivery>>(`/api/notifications/deliveries?alertId=${alert.id}`, {
        token: operator,
      });
      return p.items.length === 2 && p.items.every((d) => d.state === 'delivered') ? p : undefined;
    });
    expect(page.items.map((d) => [d.channelName, d.event])).toEqual([
      ['maintenance mail', 'alert.escalated'],
      ['plant MQTT', 'alert.opened'],
    ]);
    // Attempts are counted by kind and outcome (the channel test is recorded but not counted: it is no alert).
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toContain('hark_notification_deliveries_total{kind="mqtt",outcome="delivered"} 1');
    expect(metrics).toContain('hark_notification_deliveries_total{kind="email",outcome="delivered"} 1');
    // Channels are admin-only (they hold addresses and secrets).
    await expect(s.api('/api/notifications/channels', { token: operator })).rejects.toMatchObject({
      status: 403,
    });
  }, 90_000);
});
