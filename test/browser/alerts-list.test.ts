/**
 * The alert list and the phone layout in real Chromium against the real server. Three sensors of two sites
 * each make two silence alerts (no model needed); some carry notes. At 1440x900 an operator searches the
 * notes, filters by a label group, sorts by a column, opens an alert by clicking its row (and by Enter on a
 * focused row) and walks the same list with `j` / `k`. At 390x844 the header collapses, the list becomes
 * cards, and neither the overview, the list, an alert nor a sensor page scrolls sideways.
 *
 * The steps share pages and run in order: a failing step fails the ones after it.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alert, Page as AlertPage } from '@hark/protocol';
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

const haveChromium = chromiumOrWarn('test/browser/alerts-list.test.ts');

const SENSORS = [
  { id: 'kiln-1', name: 'Kiln fan 1', labels: { site: 'plant-a', line: '1' } },
  { id: 'kiln-2', name: 'Kiln fan 2', labels: { site: 'plant-a', line: '2' } },
  { id: 'mill-9', name: 'Mill 9', labels: { site: 'plant-b', line: '1' } },
];

/** What the functions run in the page read (this project compiles without the DOM library). */
interface DocLike {
  documentElement: { scrollWidth: number; clientWidth: number };
}

/** Page width beyond the viewport, px (0: no horizontal scroll). */
const overflowX = (page: Page) =>
  page.evaluate(() => {
    const d = (globalThis as unknown as { document: DocLike }).document.documentElement;
    return d.scrollWidth - d.clientWidth;
  });

