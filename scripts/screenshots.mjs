#!/usr/bin/env node
// The README's pictures of the dashboard, taken with Chromium (playwright-core and Debian's /usr/bin/chromium,
// as the browser tests) from a running demo (`make demo`, or `bash scripts/demo.sh`):
//
//   node scripts/screenshots.mjs URL OPERATOR_TOKEN [ADMIN_TOKEN]
//
// URL and the operator token are in the demo's "Dashboard:" line (`http://127.0.0.1:8080/?token=...`). With
// the admin token it prints, the pictures are taken signed in as the admin (the model page then shows its
// promote and discard buttons), and the script first enrols a second model version of the sensor from 30 s of
// its live sound (unless it has one already), so that the model page shows a version on trial in shadow.
//
// Writes 1440x900 PNGs to docs/screenshots/ (HARK_SCREENSHOTS_DIR to change): overview.png, sensor-view.png
// (the live view, taken while an anomaly is on screen), alert.png (the newest anomaly alert with its clip),
// model-versions.png and wall.png. HARK_CHROMIUM names another Chromium; HARK_SCREENSHOT_SENSOR another sensor
// than pump-1.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const { fetch } = globalThis;

const [base, operator, admin] = process.argv.slice(2);
if (!base || !operator) {
  console.error('usage: node scripts/screenshots.mjs URL OPERATOR_TOKEN [ADMIN_TOKEN]');
  console.error(
    '  (URL and OPERATOR_TOKEN: the "Dashboard:" line of make demo, http://HOST:PORT/?token=TOKEN)',
  );
  process.exit(2);
}
const url = base.replace(/\/?(\?.*)?$/, '');
const repo = fileURLToPath(new globalThis.URL('..', import.meta.url));
const out = process.env.HARK_SCREENSHOTS_DIR ?? join(repo, 'docs/screenshots');
const sensor = process.env.HARK_SCREENSHOT_SENSOR ?? 'pump-1';
const VIEWPORT = { width: 1440, height: 900 };
/** How long the live view may wait for an anomaly to be on screen (the demo has one per machine per minute). */
const LIVE_WAIT_MS = 90_000;
/** How long the model page may wait for the enrolled version to be fitted and on trial. */
const SHADOW_WAIT_MS = 300_000;

async function api(token, path, init = {}) {
  const res = await fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok)
    throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${body.message ?? res.statusText}`);
  return body;
}
const log = (text) => console.log(`screenshots: ${text}`);

await api(operator, `/api/sensors/${encodeURIComponent(sensor)}`).catch((e) => {
  console.error(
    `screenshots: ${e.message}: is the demo running at ${url}, and is '${sensor}' one of its sensors?`,
  );
  process.exit(1);
});
const versions = admin ? await api(admin, `/api/sensors/${encodeURIComponent(sensor)}/models`) : [];
if (admin && versions.length < 2) {
  // 30 s: the enrolment's recommended minimum is more, so the version also shows its 'short' warning.
  await api(admin, `/api/sensors/${encodeURIComponent(sensor)}/enroll`, {
    method: 'POST',
    body: JSON.stringify({ seconds: 30 }),
  });
  log(`enrolling a second version of ${sensor} from 30 s of its sound (it goes on trial in shadow)`);
}

mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.HARK_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--mute-audio', '--no-first-run'],
});
try {
  const page = await (await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 })).newPage();
  const shot = async (name) => {
    // Toasts cover what the picture is for.
    for (const close of await page.locator('[data-testid="toast"] button.close').all())
      await close.click({ timeout: 1000 }).catch(() => {});
    await page.mouse.move(0, 0);
    const path = join(out, `${name}.png`);
    await page.screenshot({ path });
    log(`wrote ${path}`);
  };
  const go = (hash) => page.goto(`${url}/${hash}`);

  await page.goto(`${url}/?token=${admin ?? operator}#/`);
  await page.getByTestId('sensor-tile').first().waitFor();
  await sleep(3000); // scores and sparklines arrive
  await shot('overview');

  // The live view while an anomaly is in the last seconds of its spectrogram.
  await go(`#/sensors/${encodeURIComponent(sensor)}`);
  await page.getByTestId('spectrogram-chart').waitFor();
  for (const until = Date.now() + LIVE_WAIT_MS; Date.now() < until; await sleep(1000)) {
    const status = await api(operator, `/api/sensors/${encodeURIComponent(sensor)}`);
    if (status.activeAlertId !== null) break;
  }
  await sleep(4000); // the anomaly moves in from the right edge
  await shot('sensor-view');

  // The newest anomaly alert with its clip, while it is not active: an active one (a repeat folded in) shows
  // its clip only once it closes again.
  let alert;
  for (const until = Date.now() + LIVE_WAIT_MS; !alert && Date.now() < until; await sleep(1000)) {
    const q = `sensorId=${encodeURIComponent(sensor)}&kind=anomaly&sort=start`;
    alert = (await api(operator, `/api/alerts?${q}`)).items.find((a) => a.clip.available && !a.active);
  }
  if (alert) {
    await go(`#/alerts/${alert.id}`);
    await page.getByTestId('alert-spectrogram').waitFor();
    await sleep(1500);
    await shot('alert');
  } else log(`no closed anomaly alert of ${sensor} with a clip: alert.png not taken`);

  await go(`#/models/${encodeURIComponent(sensor)}`);
  await page.getByTestId('model-versions').waitFor();
  if (admin) {
    const shadow = page.locator('[data-testid="model-version"][data-role="shadow"]');
    for (const until = Date.now() + SHADOW_WAIT_MS; Date.now() < until && !(await shadow.count());)
      await sleep(2000);
    if (await shadow.count())
      await sleep(20_000); // its trial gathers some windows
    else log('the enrolled version is not on trial yet: model-versions.png shows the versions as they are');
  }
  await shot('model-versions');

  await go('#/wall');
  await page.getByTestId('wall-tile').first().waitFor();
  await sleep(2000);
  await shot('wall');
} finally {
  await browser.close();
}
