/**
 * The dashboard in real Chromium against the real server and the real `hark sensor` command. A synthetic
 * pump's model is fitted from uploaded normal clips; its 60 s recording (anomalies at 12, 24, 36 and 48 s)
 * streams at real time while an operator signs in, sees the overview, opens the sensor, watches the
 * spectrogram columns arrive (frames per second measured), sees an alert during the first known anomaly,
 * plays its clip, acknowledges and annotates it, reloads and finds it so. Every screen is saved under
 * `test-results/screenshots/`.
 *
 * The steps share one page and run in order: a failing step fails the ones after it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeSynthDataset, type GroundTruthEvent } from '@hark/dsp';
import type { Alert, Page as AlertPage, SensorStatus } from '@hark/protocol';
import {
  chromiumOrWarn,
  ensureDashboard,
  launchChromium,
  cspViolations,
  pageErrors,
  screenshot,
} from '../support/browser.js';
import { fitFromFolder, runSensor, startServer, tempDir, type TestServer } from '../support/server.js';
import { SYNTH_STREAM_FIT_CONFIG } from '../support/models.js';

const haveChromium = chromiumOrWarn('test/browser/dashboard.test.ts');
const SENSOR = 'pump-7';
const NAME = 'Cooling pump 7';
/** The sensor streams at real time, so the browser sees live columns as an operator would. */
const SPEED = 1;

/**
 * What the functions run in the page read. This project compiles without the DOM library, so the page's
 * globals are typed here; the casts vanish at run time.
 */