describe.runIf(haveChromium)('alert list and phone layout in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let operator: string;
  const ids = async (q: string) =>
    (await s.api<AlertPage<Alert>>(`/api/alerts?${q}`, { token: operator })).items.map((a) => a.id);
  const rowIds = async (p: Page) =>
    (await p
      .getByTestId('alert-row')
      .evaluateAll((rows) =>
        rows.map((r) => Number((r as unknown as { dataset: { alertId: string } }).dataset.alertId)),
      )) as number[];
  const alertIdOf = (p: Page) => Number(/#\/alerts\/(\d+)/.exec(p.url())?.[1]);

  beforeAll(async () => {
    const dashboardDir = ensureDashboard();
    s = await startServer({ dashboardDir, silenceSeconds: 1, clipPreSeconds: 0.5, clipPostSeconds: 0.5 });
    operator = await s.token('operator', 'ops-lena');
    const makers = await Promise.all(
      SENSORS.map((x) => TestSensor.open(s.url, s.admin, x.id, { name: x.name, labels: x.labels })),
    );
    await Promise.all(
      makers.map(async (m) => {
        await m.silenceAlert();
        await m.silenceAlert();
        m.close();
      }),
    );
    let all: Alert[] = [];
    for (const until = Date.now() + 30_000; Date.now() < until;) {
      all = (await s.api<AlertPage<Alert>>('/api/alerts?limit=50')).items;
      if (all.length >= 6 && all.every((a) => !a.active)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(all.length).toBeGreaterThanOrEqual(6);
    const of = (sensorId: string) => all.filter((a) => a.sensorId === sensorId).map((a) => a.id);
    const note = (id: number, label: string, text: string) =>
      s.api(`/api/alerts/${id}/annotations`, { method: 'POST', body: JSON.stringify({ label, text }) });
    await note(of('kiln-1')[0], 'true fault', 'Bearing B-12 worn, replaced');
    await note(of('kiln-2')[0], 'maintenance', 'greased the bearing of the fan');
    await note(of('mill-9')[0], 'false alarm', 'forklift passing');
    browser = await launchChromium();
    ({ page, errors } = await openPage(browser));
    await page.goto(`${s.url}/?token=${operator}#/alerts`);
    await page.getByTestId('alert-row').first().waitFor();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  test('searches the notes and filters by a label group, on the server', async () => {
    await page.getByTestId('filter-q').fill('bearing');
    await page.getByTestId('filter-apply').click();
    await page.waitForURL(/q=bearing/);
    await expect.poll(() => rowIds(page)).toEqual(await ids('q=bearing'));
    expect((await rowIds(page)).length).toBe(2);

    await page.getByTestId('filter-group').selectOption('line:2');
    await page.getByTestId('filter-apply').click();
    await page.waitForURL(/group=line%3A2/);
    await expect.poll(() => rowIds(page)).toEqual(await ids('q=bearing&group=line:2'));
    expect((await rowIds(page)).length).toBe(1);

    await page.getByTestId('filter-q').fill('');
    await page.getByTestId('filter-group').selectOption('site:plant-a');
    await page.getByTestId('filter-apply').click();
    await expect.poll(() => rowIds(page)).toEqual(await ids('group=site:plant-a'));
    expect((await rowIds(page)).length).toBe(4);
    expect(errors).toEqual([]);
  });

  test('sorts by a column header (again: the other way), with aria-sort', async () => {
    await page.getByTestId('sort-sensor').click();
    await page.waitForURL(/sort=sensor/);
    const header = page.locator('th', { has: page.getByTestId('sort-sensor') });
    // The URL changes before the header re-renders: poll, as for the rows.
    await expect.poll(() => header.getAttribute('aria-sort')).toBe('ascending');
    await expect.poll(() => rowIds(page)).toEqual(await ids('group=site:plant-a&sort=sensor&order=asc'));
    await page.getByTestId('sort-sensor').click();
    await page.waitForURL(/order=desc/);
    await expect.poll(() => header.getAttribute('aria-sort')).toBe('descending');
    const list = await ids('group=site:plant-a&sort=sensor&order=desc');
    await expect.poll(() => rowIds(page)).toEqual(list);
    // The names say so too: Kiln fan 2's alerts first.
    expect(await page.getByTestId('alert-row').first().innerText()).toContain('Kiln fan 2');
    await screenshot(page, 'alerts-list-sorted');
  });

  test('a click anywhere on a row opens its alert; j / k walk the same list; ? lists the keys', async () => {
    const list = await ids('group=site:plant-a&sort=sensor&order=desc');
    // On the row's Kind cell, not its link.
    await page.getByTestId('alert-row').nth(1).locator('td[data-label="Kind"]').click();
    await page.waitForURL(new RegExp(`#/alerts/${list[1]}\\?`));
    expect(page.url()).toContain('group=site');
    await expect.poll(async () => page.getByTestId('alert-position').innerText()).toBe('2 of 4');
    await page.keyboard.press('j');
    await expect.poll(() => alertIdOf(page)).toBe(list[2]);
    await expect.poll(async () => page.getByTestId('alert-position').innerText()).toBe('3 of 4');
    await page.keyboard.press('k');
    await expect.poll(async () => page.getByTestId('alert-position').innerText()).toBe('2 of 4');
    await page.keyboard.press('k');
    await expect.poll(() => alertIdOf(page)).toBe(list[0]);
    await expect
      .poll(async () => page.getByTestId('alert-previous').getAttribute('aria-disabled'))
      .toBe('true');
    await page.keyboard.press('k'); // the first: nothing before it
    await page.waitForTimeout(300);
    expect(alertIdOf(page)).toBe(list[0]);

    await page.keyboard.press('?');
    const help = page.getByTestId('shortcut-help');
    await help.waitFor();
    expect(await help.innerText()).toMatch(/j\s+next alert/);
    await page.getByTestId('shortcut-help-close').click();

    // Back to the list, still filtered and sorted; Enter on a focused row opens it.
    await page.getByTestId('alert-back').click();
    await page.waitForURL(/#\/alerts\?.*sort=sensor/);
    await page.getByTestId('alert-row').first().waitFor();
    await page.getByTestId('alert-row').nth(3).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => alertIdOf(page)).toBe(list[3]);
    await expect.poll(async () => page.getByTestId('alert-next').getAttribute('aria-disabled')).toBe('true');
    expect(errors).toEqual([]);
  });

  test('at 390 px: the header collapses, the list is cards, and no page scrolls sideways', async () => {
    const phone = await (
      await browser.newContext({
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 1,
        hasTouch: true,
      })
    ).newPage();
    const phoneErrors = pageErrors(phone);
    await phone.goto(`${s.url}/?token=${operator}#/`);
    await phone.getByTestId('sensor-tile').first().waitFor();

    // The header: brand, sections, connection and Menu; the rest behind Menu.
    const header = phone.locator('header.app-header');
    const headerHeight = (await header.boundingBox())!.height;
    expect(headerHeight, 'header height at 390x844').toBeLessThan(844 * 0.15);
    expect(await phone.getByTestId('sign-out').isVisible()).toBe(false);
    await phone.getByTestId('menu-toggle').click();
    expect(await phone.getByTestId('sign-out').isVisible()).toBe(true);
    expect(await phone.getByTestId('menu-toggle').getAttribute('aria-expanded')).toBe('true');
    await phone.getByTestId('menu-toggle').click();
    expect(await phone.getByTestId('sign-out').isVisible()).toBe(false);
    expect(await overflowX(phone), 'overview').toBeLessThanOrEqual(0);
    await screenshot(phone, 'phone-overview');

    await phone.goto(`${s.url}/#/alerts`);
    await phone.getByTestId('alert-row').first().waitFor();
    expect(await phone.locator('.alert-table thead').isVisible()).toBe(false);
    const card = (await phone.getByTestId('alert-row').first().boundingBox())!;
    expect(card.width).toBeLessThanOrEqual(390);
    expect(card.height, 'a card stacks its fields').toBeGreaterThan(80);
    expect(await overflowX(phone), 'alerts').toBeLessThanOrEqual(0);
    await screenshot(phone, 'phone-alerts');

    await phone.getByTestId('alert-row').first().locator('td[data-label="Start"]').click();
    await phone.waitForURL(/#\/alerts\/\d+/);
    await phone.getByTestId('alert-position').waitFor();
    await phone.waitForTimeout(500); // the spectrogram lays out
    expect(await overflowX(phone), 'alert page').toBeLessThanOrEqual(0);
    await screenshot(phone, 'phone-alert');

    await phone.goto(`${s.url}/#/sensors/kiln-1`);
    await phone.locator('main h1').first().waitFor();
    await phone.waitForTimeout(500);
    expect(await overflowX(phone), 'sensor page').toBeLessThanOrEqual(0);
    await screenshot(phone, 'phone-sensor');
    expect(phoneErrors).toEqual([]);
  });
});
