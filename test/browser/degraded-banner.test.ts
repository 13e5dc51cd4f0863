/**
 * The degraded banner in real Chromium against the real server on real engines (issue 17's follow-up): the
 * dashboard says when the server is degraded, on every page, and stops saying it by itself.
 * - Redis (`--redis`, one instance `north` on SQLite) killed: the banner says the cluster link is down and that
 *   only this instance's sensors are shown (its own sensor's tile stays), on the overview, the alerts page and
 *   the wall screen; Redis started again on the same port: the banner goes, without a reload.
 * - PostgreSQL (`--database`) stopped at once (`pg_ctl stop -m immediate`): the banner says the database
 *   cannot be reached, alerts are held and the live view continues; snoozing the sensor answers 503 and the
 *   toast says it was not applied and to retry (and nothing was snoozed); PostgreSQL started again: the banner
 *   goes and the same click snoozes.
 * Each part is skipped, visibly, where Chromium, Redis or PostgreSQL is not installed.
 */
import { loadavg } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Health, SensorStatus } from '@hark/protocol';
import { chromiumOrWarn, ensureDashboard, launchChromium, openPage, screenshot } from '../support/browser.js';
import { postgresOrWarn, startPostgres, type Postgres } from '../support/postgres.js';
import { redisOrWarn, startRedis, type TestRedis } from '../support/redis.js';
import { TestSensor } from '../support/sensor.js';
import { startServer, until, type TestServer } from '../support/server.js';

const FILE = 'test/browser/degraded-banner.test.ts';
const haveChromium = chromiumOrWarn(FILE);
const haveRedis = haveChromium && redisOrWarn(`${FILE} (Redis down)`);
const havePostgres = haveChromium && postgresOrWarn(`${FILE} (PostgreSQL down)`);

/**
 * How long the banner may take to come or go: the dashboard asks every 10 s, the server notices a lost engine
 * within its 1 s retry rounds (PostgreSQL) or at once (Redis), and Redis's client reconnects with a backoff.
 * A bound for a loaded machine, not a measured figure.
 */
const BANNER_MS = 45_000;

/** Prints (never asserts) how long the banner took to come and go: a figure for the report, not a check. */
function report(engine: string, appeared: number, went: number): void {
  console.log(
    `degraded banner, ${engine}: shown ${(appeared / 1000).toFixed(1)} s after the stop, gone ` +
      `${(went / 1000).toFixed(1)} s after the restart (polled every 10 s; load ${loadavg()[0].toFixed(1)})`,
  );
}

async function health(s: TestServer): Promise<Health> {
  return (await fetch(`${s.url}/api/health`)).json() as Promise<Health>;
}