interface PageGlobals {
  __harkFps?: number;
  __harkFpsStats?: { frames: number; seconds: number; mean: number; min: number; worstFrameMs: number };
  __harkColumns?: number;
  sessionStorage: { getItem(key: string): string | null };
}
interface MediaLike {
  currentTime: number;
  duration: number;
  paused: boolean;
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

/** Closes the notifications so they do not cover what a screenshot is for. */
async function dismissToasts(page: Page): Promise<void> {
  const close = page.locator('[data-testid="toast"] button.close');
  // A toast may expire between the count and the click: a short timeout, then count again.
  while ((await close.count()) > 0)
    await close
      .first()
      .click({ timeout: 1000 })
      .catch(() => {});
}

describe.runIf(haveChromium)('dashboard in Chromium, live from hark sensor', () => {
  let s: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[] = [];
  let csp: string[] = [];
  let operator: string;
  let sensorToken: string;
  let dir: string;
  let events: GroundTruthEvent[];
  let sensor: ReturnType<typeof runSensor> | null = null;
  let alertId = 0;

  beforeAll(async () => {
    const dashboardDir = ensureDashboard();
    const root = tempDir('synth-browser');
    writeSynthDataset(root, {
      machines: ['pump'],
      trainClips: 12,
      testClips: 0,
      clipSeconds: 5,
      streamSeconds: 60,
    });
    dir = join(root, 'synth_pump');
    events = (JSON.parse(readFileSync(join(dir, 'stream.json'), 'utf8')) as { events: GroundTruthEvent[] })
      .events;
    s = await startServer({ dashboardDir, fitConfig: SYNTH_STREAM_FIT_CONFIG });
    await fitFromFolder(s, SENSOR, join(dir, 'train'));
    operator = await s.token('operator', 'ops-anna');
    sensorToken = await s.token('sensor', 'pump-7-box');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
    page = await context.newPage();
    errors = pageErrors(page);
    csp = cspViolations(page);
  }, 600_000);

  afterAll(async () => {
    sensor?.child.kill('SIGINT');
    await sensor?.done;
    await browser?.close();
    await s?.close();
  });

  test('a bad token shows an error and a sensor token is refused', async () => {
    await page.goto(s.url);
    const input = page.getByTestId('token-input');
    await input.waitFor();
    await screenshot(page, '1-sign-in');

    await input.fill('not-a-token');
    await page.getByTestId('sign-in-button').click();
    await expect
      .poll(() => page.getByTestId('sign-in-error').innerText())
      .toMatch(/does not know this token/);
    await expect(page.getByTestId('token-input').getAttribute('aria-invalid')).resolves.toBe('true');
    await screenshot(page, '1-sign-in-bad-token');

    await input.fill(sensorToken);
    await page.getByTestId('sign-in-button').click();
    await expect.poll(() => page.getByTestId('sign-in-error').innerText()).toMatch(/sensor token/);
    expect(await page.getByTestId('sign-in-form').isVisible()).toBe(true);
    expect(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('hark.token')),
    ).toBeNull();
    // The refused tokens' 401 / the sensor's `me` are expected in the console; nothing after this is.
    errors.length = 0;
  });

  test('an operator signs in and sees the sensor tile go live', async () => {
    await page.getByTestId('token-input').fill(operator);
    await page.getByTestId('sign-in-button').click();
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
    const tile = page.locator(`[data-testid="sensor-tile"][data-sensor-id="${SENSOR}"]`);
    await tile.waitFor();
    // Fitted but not streaming yet.
    await expect(tile.getAttribute('data-state')).resolves.toBe('disconnected');

    sensor = runSensor(
      [
        ['--server', s.url],
        ['--id', SENSOR],
        ['--token', sensorToken],
        ['--wav', join(dir, 'stream.wav')],
        ['--speed', String(SPEED)],
        ['--name', NAME],
        ['--label', 'site=plant-1'],
        ['--label', 'line=A'],
      ].flat(),
      { timeoutMs: 240_000 },
    );
    await page
      .locator(`[data-testid="sensor-tile"][data-sensor-id="${SENSOR}"][data-state="ok"]`)
      .waitFor({ timeout: 20_000 });
    await expect.poll(() => tile.locator('.name').innerText()).toBe(NAME);
    await expect.poll(() => tile.innerText(), { timeout: 10_000 }).toMatch(/score \d+\.\d\d/);
    await expect(tile.getByTestId('open-alerts').getAttribute('data-count')).resolves.toBe('0');
    // The sparkline filled with live scores.
    await page.waitForTimeout(1500);
    await screenshot(page, '2-overview');
  });

  test('the sensor view draws live spectrogram columns (frames per second measured)', async () => {
    await page.locator(`[data-testid="sensor-tile"][data-sensor-id="${SENSOR}"]`).click();
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/sensors/${SENSOR}`);
    await page.getByTestId('spectrogram-chart').waitFor();
    await page.waitForFunction(
      () => ((globalThis as unknown as PageGlobals).__harkColumns ?? 0) > 100,
      undefined,
      { timeout: 20_000 },
    );
    await page.getByTestId('spectrogram-waiting').waitFor({ state: 'detached' });

    // Sample frames and columns over a few seconds of live updates.
    const before = await page.evaluate(() => ({
      columns: (globalThis as unknown as PageGlobals).__harkColumns ?? 0,
      stats: { ...(globalThis as unknown as PageGlobals).__harkFpsStats! },
    }));
    await page.waitForFunction(
      (t) => ((globalThis as unknown as PageGlobals).__harkFpsStats?.seconds ?? 0) >= t,
      before.stats.seconds + 4,
      { timeout: 20_000, polling: 250 },
    );
    const after = await page.evaluate(() => ({
      columns: (globalThis as unknown as PageGlobals).__harkColumns ?? 0,
      stats: { ...(globalThis as unknown as PageGlobals).__harkFpsStats! },
      fps: (globalThis as unknown as PageGlobals).__harkFps ?? 0,
    }));
    const seconds = after.stats.seconds - before.stats.seconds;
    const frames = after.stats.frames - before.stats.frames;
    const columnsPerSecond = (after.columns - before.columns) / seconds;
    console.log(
      `sensor view: ${(frames / seconds).toFixed(1)} fps over ${seconds.toFixed(1)} s of live updates ` +
        `(last second ${after.fps}, worst frame ${after.stats.worstFrameMs.toFixed(0)} ms since the view ` +
        `opened), ${columnsPerSecond.toFixed(1)} columns/s received`,
    );
    expect(frames, 'frames rendered while columns arrived').toBeGreaterThan(0);
    // Real time: 16000 / 256 = 62.5 columns per second of sound.
    expect(columnsPerSecond).toBeGreaterThan(20);

    // The spectrogram canvas carries pixels (not only its background), and the axes are labelled.
    const painted = await litFraction(page, 'spectrogram-canvas');
    expect(painted, 'fraction of lit spectrogram pixels').toBeGreaterThan(0.05);
    await expect(page.getByTestId('fps').getAttribute('data-fps')).resolves.not.toBe('0');
    await screenshot(page, '3-sensor-view-before-alert');
  });

  test('an alert appears during the first known anomaly', async () => {
    const first = events[0];
    const toast = page.locator('[data-testid="toast"][data-kind="alert"]').first();
    await toast.waitFor({ timeout: 40_000 });
    expect(await toast.innerText()).toMatch(/New anomaly alert #\d+ on Cooling pump 7/);
    const link = page.getByTestId('sensor-alert-link').first();
    await link.waitFor();
    alertId = Number((await link.getAttribute('href'))!.split('/').pop());
    expect(alertId).toBeGreaterThan(0);

    const status = await s.api<SensorStatus>(`/api/sensors/${SENSOR}`);
    const a = await s.api<Alert>(`/api/alerts/${alertId}`);
    const startS = (a.start - status.streamStartedAt!) / 1000;
    console.log(
      `first alert #${alertId} at ${startS.toFixed(2)} s; known anomaly ${first.onset}-${first.offset} s`,
    );
    expect(startS).toBeGreaterThan(first.onset - 2.5);
    expect(startS).toBeLessThan(first.offset + 2.5);

    // The tile state in the view's header says so; the alert region is drawn while it is in the window.
    await page.locator('.view-head [data-testid="state-badge"][data-state="alert"]').waitFor();
    await page.waitForTimeout(2500);
    await screenshot(page, '3-sensor-view');
  });

