/**
 * The history view in real Chromium against the real server: a day of a sensor's columns goes through the
 * server's own history recorder (as the live path hands them over), with three alerts and their scores; an
 * operator picks "24 h", sees the alerts marked, drags over one to zoom into it (refetched at a finer tier),
 * opens it from its mark, then pans a 7-day range and the frame rate is printed. Screens are saved under
 * `test-results/screenshots/`.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alert } from '@hark/protocol';
import {
  chromiumOrWarn,
  ensureDashboard,
  launchChromium,
  openPage,
  publishScreenshot,
  screenshot,
} from '../support/browser.js';
import { startServer, type TestServer } from '../support/server.js';

const haveChromium = chromiumOrWarn('test/browser/history.test.ts');
const SENSOR = 'press-3';
const M = 32;
const HOP_S = 0.5;
const H = 3600_000;

interface PageGlobals {
  __harkFps?: number;
  location: { hash: string };
}
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}

/** Fraction of a canvas' pixels that are painted and not near black. */
function litFraction(page: Page, testId: string): Promise<number> {
  return page.getByTestId(testId).evaluate((el) => {
    const c = el as unknown as CanvasLike;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] + d[i + 1] + d[i + 2] > 30) lit++;
    return lit / (d.length / 4);
  });
}

describe.runIf(haveChromium)('history view in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  let errors: string[] = [];
  let operator: string;
  const alerts: Alert[] = [];
  const now = Date.now();

  beforeAll(async () => {
    s = await startServer({ dashboardDir: ensureDashboard() });
    const { store, history } = s.server;
    await store.sensors.upsert(SENSOR, now - 25 * H, { name: 'Press 3' });
    const peaks = [now - 20 * H, now - 9 * H, now - 3 * H];
    // A day of columns, 120 per event: a slow daily swell, bright and anomalous for 10 s at each peak.
    const n = (24 * H) / (HOP_S * 1000);
    const t0 = now - 24 * H;
    for (let i = 0; i < n; i += 120) {
      const spectrogram = new Uint8Array(120 * M);
      const anomaly = new Uint8Array(120 * M);
      for (let c = 0; c < 120; c++) {
        const t = t0 + (i + c) * HOP_S * 1000;
        const hot = peaks.some((p) => Math.abs(t - p) < 5000);
        for (let j = 0; j < M; j++) {
          spectrogram[c * M + j] = hot ? 240 : 60 + ((j * 3 + Math.floor((i + c) / 600)) % 80);
          anomaly[c * M + j] = hot ? 230 : 10;
        }
      }
      history.columns({
        sensorId: SENSOR,
        t0: t0 + i * HOP_S * 1000,
        hopSeconds: HOP_S,
        nMels: M,
        nColumns: 120,
        spectrogram,
        anomaly,
        dbRange: [-100, 40],
        anomalyScale: 2,
        scored: true,
      });
      if (i % 7200 === 0) await history.flush();
    }
    await history.flush();
    for (let t = t0; t < now; t += 2000) {
      const hot = peaks.some((p) => Math.abs(t - p) < 5000);
      await store.scores.append(SENSOR, t, hot ? 2.5 : 0.3 + 0.1 * Math.sin(t / H));
    }
    await store.scores.flush();
    for (const p of peaks) {
      const a = await store.alerts.open({
        sensorId: SENSOR,
        kind: 'anomaly',
        start: p - 5000,
        peakScore: 2.5,
        peakAt: p,
        threshold: 1,
      });
      alerts.push(await store.alerts.update(a.id, { active: false, end: p + 5000 }));
    }
    operator = await s.token('operator', 'ops-history');
    browser = await launchChromium();
    ({ page, errors } = await openPage(browser));
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  test('pick "24 h": the day is drawn with its three alerts marked', async () => {
    await page.goto(s.url);
    await page.getByTestId('token-input').fill(operator);
    await page.getByTestId('sign-in-button').click();
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
    await page.goto(`${s.url}/#/sensors/${SENSOR}`);
    await page.getByTestId('history-link').click();
    await page.getByTestId('history-chart').waitFor();
    await expect
      .poll(() => page.getByTestId('history-zone').innerText())
      .toMatch(/^Times in .+ \(UTC[+-]\d\d:\d\d\)$/);

    await page.getByTestId('history-range-24h').click();
    const status = page.getByTestId('history-status');
    // A day over about 1300 columns: each column is wider than 30 s, so the coarse tier answers.
    await expect.poll(() => status.getAttribute('data-tier'), { timeout: 20_000 }).toBe('coarse');
    await expect.poll(() => page.getByTestId('history-alert-mark').count()).toBe(3);
    await expect.poll(() => litFraction(page, 'history-spectrogram-canvas')).toBeGreaterThan(0.9);
    publishScreenshot(await screenshot(page, 'history-24h'), 'history');
  });

  test('zoom into one alert (drag over it): refetched at a finer tier, then open it from its mark', async () => {
    const target = alerts[1];
    const overlay = page.getByTestId('history-overlay');
    const box = (await overlay.boundingBox())!;
    const frac = (target.peakAt - (now - 24 * H)) / (24 * H);
    const x = box.x + frac * box.width;
    const y = box.y + box.height / 2;
    // About 10 minutes either side of the alert.
    const half = box.width * (10 / (24 * 60));
    await page.mouse.move(x - half, y);
    await page.mouse.down();
    await page.mouse.move(x, y, { steps: 4 });
    await page.mouse.move(x + half, y, { steps: 4 });
    await page.mouse.up();
    const status = page.getByTestId('history-status');
    await expect.poll(() => status.getAttribute('data-tier'), { timeout: 20_000 }).toBe('reduced');
    await expect.poll(() => status.getAttribute('data-loading')).toBe('false');
    await expect.poll(() => status.innerText()).toMatch(/min shown/);
    const marks = page.getByTestId('history-alert-mark');
    await expect.poll(() => marks.count()).toBe(1);
    await expect(marks.first().getAttribute('data-alert-id')).resolves.toBe(String(target.id));
    // The alert's 10 s are lit in the anomaly map around the mark.
    expect(await litFraction(page, 'history-anomaly-canvas')).toBeGreaterThan(0);
    await screenshot(page, 'history-zoomed-alert');

    await marks.first().click();
    await expect
      .poll(() => page.evaluate(() => (globalThis as unknown as PageGlobals).location.hash))
      .toBe(`#/alerts/${target.id}`);
    await expect.poll(() => page.locator('#alert-title').innerText()).toBe(`Alert #${target.id}`);
  });

  test('pan a 7-day range (frame rate printed, not asserted)', async () => {
    await page.goto(`${s.url}/#/sensors/${SENSOR}/history?range=7d`);
    const status = page.getByTestId('history-status');
    await expect.poll(() => status.getAttribute('data-tier'), { timeout: 20_000 }).toBe('coarse');
    const box = (await page.getByTestId('history-overlay').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.keyboard.down('Shift');
    const start = Date.now();
    const samples: number[] = [];
    while (Date.now() - start < 3000) {
      await page.mouse.wheel(0, -40);
      if (Date.now() - start > 1200)
        samples.push((await page.evaluate(() => (globalThis as unknown as PageGlobals).__harkFps)) ?? 0);
    }
    await page.keyboard.up('Shift');
    const fps = samples.length ? Math.min(...samples) : 0;
    console.log(`history view: panning a 7-day range in Chromium: ${fps} fps (lowest one-second count)`);
    await screenshot(page, 'history-7d');
    expect(errors).toEqual([]);
  });

  test('the trend on the sensor page and the 24 h sparkline on the overview tile render', async () => {
    await page.goto(`${s.url}/#/sensors/${SENSOR}`);
    const trends = page.getByTestId('sensor-trends');
    // The stored day spans two UTC days at most: both have percentiles.
    await expect.poll(() => trends.getAttribute('data-days'), { timeout: 20_000 }).toMatch(/^[12]$/);
    await expect.poll(() => trends.locator('canvas').count()).toBeGreaterThan(0);
    await screenshot(page, 'history-sensor-trends');
    await page.goto(`${s.url}/#/`);
    const spark = page.locator(
      `[data-testid="sensor-tile"][data-sensor-id="${SENSOR}"] [data-testid="day-sparkline"]`,
    );
    await expect.poll(() => spark.getAttribute('data-points'), { timeout: 20_000 }).toBe('240');
    await screenshot(page, 'history-overview-day-sparklines');
    expect(errors).toEqual([]);
  });
});