/** The banner's words, spaces collapsed. */
async function bannerText(page: Page): Promise<string> {
  return ((await page.getByTestId('degraded-banner').textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** Signs in with `token` (a `?token=` link) and opens `hash`. */
async function signIn(page: Page, s: TestServer, token: string, hash = '#/'): Promise<void> {
  await page.goto(`${s.url}/?token=${token}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
  await page.goto(`${s.url}/${hash}`);
}

describe.runIf(haveRedis)('the degraded banner while the cluster Redis is down', () => {
  let redis: TestRedis;
  let s: TestServer;
  let browser: Browser;
  let sensor: TestSensor;

  beforeAll(async () => {
    const dashboardDir = ensureDashboard();
    redis = await startRedis();
    s = await startServer({ dashboardDir, redisUrl: redis.url, instance: 'north' });
    await until('Redis up', async () => (await health(s)).cluster.redis === 'up');
    sensor = await TestSensor.open(s.url, s.admin, 'fan-2', { name: 'Fan 2' });
    await sensor.stream(0.5, 0.2);
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    sensor?.close();
    await browser?.close();
    await s?.close();
    await redis?.stop();
  });

  test('appears on every page while Redis is away, saying what and since when, and goes when it returns', async () => {
    const { page, errors } = await openPage(browser);
    await signIn(page, s, await s.token('operator', 'ops-nora'));
    const tile = page.locator('[data-testid="sensor-tile"][data-sensor-id="fan-2"]');
    await tile.waitFor();
    // Healthy: an empty live region, no banner.
    expect(await page.getByRole('status').filter({ hasText: 'cluster' }).count()).toBe(0);
    expect(await page.getByTestId('degraded-banner').count()).toBe(0);

    let t = Date.now();
    await redis.kill();
    const banner = page.getByTestId('degraded-banner');
    await banner.waitFor({ timeout: BANNER_MS });
    const appeared = Date.now() - t;
    expect(await banner.getAttribute('data-parts')).toBe('cluster');
    const text = await bannerText(page);
    expect(text).toMatch(
      /^The cluster link \(Redis\) is down\. Since \d\d:\d\d:\d\d \(\d+ (s|min) ago\)\. Only /,
    );
    expect(text).toContain("Only this instance's sensors (north) are shown and scored here");
    expect(text).toContain('This notice clears by itself when the server reports healthy again');
    // Inside a live region, so that screen readers announce it.
    expect(
      await page.locator('[role="status"][aria-live="polite"] [data-testid="degraded-banner"]').count(),
    ).toBe(1);
    // This instance's own sensor is still shown.
    await tile.waitFor();
    await screenshot(page, 'degraded-redis-overview');

    // Every page: the alerts list and the wall screen (which has no header) too.
    await page.goto(`${s.url}/#/alerts`);
    await page.getByTestId('degraded-banner').waitFor();
    await page.goto(`${s.url}/#/wall`);
    await page.getByTestId('degraded-banner').waitFor();
    expect(await bannerText(page)).toContain('The cluster link (Redis) is down.');
    await screenshot(page, 'degraded-redis-wall');

    t = Date.now();
    await redis.restart();
    await page.getByTestId('degraded-banner').waitFor({ state: 'detached', timeout: BANNER_MS });
    report('Redis', appeared, Date.now() - t);
    expect((await health(s)).cluster.redis).toBe('up');
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await page.context().close();
  });
});

describe.runIf(havePostgres)('the degraded banner while PostgreSQL is down', () => {
  let pg: Postgres;
  let s: TestServer;
  let browser: Browser;
  let sensor: TestSensor;

  beforeAll(async () => {
    const dashboardDir = ensureDashboard();
    pg = await startPostgres();
    s = await startServer({ dashboardDir, database: pg.url });
    sensor = await TestSensor.open(s.url, s.admin, 'pump-9', { name: 'Pump 9' });
    await sensor.stream(0.5, 0.2);
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    sensor?.close();
    await browser?.close();
    await s?.close();
    await pg?.stop();
  });

  test('says the database is unreachable, a refused snooze says so and to retry, and it all clears', async () => {
    const { page, errors } = await openPage(browser);
    await signIn(page, s, await s.token('operator', 'ops-ana'), '#/sensors/pump-9');
    await page.locator('#sensor-title', { hasText: 'Pump 9' }).waitFor();
    expect(await page.getByTestId('degraded-banner').count()).toBe(0);

    let t = Date.now();
    pg.halt();
    const banner = page.getByTestId('degraded-banner');
    await banner.waitFor({ timeout: BANNER_MS });
    const appeared = Date.now() - t;
    expect(await banner.getAttribute('data-parts')).toBe('storage');
    const text = await bannerText(page);
    expect(text).toMatch(
      /^The database \(PostgreSQL\) cannot be reached\. Since \d\d:\d\d:\d\d \(\d+ (s|min) ago\)\. New alerts /,
    );
    expect(text).toContain('New alerts and scores are held by the server and written when it returns');
    expect(text).toContain('the live view continues');
    expect(text).toContain('This notice clears by itself');
    await screenshot(page, 'degraded-postgres-sensor');

    // An action while the database is away: refused (503), and the operator is told it was not applied.
    await page.getByTestId('snooze-900').click();
    const refused = page.locator('[data-testid="toast"][data-kind="error"]', { hasText: 'Not applied' });
    await refused.waitFor();
    const said = ((await refused.textContent()) ?? '').replace(/\s+/g, ' ');
    expect(said).toContain('nothing was changed');
    expect(said).toContain('Retry in 5 s.');
    // One toast, though the shell and the snooze menu both told it.
    expect(await refused.count()).toBe(1);
    expect(errors.some((e) => /^HTTP 503 POST .*\/api\/sensors\/pump-9\/snooze$/.test(e))).toBe(true);

    t = Date.now();
    pg.restart();
    await page.getByTestId('degraded-banner').waitFor({ state: 'detached', timeout: BANNER_MS });
    report('PostgreSQL', appeared, Date.now() - t);
    expect((await health(s)).status).toBe('ok');
    // Nothing was snoozed by the refused click; the same click now does.
    expect((await s.api<SensorStatus>('/api/sensors/pump-9')).snoozedUntil).toBeNull();
    await page.getByTestId('snooze-900').click();
    await page.locator('[data-testid="toast"][data-kind="info"]', { hasText: 'pump-9 snoozed' }).waitFor();
    expect((await s.api<SensorStatus>('/api/sensors/pump-9')).snoozedUntil).toBeGreaterThan(Date.now());
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await page.context().close();
  });
});
