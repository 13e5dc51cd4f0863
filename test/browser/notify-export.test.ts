/**
 * Notifications and exports in real Chromium: an admin creates an MQTT channel (Debian's mosquitto, started
 * here), changes its topic, and creates a rule for a label group on the settings page; a real sensor stream goes silent and opens an
 * alert; the alert arrives at mosquitto (an mqtt.js subscriber reads it) and the alert page lists the
 * delivery. Then the sound returns, the alert closes with its clip, and the alert list's CSV (with a filter)
 * and the alert's bundle are downloaded: the bundle holds a valid WAV.
 *
 * The steps share one page and run in order. Skipped, with a message, without Chromium or mosquitto.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { connectAsync, type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeWav } from '@hark/dsp';
import type { Alert, HelloAck, Page as AlertPage } from '@hark/protocol';
import {
  chromiumOrWarn,
  ensureDashboard,
  launchChromium,
  openPage,
  publishScreenshot,
  screenshot,
} from '../support/browser.js';
import { mosquittoOrWarn, startMosquitto, type Broker } from '../support/mosquitto.js';
import { sleep, startServer, type TestServer } from '../support/server.js';

const ready =
  chromiumOrWarn('test/browser/notifications.test.ts') &&
  mosquittoOrWarn('test/browser/notifications.test.ts');

describe.runIf(ready)('notifications and exports in Chromium', () => {
  let s: TestServer;
  let broker: Broker;
  let browser: Browser;
  let page: Page;
  let errors: string[] = [];
  let sub: MqttClient;
  let sensor: Socket | null = null;
  let seq = 0;
  let alert: Alert | undefined;
  const messages: { topic: string; body: { event: string; alert: Alert } }[] = [];

  beforeAll(async () => {
    const dashboardDir = ensureDashboard();
    broker = await startMosquitto();
    s = await startServer({ dashboardDir, silenceSeconds: 1, clipPostSeconds: 0.5 });
    sub = await connectAsync(broker.url, { reconnectPeriod: 0 });
    sub.on('message', (topic, payload) =>
      messages.push({ topic, body: JSON.parse(payload.toString()) as (typeof messages)[number]['body'] }),
    );
    await sub.subscribeAsync('plant/#', { qos: 1 });
    browser = await launchChromium();
    ({ page, errors } = await openPage(browser));
  }, 600_000);

  afterAll(async () => {
    sensor?.close();
    await sub?.endAsync();
    await browser?.close();
    await s?.close();
    await broker?.stop();
  });

  test('an admin creates an MQTT channel and a rule; a silent sensor alerts through it', async () => {
    await page.goto(`${s.url}/?token=${s.admin}#/settings/notifications`);
    await page.getByTestId('channel-form').waitFor();
    await page.getByTestId('channel-name').fill('plant broker');
    await page.getByTestId('channel-kind').selectOption('mqtt');
    await page.getByTestId('channel-url').fill(broker.url);
    await page.getByTestId('channel-topic').fill('plant/typo');
    await page.getByTestId('channel-create').click();
    const row = page.locator('[data-testid="channel-row"]', { hasText: 'plant broker' });
    await row.waitFor();
    // Changed in place: the form comes back filled with the channel's settings.
    await row.getByTestId('channel-edit').click();
    await expect.poll(() => page.getByTestId('channel-url').inputValue()).toBe(broker.url);
    await page.getByTestId('channel-topic').fill('plant/{severity}/{sensorId}');
    await page.getByTestId('channel-create').click();
    await expect.poll(() => row.innerText()).toContain('plant/{severity}/{sensorId}');
    await page.getByTestId('channel-name').waitFor();
    expect(await page.getByTestId('channel-name').inputValue()).toBe('');
    expect(await row.innerText()).toContain(`${broker.url} topic plant/{severity}/{sensorId}`);

    await page.getByTestId('rule-name').fill('plant 1 line B');
    await page.getByTestId('rule-channel').selectOption({ label: 'plant broker (mqtt)' });
    await page.getByTestId('rule-labels').fill('site=plant-1, line=B');
    await page.getByTestId('rule-create').click();
    const rule = page.locator('[data-testid="rule-row"]', { hasText: 'plant 1 line B' });
    await rule.waitFor();
    expect(await rule.innerText()).toMatch(
      /site=plant-1, line=B\s+warning, critical\s+opened\s+plant broker/,
    );
    publishScreenshot(await screenshot(page, 'notifications-settings'), 'notifications');

    // The channel test reaches the broker too.
    await row.getByTestId('channel-test').click();
    await expect.poll(() => messages.some((m) => m.body.event === 'test')).toBe(true);

    // A sensor of that label group goes silent.
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
      labels: { site: 'plant-1', line: 'B' },
    })) as HelloAck;
    expect(hello).toMatchObject({ ok: true });
    for (let i = 0; i < 300 && !alert; i++) {
      await c.timeout(5000).emitWithAck('audio', { seq: seq++, data: Buffer.alloc(3200) });
      await sleep(20);
      if (i % 5 === 4) alert = (await s.api<AlertPage<Alert>>('/api/alerts?sensorId=press-4')).items[0];
    }
    expect(alert).toMatchObject({ kind: 'silence' });

    await expect
      .poll(() => messages.find((m) => m.body.event === 'alert.opened')?.topic, { timeout: 30_000 })
      .toBe('plant/warning/press-4');

    await page.goto(`${s.url}/#/alerts/${alert!.id}`);
    const delivery = page.locator('[data-testid="delivery"][data-state="delivered"]');
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'refresh' }).click();
          return delivery.count();
        },
        { timeout: 30_000 },
      )
      .toBe(1);
    expect(await delivery.innerText()).toContain('alert.opened to plant broker (mqtt)');
    await screenshot(page, 'notifications-alert-deliveries');
    expect(errors).toEqual([]);
  }, 180_000);

  test('the alert closes; the CSV of the filtered list and the alert bundle download, with a valid WAV', async () => {
    const c = sensor!;
    // Sound returns: the silence alert closes and its clip is kept.
    let closed: Alert | undefined;
    for (let i = 0; i < 400 && !closed?.clip.available; i++) {
      const x = new Int16Array(1600).map(() => Math.round((Math.random() * 2 - 1) * 3000));
      await c.timeout(5000).emitWithAck('audio', { seq: seq++, data: Buffer.from(x.buffer) });
      await sleep(20);
      if (i % 5 === 4) closed = await s.api<Alert>(`/api/alerts/${alert!.id}`);
    }
    expect(closed).toMatchObject({ active: false, clip: { available: true } });

    const dir = mkdtempSync(join(tmpdir(), 'hark-downloads-'));
    try {
      await page.goto(`${s.url}/#/alerts?sensorId=press-4`);
      await page.locator(`[data-testid="alert-row"][data-alert-id="${alert!.id}"]`).waitFor();
      const [csv] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('export-csv').click(),
      ]);
      expect(csv.suggestedFilename()).toMatch(/^hark-alerts-.*\.csv$/);
      const rows = readFileSync((await csv.path())!, 'utf8')
        .trim()
        .split('\r\n');
      expect(rows).toHaveLength(2); // the header and the one alert of press-4
      expect(rows[1]).toMatch(
        new RegExp(`^${alert!.id},press-4,press-4,site=plant-1; line=B,silence,warning,open,false,`),
      );

      await page.goto(`${s.url}/#/alerts/${alert!.id}`);
      const [bundle] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('alert-bundle').click(),
      ]);
      expect(bundle.suggestedFilename()).toBe(`hark-alert-${alert!.id}.zip`);
      const zipPath = join(dir, 'bundle.zip');
      await bundle.saveAs(zipPath);
      execFileSync('unzip', ['-q', zipPath, '-d', join(dir, 'out')]);
      const wav = decodeWav(new Uint8Array(readFileSync(join(dir, 'out', 'clip.wav'))), 'clip.wav');
      expect(wav.sampleRate).toBe(16000);
      expect(wav.samples.length).toBeGreaterThan(16000); // over a second of audio around the alert
      const json = JSON.parse(readFileSync(join(dir, 'out', 'alert.json'), 'utf8')) as {
        alert: Alert;
        deliveries: { channelName: string; state: string }[];
      };
      expect(json.alert.id).toBe(alert!.id);
      expect(json.deliveries).toContainEqual(
        expect.objectContaining({ channelName: 'plant broker', state: 'delivered' }),
      );

      // The shift report of the list's period opens as a printable page with the alert and its picture.
      await page.goto(`${s.url}/#/alerts?sensorId=press-4`);
      // Fetched with the token's header (tokens never go in URLs) and shown in a new tab.
      const [tab] = await Promise.all([page.waitForEvent('popup'), page.getByTestId('shift-report').click()]);
      const machine = tab.locator('section.machine[data-sensor-id="press-4"]');
      await machine.waitFor();
      expect(tab.url()).toMatch(/^blob:/);
      expect(await machine.locator(`article[data-alert-id="${alert!.id}"] img`).count()).toBe(1);
      publishScreenshot(await screenshot(tab, 'shift-report'), 'shift-report');
      await tab.close();
      expect(errors).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
