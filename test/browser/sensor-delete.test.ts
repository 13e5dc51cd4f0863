/**
 * The sensor page's delete button (M2, issue 18) in real Chromium against the real server: an operator does not
 * see it; an admin does, is asked with the sensor named, can cancel, and on confirming the sensor is deleted on
 * the server (404, gone from the list) and from the overview, while a streaming test sensor is disconnected.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SensorStatus } from '@hark/protocol';
import { chromiumOrWarn, ensureDashboard, launchChromium, pageErrors } from '../support/browser.js';
import { TestSensor } from '../support/sensor.js';
import { startServer, type TestServer } from '../support/server.js';

const haveChromium = chromiumOrWarn('test/browser/sensor-delete.test.ts');

describe.runIf(haveChromium)('deleting a sensor from its page', () => {
  let s: TestServer;
  let browser: Browser;
  let errors: string[] = [];
  let sensor: TestSensor;

  beforeAll(async () => {
    const dashboardDir = ensureDashboard();
    s = await startServer({ dashboardDir });
    sensor = await TestSensor.open(s.url, s.admin, 'press-7', { name: 'Press 7' });
    await sensor.stream(0.5, 0.2);
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    sensor?.close();
    await browser?.close();
    await s?.close();
  });

  async function open(token: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    errors = pageErrors(page);
    await page.goto(`${s.url}/?token=${token}`);
    await page.goto(`${s.url}/#/sensors/press-7`);
    await page.locator('#sensor-title', { hasText: 'Press 7' }).waitFor();
    return page;
  }

  test('an operator does not see the button', async () => {
    const page = await open(await s.token('operator'));
    await page.locator('[aria-label="Recent alerts of this sensor"]').waitFor();
    expect(await page.getByTestId('sensor-delete').count()).toBe(0);
    await page.context().close();
  });

  test('an admin is asked, naming the sensor; cancel keeps it, confirm deletes it', async () => {
    const page = await open(s.admin);
    await page.getByTestId('sensor-delete').click();
    const ask = page.getByRole('alertdialog');
    await expect(ask.textContent()).resolves.toContain('Delete sensor “Press 7” (press-7)?');
    await page.getByTestId('sensor-delete-cancel').click();
    expect((await s.api<SensorStatus>('/api/sensors/press-7')).id).toBe('press-7');

    const closed = new Promise((r) => sensor.socket.once('disconnect', r));
    await page.getByTestId('sensor-delete').click();
    await page.getByTestId('sensor-delete-confirm').click();
    await closed;
    // Back on the overview, without the sensor's tile.
    await page.waitForURL(/#\/$/);
    const tile = page.locator('[data-testid="sensor-tile"][data-sensor-id="press-7"]');
    await tile.waitFor({ state: 'detached' });
    expect(await tile.count()).toBe(0);
    const res = await fetch(`${s.url}/api/sensors/press-7`, {
      headers: { authorization: `Bearer ${s.admin}` },
    });
    expect(res.status).toBe(404);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