  test('the alert page plays the clip with a moving cursor; ack and annotation survive a reload', async () => {
    await page.getByTestId('sensor-alert-link').first().click();
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/alerts/${alertId}`);
    // The clip is kept once the alert closes (+ 2 s post-roll); the page picks it up from the live update.
    const audio = page.getByTestId('alert-audio');
    await audio.waitFor({ timeout: 40_000 });
    await page.getByTestId('alert-spectrogram-canvas').waitFor();
    const media = <K extends keyof MediaLike>(key: K) =>
      audio.evaluate((el, k) => (el as unknown as MediaLike)[k], key) as Promise<MediaLike[K]>;
    await expect.poll(() => media('duration'), { timeout: 20_000 }).toBeGreaterThan(0);
    const duration = await media('duration');
    expect(duration).toBeGreaterThanOrEqual(4);
    expect(await page.getByTestId('alert-box').count()).toBeGreaterThan(0);

    // Play with the keyboard shortcut, as an operator would.
    await page.locator('#alert-title').click();
    await page.keyboard.press('p');
    await expect.poll(() => media('currentTime'), { timeout: 15_000 }).toBeGreaterThan(0.5);
    const cursor = page.getByTestId('audio-cursor').first();
    const t1 = Number(await cursor.getAttribute('data-t'));
    const x1 = (await cursor.boundingBox())!.x;
    await expect.poll(() => media('currentTime'), { timeout: 15_000 }).toBeGreaterThan(1.5);
    const t2 = Number(await cursor.getAttribute('data-t'));
    const x2 = (await cursor.boundingBox())!.x;
    expect(t2).toBeGreaterThan(t1);
    expect(x2).toBeGreaterThan(x1);
    await page.keyboard.press('p');
    await expect.poll(() => media('paused')).toBe(true);

    // Acknowledge and annotate.
    await page.getByTestId('ack-button').click();
    const badge = page.locator('.view-head [data-testid="alert-state-badge"]');
    await expect.poll(() => badge.getAttribute('data-state')).toBe('acknowledged');
    await page.getByTestId('annotation-label').selectOption('maintenance');
    await page.getByTestId('annotation-text').fill('Impeller rub, valve 3 checked by the browser test');
    await page.getByTestId('annotate-button').click();
    await expect
      .poll(() => page.getByTestId('annotation').allInnerTexts())
      .toEqual([expect.stringMatching(/^maintenance — Impeller rub, valve 3 checked by the browser test/)]);
    await dismissToasts(page);
    await screenshot(page, '5-alert');

    await page.reload();
    await page.locator('#alert-title').waitFor();
    await expect.poll(() => badge.getAttribute('data-state')).toBe('acknowledged');
    const notes = await page.getByTestId('annotation').allInnerTexts();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/maintenance — Impeller rub, valve 3 checked by the browser test \(ops-anna/);
    expect(await page.getByTestId('ack-button').isDisabled()).toBe(true);
    // The record of steps: this operator's acknowledgement, then a second one asked over REST, refused.
    await expect
      .poll(() => page.getByTestId('alert-action').allInnerTexts())
      .toEqual([expect.stringMatching(/^acknowledged by ops-anna/)]);
    const again = await fetch(`${s.url}/api/alerts/${alertId}/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(again.status).toBe(409);
    await page.reload();
    await expect
      .poll(() => page.locator('[data-testid="alert-action"][data-outcome="refused"]').allInnerTexts())
      .toEqual([
        expect.stringMatching(/^acknowledge asked, refused by ops-anna .*already acknowledged \(by ops-anna/),
      ]);
    await page.getByTestId('alert-spectrogram-canvas').waitFor();
    await page.waitForTimeout(500);
    await dismissToasts(page);
    await screenshot(page, '5-alert-after-reload');

    const rest = await s.api<Alert>(`/api/alerts/${alertId}`);
    expect(rest.state).toBe('acknowledged');
    expect(rest.acknowledgedBy).toBe('ops-anna');
    expect(rest.annotations.map((n) => [n.label, n.text, n.author])).toEqual([
      ['maintenance', 'Impeller rub, valve 3 checked by the browser test', 'ops-anna'],
    ]);
  });

  test("another operator's annotation appears on the open alert page without a reload", async () => {
    const other = await s.token('operator', 'ops-ben');
    await s.api(`/api/alerts/${alertId}/annotations`, {
      method: 'POST',
      token: other,
      body: JSON.stringify({ label: 'unknown', text: 'heard it from the control room too' }),
    });
    await expect
      .poll(() => page.getByTestId('annotation').allInnerTexts(), { timeout: 15_000 })
      .toEqual([
        expect.stringMatching(/^maintenance — Impeller rub/),
        expect.stringMatching(/^unknown — heard it from the control room too \(ops-ben/),
      ]);
  });

  test('the alert list shows the acknowledged alert with its label', async () => {
    await page.getByTestId('nav-alerts').click();
    const row = page.locator(`[data-testid="alert-row"][data-alert-id="${alertId}"]`);
    await row.waitFor();
    await expect(row.getAttribute('data-state')).resolves.toBe('acknowledged');
    expect(await row.innerText()).toMatch(/maintenance/);
    await screenshot(page, '4-alerts');

    // The filters: the sensor is offered by name; a state filter goes into the address and the list.
    expect(await page.getByTestId('filter-sensor').locator('option').allInnerTexts()).toEqual(['all', NAME]);
    await page.getByTestId('filter-state').selectOption('open');
    await page.getByTestId('filter-apply').click();
    await expect.poll(() => new URL(page.url()).hash).toMatch(/state=open/);
    await expect.poll(() => row.count()).toBe(0);
    await page.getByTestId('filter-state').selectOption('acknowledged');
    await page.getByTestId('filter-apply').click();
    await row.waitFor();
    const states = await page
      .getByTestId('alert-row')
      .evaluateAll((rows) =>
        rows.map((r) => (r as unknown as { dataset: { state?: string } }).dataset.state),
      );
    expect(new Set(states)).toEqual(new Set(['acknowledged']));
  });

  test('the overview shows the sensor alerting, to review or acknowledged, with its score history', async () => {
    await page.getByTestId('nav-overview').click();
    const tile = page.locator(`[data-testid="sensor-tile"][data-sensor-id="${SENSOR}"]`);
    await tile.waitFor();
    // alert: an anomaly holds now; review: a later alert cleared and waits for a person.
    expect(['alert', 'review', 'acknowledged']).toContain(await tile.getAttribute('data-state'));
    // The acknowledged alert is counted as such, not as open.
    await expect(tile.getByTestId('open-alerts').getAttribute('data-acknowledged')).resolves.toBe('1');
    expect(await tile.getByTestId('open-alerts').innerText()).toMatch(/1 acknowledged/);
    await page.waitForTimeout(1500);
    await dismissToasts(page);
    await screenshot(page, '2-overview-later');
  });

  test('back on the sensor view, the backfill fills the window and a later anomaly is marked', async () => {
    await page.locator(`[data-testid="sensor-tile"][data-sensor-id="${SENSOR}"]`).click();
    await page.waitForFunction(
      () => ((globalThis as unknown as PageGlobals).__harkColumns ?? 0) > 0,
      undefined,
      { timeout: 20_000 },
    );
    // The third known anomaly (36 s) opens an alert while the view is open.
    const third = events[2];
    const t0 = (await s.api<SensorStatus>(`/api/sensors/${SENSOR}`)).streamStartedAt!;
    const near = (a: Alert) => Math.abs((a.start - t0) / 1000 - third.onset) < 2.5;
    await expect
      .poll(
        async () =>
          (await s.api<AlertPage<Alert>>(`/api/alerts?sensorId=${SENSOR}&limit=50`)).items.some(near),
        {
          timeout: 40_000,
          interval: 500,
        },
      )
      .toBe(true);
    const alert = (await s.api<AlertPage<Alert>>(`/api/alerts?sensorId=${SENSOR}&limit=50`)).items.find(
      near,
    )!;
    await page.locator(`[data-testid="sensor-alert-link"][href="#/alerts/${alert.id}"]`).waitFor();
    await page.waitForTimeout(2500);
    const lit = await litFraction(page, 'spectrogram-canvas');
    console.log(`sensor view after a 30 s backfill: ${(lit * 100).toFixed(0)} % of the spectrogram painted`);
    expect(lit).toBeGreaterThan(0.8);
    await dismissToasts(page);
    await screenshot(page, '3-sensor-view-full');

    // The anomaly map as a second heatmap gets its own canvas, painted; back to the overlay removes it.
    await page.getByTestId('display-select').selectOption('split');
    await page.getByTestId('anomaly-canvas').waitFor();
    await expect.poll(() => litFraction(page, 'anomaly-canvas')).toBeGreaterThan(0.5);
    await page.getByTestId('display-select').selectOption('overlay');
    await page.getByTestId('anomaly-canvas').waitFor({ state: 'detached' });
  });

  test('the models page shows the fitted model', async () => {
    await page.getByTestId('nav-models').click();
    const row = page.getByTestId('model-row').first();
    await row.waitFor();
    await expect(row.getByTestId('model-state').getAttribute('data-state')).resolves.toBe('ready');
    await screenshot(page, '6-models');
    expect(errors, errors.join('\n')).toEqual([]);
    // Everything so far (sign-in, live tiles and charts, alerts with audio and pictures, models) ran under
    // the server's Content-Security-Policy without a violation.
    expect(csp, csp.join('\n')).toEqual([]);
  });

  test('the tab says where and what waits, ? lists the shortcuts, times name their zone, toasts keep off the live axis', async () => {
    await page.getByTestId('nav-alerts').click();
    const count = page.getByTestId('open-alert-count');
    const waiting = (await count.count()) ? Number(await count.innerText()) : 0;
    await expect.poll(() => page.title()).toBe(`${waiting ? `(${waiting}) ` : ''}Alerts · hark`);
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toBe('/favicon.svg');
    const icon = await page.request.get(`${s.url}/favicon.svg`);
    expect(icon.status()).toBe(200);
    expect(icon.headers()['content-type']).toMatch(/image\/svg\+xml/);

    await expect(page.getByTestId('time-zone').innerText()).resolves.toMatch(
      /^Times: (.+ \()?UTC[+-]\d\d:\d\d\)?$/,
    );

    const help = page.getByTestId('shortcut-help');
    expect(await help.isVisible()).toBe(false);
    await page.keyboard.press('?');
    await help.waitFor({ state: 'visible' });
    const listed = await help.innerText();
    for (const what of ['Keyboard shortcuts', 'search the sensors', 'acknowledge', 'play or pause the clip'])
      expect(listed).toContain(what);
    await screenshot(page, '7-shortcuts');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });

    // Toasts sit on the left: the newest seconds of the live spectrogram are on the right.
    const place = await page.getByTestId('toasts').evaluate((el) => {
      const css = (
        globalThis as unknown as { getComputedStyle(e: unknown): { left: string; right: string } }
      ).getComputedStyle(el);
      return { left: css.left, right: css.right };
    });
    expect(place.left).toBe('16px');
    expect(parseFloat(place.right)).toBeGreaterThan(1440 / 2);
    expect(errors, errors.join('\n')).toEqual([]);
  });

  test('a ?token= link signs in directly and leaves the address bar without it', async () => {
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const p = await other.newPage();
      await p.goto(`${s.url}/?token=${encodeURIComponent(operator)}#/alerts`);
      await p.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
      await p.locator(`[data-testid="alert-row"][data-alert-id="${alertId}"]`).waitFor();
      expect(p.url()).not.toContain('token=');
      expect(p.url()).toMatch(/#\/alerts$/);
      expect(await p.getByTestId('sign-in-form').count()).toBe(0);
    } finally {
      await other.close();
    }
  });
});
