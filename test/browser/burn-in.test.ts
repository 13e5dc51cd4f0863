/**
 * The live burn-in on the model page, in real Chromium against the real server (`--burn-in-windows 100`): an
 * uploaded version shows "collecting n of 100"; once the real `hark sensor` has streamed its first windows (any
 * alert they raised labelled a false alarm over REST, so nothing waits) the page shows the applied factor, and
 * an admin reverts it in the UI after a confirmation, then burns the version in again. The screen is saved as
 * `test-results/screenshots/models-burn-in.png`.
 *
 * The steps share one page and run in order: a failing step fails the ones after it.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeSynthDataset } from '@hark/dsp';
import type { Alert, ModelBurnIn, Page as AlertPage } from '@hark/protocol';
import { chromiumOrWarn, ensureDashboard, launchChromium, openPage, screenshot } from '../support/browser.js';
import { fitFromFolder, runSensor, startServer, tempDir, until, type TestServer } from '../support/server.js';

const haveChromium = chromiumOrWarn('test/browser/burn-in.test.ts');
const SENSOR = 'kiln-3';

describe.runIf(haveChromium)('live burn-in on the model page in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  let errors: string[] = [];
  let root: string;

  const burnIn = () => s.api<ModelBurnIn>(`/api/sensors/${SENSOR}/models/1/burn-in`);
  const panel = () =>
    page.locator('[data-testid="model-version"][data-version="1"] [data-testid="version-burn-in"]');

  beforeAll(async () => {
    const dashboardDir = ensureDashboard();
    root = tempDir('synth-burn-in-browser');
    // 60 s of normal pump (the first anomaly would come at 100 s: none).
    writeSynthDataset(root, {
      machines: ['pump'],
      trainClips: 12,
      testClips: 0,
      clipSeconds: 5,
      streamSeconds: 60,
      firstAnomalySeconds: 100,
    });
    s = await startServer({ dashboardDir, burnInWindows: 100, queuePerSensor: 100_000 });
    await fitFromFolder(s, SENSOR, join(root, 'synth_pump', 'train'));
    browser = await launchChromium();
    ({ page, errors } = await openPage(browser));
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  test('an uploaded version collects its first live windows, then shows the applied factor', async () => {
    // Started as the server loads the new version (just after the fit reports it ready).
    await until('the burn-in is recorded', () =>
      burnIn().then(
        () => true,
        () => false,
      ),
    );
    await page.goto(`${s.url}/#/models/${SENSOR}`);
    await page.getByTestId('token-input').fill(s.admin);
    await page.getByTestId('sign-in-button').click();
    await panel().waitFor();
    await expect(panel().getAttribute('data-state')).resolves.toBe('collecting');
    await expect(panel().getByTestId('burn-in-text').innerText()).resolves.toMatch(
      /collecting 0 of 100 live windows/,
    );
    const sensorToken = await s.token('sensor', 'kiln-3-box');
    const r = await runSensor([
      '--server',
      s.url,
      '--id',
      SENSOR,
      '--token',
      sensorToken,
      '--wav',
      join(root, 'synth_pump', 'stream.wav'),
      '--speed',
      '4',
    ]).done;
    expect(r.code, r.out).toBe(0);
    await s.server.sensors.scheduler.idle();
    // Normal sound may still raise an alert at the fitted threshold: an operator calls it a false alarm.
    const alerts = (await s.api<AlertPage<Alert>>(`/api/alerts?sensorId=${SENSOR}&limit=100`)).items;
    for (const a of alerts)
      await s.api(`/api/alerts/${a.id}/annotations`, {
        method: 'POST',
        body: JSON.stringify({ label: 'false alarm', text: 'normal' }),
      });
    await until('the burn-in is applied', async () => (await burnIn()).state === 'applied', 60_000);
    const applied = await burnIn();
    // The page follows (it polls while a burn-in collects).
    await page.locator('[data-testid="version-burn-in"][data-state="applied"]').waitFor({ timeout: 30_000 });
    await expect(panel().getByTestId('burn-in-text').innerText()).resolves.toContain(
      `threshold ×${applied.factor!.toFixed(2)} the fitted one, fitted on ${applied.windows} live windows`,
    );
    // The models table shows the threshold in use: the fitted one times the factor, and says so.
    const cell = page.getByTestId('model-threshold').first();
    await until(
      'the models table to show the applied factor',
      async () => (await cell.innerText()).includes(`(burn-in x${applied.factor!.toFixed(3)})`),
      30_000,
    );
    await expect(cell.getAttribute('title')).resolves.toMatch(
      /^the fitted threshold \S+ times the live burn-in's factor/,
    );
    await screenshot(page, 'models-burn-in');
  });

  test('an admin reverts it after confirming, then burns the version in again', async () => {
    await panel().getByTestId('burn-in-revert-1').click();
    expect((await burnIn()).state).toBe('applied'); // nothing before the confirmation
    await panel().getByTestId('burn-in-revert-1-confirm').click();
    await page.locator('[data-testid="version-burn-in"][data-state="reverted"]').waitFor();
    expect(await burnIn()).toMatchObject({ state: 'reverted', revertedBy: 'first admin' });
    await expect(panel().getByTestId('burn-in-text').innerText()).resolves.toMatch(/reverted by first admin/);
    await panel().getByTestId('burn-in-restart-1').click();
    await panel().getByTestId('burn-in-restart-1-confirm').click();
    await page.locator('[data-testid="version-burn-in"][data-state="collecting"]').waitFor();
    expect(await burnIn()).toMatchObject({ state: 'collecting', windows: 0, startedBy: 'first admin' });
    expect(errors).toEqual([]);
  });
});
