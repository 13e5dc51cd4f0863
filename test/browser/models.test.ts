/**
 * Safe models in real Chromium against the real server: a sensor's model from an older data directory is
 * version 1; an upload runs in shadow beside it while the real `hark sensor` streams, and the model page
 * shows the versions with the trial's would-be alerts. An admin promotes the shadow and rolls back in the UI
 * (each after a confirmation), then the same over REST with the page following live. The screen is saved as
 * `test-results/screenshots/models-versions.png` (the README's picture is taken from the demo by
 * `scripts/screenshots.mjs`).
 *
 * The steps share one page and run in order: a failing step fails the ones after it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { trainingNeeds } from '@hark/detection';
import { writeSynthDataset } from '@hark/dsp';
import type { ModelStatus, ModelVersion } from '@hark/protocol';
import { chromiumOrWarn, ensureDashboard, launchChromium, openPage, screenshot } from '../support/browser.js';
import { placeSynthPumpModel } from '../support/models.js';
import { runSensor, sleep, startServer, tempDir, type TestServer } from '../support/server.js';

const haveChromium = chromiumOrWarn('test/browser/models.test.ts');
const SENSOR = 'press-2';

describe.runIf(haveChromium)('model versions in Chromium: shadow, promote, roll back', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  let errors: string[] = [];
  let root: string;

  const versions = () => s.api<ModelVersion[]>(`/api/sensors/${SENSOR}/models`);
  const model = () => s.api<ModelStatus>(`/api/sensors/${SENSOR}/model`);
  const card = (v: number) => page.locator(`[data-testid="model-version"][data-version="${v}"]`);

  async function uploadShadow(version: number): Promise<void> {
    const form = new FormData();
    const train = join(root, 'synth_pump', 'train');
    for (const f of readdirSync(train).sort())
      form.append('files', new Blob([readFileSync(join(train, f))], { type: 'audio/wav' }), f);
    const res = await fetch(`${s.url}/api/sensors/${SENSOR}/model`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.admin}` },
      body: form,
    });
    expect(res.status).toBe(202);
    for (const end = Date.now() + 600_000; ;) {
      const m = await model();
      if (m.shadowVersion === version && m.state === 'ready') return;
      if (m.state === 'failed' || Date.now() > end)
        throw new Error(`no shadow ${version}: ${JSON.stringify(m)}`);
      await sleep(250);
    }
  }

  beforeAll(async () => {
    const dashboardDir = ensureDashboard();
    root = tempDir('synth-models-browser');
    writeSynthDataset(root, {
      machines: ['pump'],
      trainClips: 12,
      testClips: 0,
      clipSeconds: 5,
      streamSeconds: 30,
    });
    const dataDir = tempDir('models-browser-data');
    await placeSynthPumpModel(dataDir, SENSOR);
    s = await startServer({ dashboardDir, dataDir });
    await uploadShadow(2);
    // The trial sees the live stream (it holds anomalies: would-be alerts to show).
    const sensorToken = await s.token('sensor', 'press-2-box');
    const r = await runSensor(
      [
        '--server',
        s.url,
        '--id',
        SENSOR,
        '--token',
        sensorToken,
        '--wav',
        join(root, 'synth_pump', 'stream.wav'),
        '--speed',
        '1',
      ],
      { timeoutMs: 180_000 },
    ).done;
    expect(r.code, r.out).toBe(0);
    await s.server.sensors.scheduler.idle();
    browser = await launchChromium();
    ({ page, errors } = await openPage(browser));
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  test('the model page lists the versions with the shadow trial beside the active one', async () => {
    await page.goto(`${s.url}/#/models/${SENSOR}`);
    await page.getByTestId('token-input').fill(s.admin);
    await page.getByTestId('sign-in-button').click();
    await card(2).waitFor();
    await expect(card(2).getAttribute('data-role')).resolves.toBe('shadow');
    await expect(card(1).getAttribute('data-role')).resolves.toBe('active');
    const trial = card(2).getByTestId('version-trial');
    await expect(trial.getAttribute('data-outcome')).resolves.toBe('running');
    const [v2] = await versions();
    expect(v2.trial!.shadowAlertCount, JSON.stringify(v2.trial)).toBeGreaterThan(0);
    await expect
      .poll(() => trial.getByTestId('trial-shadow-alerts').innerText())
      .toBe(String(v2.trial!.shadowAlertCount));
    await expect(card(2).getByTestId('version-warnings').innerText()).resolves.toMatch(/recommended/);
    await expect(page.getByTestId('replace-text').innerText()).resolves.toMatch(/shadow beside version 1/);
    // The enrolment form's 60 s is under the calibration's recommendation: it says so, and why.
    await expect(page.getByTestId('enrol-short').innerText()).resolves.toMatch(
      new RegExp(`recommended ${trainingNeeds().recommendedSeconds} s.*false alarms`, 's'),
    );
    await card(2).locator('details summary').click();
    await expect
      .poll(() => card(2).getByTestId('would-be-alerts').locator('li').count())
      .toBe(v2.trial!.wouldBeAlerts.length);
    await screenshot(page, 'models-versions');
  });

  test('an admin promotes the shadow in the UI after confirming, then rolls back to version 1', async () => {
    await card(2).getByTestId('activate-2').click();
    // Nothing happens before the confirmation.
    expect((await model()).version).toBe(1);
    await card(2).getByTestId('activate-2-confirm').click();
    await page.locator('[data-testid="model-version"][data-version="2"][data-role="active"]').waitFor();
    const [v2] = await versions();
    expect(v2).toMatchObject({ active: true, shadow: false });
    expect(v2.trial).toMatchObject({ outcome: 'promoted' });
    await expect(card(2).getByTestId('version-trial').getAttribute('data-outcome')).resolves.toBe('promoted');
    expect(await model()).toMatchObject({ version: 2, shadowVersion: null });

    await card(1).getByTestId('activate-1').click();
    await card(1).getByTestId('activate-1-confirm').click();
    await page.locator('[data-testid="model-version"][data-version="1"][data-role="active"]').waitFor();
    expect(await model()).toMatchObject({ version: 1 });
    await expect(card(2).getAttribute('data-role')).resolves.toBe('kept');
  });

  test('over REST a new shadow is promoted and rolled back; the page follows live', async () => {
    await uploadShadow(3);
    await page.locator('[data-testid="model-version"][data-version="3"][data-role="shadow"]').waitFor();
    await s.api(`/api/sensors/${SENSOR}/models/3/activate`, { method: 'POST' });
    await page.locator('[data-testid="model-version"][data-version="3"][data-role="active"]').waitFor();
    await s.api(`/api/sensors/${SENSOR}/models/1/activate`, { method: 'POST' });
    await page.locator('[data-testid="model-version"][data-version="1"][data-role="active"]').waitFor();
    await expect(card(3).getAttribute('data-role')).resolves.toBe('kept');
    expect((await versions()).map((v) => [v.version, v.active])).toEqual([
      [3, false],
      [2, false],
      [1, true],
    ]);
    expect(errors).toEqual([]);
  }, 900_000);

  test('replacing the model at once asks first; cancelling uploads nothing', async () => {
    await page.getByTestId('activate-now').check();
    await expect(page.getByTestId('replace-text').innerText()).resolves.toMatch(/at once, without a trial/);
    const train = join(root, 'synth_pump', 'train');
    await page.getByTestId('upload-files').setInputFiles(
      readdirSync(train)
        .sort()
        .map((f) => join(train, f)),
    );
    await page.getByTestId('upload-button').click();
    await page.getByTestId('upload-button-cancel').click();
    await sleep(500);
    expect(await versions()).toHaveLength(3);
    expect(await model()).toMatchObject({ state: 'ready', version: 1 });
  });

  test('feedback taught to the model is listed on the model page and undone there', async () => {
    const alerts = await s.api<{ items: { id: number }[] }>(
      `/api/alerts?sensorId=${SENSOR}&kind=anomaly&limit=10`,
    );
    const id = alerts.items[0].id;
    await s.api(`/api/alerts/${id}/false-alarm`, { method: 'POST', body: JSON.stringify({ teach: true }) });
    await page.reload();
    const item = page.locator('[data-testid="feedback-item"]');
    await item.first().waitFor();
    const fid = await item.first().getAttribute('data-feedback-id');
    await page.getByTestId(`undo-feedback-${fid}`).click();
    await page.getByTestId(`undo-feedback-${fid}-confirm`).click();
    await expect.poll(() => item.first().innerText()).toMatch(/undone by/);
    const [fb] = await s.api<{ id: number; revertedAt: number | null }[]>(`/api/sensors/${SENSOR}/feedback`);
    expect(fb.revertedAt).not.toBeNull();
    expect(errors).toEqual([]);
  });
});
