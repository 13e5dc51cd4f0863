/**
 * Asset groups in real Chromium against the real server: sensors stored with site / line / machine labels and
 * one that carries its labels in its hello are grouped site > line > machine on the overview, each group with
 * the roll-up of its sensors (worst state, count per state), foldable; an admin renames and re-labels a
 * sensor on its page and the overview regroups it; an operator sees no edit controls. Screens are saved under
 * `test-results/screenshots/`.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  chromiumOrWarn,
  ensureDashboard,
  launchChromium,
  openPage,
  pageErrors,
  screenshot,
} from '../support/browser.js';
import { TestSensor } from '../support/sensor.js';
import { startServer, type TestServer } from '../support/server.js';

const haveChromium = chromiumOrWarn('test/browser/assets.test.ts');

describe.runIf(haveChromium)('asset groups in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  let errors: string[] = [];
  let hall: TestSensor | null = null;

  const group = (key: string) => page.locator(`[data-testid="asset-group"][data-key="${key}"]`);
  const tile = (id: string) => page.locator(`[data-testid="sensor-tile"][data-sensor-id="${id}"]`);
  /** The site groups' names, in their order on the page. */
  const sites = () =>
    page
      .locator('[data-testid="asset-group"][data-level="site"] > .asset-head [data-testid="asset-name"]')
      .allInnerTexts();

  beforeAll(async () => {
    // No audio is sent: the connected sensor must not count as stalled while the test runs.
    s = await startServer({ dashboardDir: ensureDashboard(), dataTimeoutSeconds: 3600 });
    const now = Date.now();
    const { store } = s.server;
    await store.sensors.upsert('press-1', now, {
      name: 'Press 1',
      labels: { site: 'plant-1', line: 'A', machine: 'press' },
    });
    await store.sensors.upsert('press-2', now, {
      name: 'Press 2',
      labels: { site: 'plant-1', line: 'A', machine: 'press' },
    });
    await store.sensors.upsert('fan-1', now, { name: 'Fan 1', labels: { site: 'plant-1', line: 'B' } });
    await store.sensors.upsert('loose-1', now, { name: 'Loose 1', labels: { room: 'cellar' } });
    // Its labels come with its hello, as a sensor in the field sends them.
    const token = (await s.server.tokens.create('sensor', 'hall', ['hall-1'])).token;
    hall = await TestSensor.open(s.url, token, 'hall-1', { name: 'Hall 1', labels: { site: 'plant-2' } });
    browser = await launchChromium();
    ({ page, errors } = await openPage(browser));
  }, 300_000);

  afterAll(async () => {
    hall?.close();
    await browser?.close();
    await s?.close();
  });

  test('groups site > line > machine from the labels, each with its roll-up, and folds', async () => {
    await page.goto(`${s.url}/?token=${encodeURIComponent(s.admin)}`);
    await tile('hall-1').waitFor();
    expect(await sites()).toEqual(['plant-1', 'plant-2', 'unassigned']);
    // Roll-ups: every plant-1 sensor is stored, not connected; hall-1 is connected without a model.
    await expect(group('site=plant-1').getAttribute('data-worst')).resolves.toBe('disconnected');
    await expect(group('site=plant-1').getAttribute('data-total')).resolves.toBe('3');
    await expect
      .poll(() => group('site=plant-2').getAttribute('data-worst'), { timeout: 10_000 })
      .toBe('no-model');
    const counts = group('site=plant-1').locator(':scope > .asset-head [data-testid="asset-count"]');
    expect(
      await counts.evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-state'), e.getAttribute('data-count')]),
      ),
    ).toEqual([['disconnected', '3']]);
    // Nested: plant-1 > A > press holds both presses; B holds the fan directly.
    const press = group('site=plant-1/line=A/machine=press');
    expect(
      await press
        .locator('[data-testid="sensor-tile"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-sensor-id'))),
    ).toEqual(['press-1', 'press-2']);
    await expect(
      group('site=plant-1/line=B')
        .locator(':scope > .asset-body > .tiles [data-testid="sensor-tile"]')
        .count(),
    ).resolves.toBe(1);
    await expect(
      group('site=').locator('[data-testid="sensor-tile"]').getAttribute('data-sensor-id'),
    ).resolves.toBe('loose-1');
    await screenshot(page, 'assets-1-groups');

    // Fold plant-1: its tiles hide, its roll-up stays; unfold.
    const toggle = group('site=plant-1').locator(':scope > .asset-head [data-testid="asset-toggle"]');
    await toggle.click();
    await expect(toggle.getAttribute('aria-expanded')).resolves.toBe('false');
    await expect.poll(() => tile('press-1').isVisible()).toBe(false);
    expect(
      await group('site=plant-1').locator(':scope > .asset-head [data-testid="state-badge"]').isVisible(),
    ).toBe(true);
    await screenshot(page, 'assets-2-folded');
    await toggle.click();
    await expect.poll(() => tile('press-1').isVisible()).toBe(true);
    expect(errors, errors.join('\n')).toEqual([]);
  }, 120_000);

  test('an admin renames and re-labels a sensor and the overview regroups it', async () => {
    await tile('loose-1').click();
    const form = page.getByTestId('sensor-settings');
    await form.waitFor();
    await expect(page.getByTestId('sensor-label-other').inputValue()).resolves.toBe('room=cellar');
    await page.getByTestId('sensor-name-input').fill('Compressor 4');
    await page.getByTestId('sensor-label-site').fill('plant-2');
    await page.getByTestId('sensor-label-line').fill('C');
    await page.getByTestId('sensor-label-machine').fill('compressor');
    await screenshot(page, 'assets-3-settings');
    await page.getByTestId('sensor-settings-save').click();
    await expect.poll(() => page.locator('#sensor-title').innerText()).toBe('Compressor 4');
    const stored = await s.server.store.sensors.get('loose-1');
    expect(stored).toMatchObject({
      name: 'Compressor 4',
      labels: { site: 'plant-2', line: 'C', machine: 'compressor', room: 'cellar' },
    });

    await page.goto(`${s.url}/#/`);
    const moved = group('site=plant-2/line=C/machine=compressor').locator(
      '[data-testid="sensor-tile"][data-sensor-id="loose-1"]',
    );
    await moved.waitFor();
    await expect(moved.innerText()).resolves.toContain('Compressor 4');
    // The unassigned group is gone; plant-2 now rolls up the disconnected compressor.
    expect(await sites()).toEqual(['plant-1', 'plant-2']);
    await expect(group('site=plant-2').getAttribute('data-worst')).resolves.toBe('disconnected');
    await expect(group('site=plant-2').getAttribute('data-total')).resolves.toBe('2');
    await screenshot(page, 'assets-4-regrouped');
    expect(errors, errors.join('\n')).toEqual([]);
  }, 120_000);

  test('an operator sees the groups but no edit controls', async () => {
    const operator = await s.token('operator', 'olga');
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const p = await context.newPage();
    const perrors = pageErrors(p);
    await p.goto(`${s.url}/?token=${encodeURIComponent(operator)}#/sensors/press-1`);
    await p.locator('#sensor-title').waitFor();
    await p.getByTestId('history-link').waitFor();
    expect(await p.getByTestId('sensor-settings').count()).toBe(0);
    expect(await p.getByTestId('sensor-name-input').count()).toBe(0);
    await p.goto(`${s.url}/#/`);
    await p.locator('[data-testid="asset-group"][data-key="site=plant-1"]').waitFor();
    expect(await p.getByTestId('sensor-settings').count()).toBe(0);
    expect(perrors, perrors.join('\n')).toEqual([]);
    await context.close();
  }, 120_000);
});
