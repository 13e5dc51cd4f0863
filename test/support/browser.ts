/**
 * Real Chromium for the browser tests: Debian's `/usr/bin/chromium` driven by playwright-core (no browser
 * download). `make test` installs it; on a machine without it the browser tests are skipped with a message
 * saying so. The tests serve their own build of the dashboard, with the test hooks compiled in
 * (`HARK_TEST_HOOKS=1`, `apps/dashboard/dist-test`): `ensureDashboard()` builds it when missing or older than the
 * dashboard's sources.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO } from './server.js';
import { tempDir } from './temp.js';

export const CHROMIUM = process.env.HARK_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO, 'test-results/screenshots');
const DASHBOARD = join(REPO, 'apps/dashboard');
/** The browser tests' build of the dashboard (never shipped: the test hooks are compiled in). */
const TEST_DASHBOARD = join(DASHBOARD, 'dist-test');
const DASHBOARD_INDEX = join(TEST_DASHBOARD, 'index.html');

/** Whether Chromium is installed; warns (visibly, once per file) when it is not. */
export function chromiumOrWarn(file: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  console.warn(
    `${file}: SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set HARK_CHROMIUM); ` +
      '`make test` installs it.',
  );
  return false;
}

export function launchChromium(): Promise<Browser> {
  // Chromium's sound library (PulseAudio's client) keeps a runtime directory, `$TMPDIR/pulse-<id>` when
  // XDG_RUNTIME_DIR is unset (as under `make test`), when a page plays sound (the alert clip). It goes into a
  // directory of the test's own, removed with the file's other temporary directories.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.XDG_RUNTIME_DIR = tempDir('chromium-runtime');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    env,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      // The alert page plays its clip after a click; no sound card is needed or used.
      '--autoplay-policy=no-user-gesture-required',
      '--mute-audio',
    ],
  });
}

/** Newest modification time (ms) of the files under `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  return t;
}

/**
 * Builds the browser tests' dashboard (`apps/dashboard/dist-test`, test hooks on) when it is missing or older
 * than the dashboard's or the protocol's sources; returns its directory, for the server's `dashboardDir`.
 */
export function ensureDashboard(): string {
  const sources = Math.max(
    newest(join(DASHBOARD, 'src')),
    newest(join(DASHBOARD, 'public')),
    newest(join(REPO, 'libs/protocol/src')),
    statSync(join(DASHBOARD, 'vite.config.ts')).mtimeMs,
    statSync(join(DASHBOARD, 'index.html')).mtimeMs,
  );
  if (existsSync(DASHBOARD_INDEX) && statSync(DASHBOARD_INDEX).mtimeMs >= sources) return TEST_DASHBOARD;
  console.log('building the dashboard with its test hooks (apps/dashboard/dist-test)');
  try {
    execFileSync('npx', ['vite', 'build', '--outDir', 'dist-test'], {
      cwd: DASHBOARD,
      env: { ...process.env, HARK_TEST_HOOKS: '1' },
      stdio: 'pipe',
    });
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `building the dashboard failed; run 'HARK_TEST_HOOKS=1 npx vite build --outDir dist-test' in ` +
        `apps/dashboard and fix it:\n${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
  }
  if (!existsSync(DASHBOARD_INDEX)) throw new Error(`the dashboard build wrote no ${DASHBOARD_INDEX}`);
  return TEST_DASHBOARD;
}

/** Saves a full-page screenshot as `test-results/screenshots/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * With `HARK_UPDATE_SCREENSHOTS=1`, copies a saved screenshot to `docs/screenshots/<target>.png` (the
 * README's pictures), so they are refreshed by running the test, not by hand.
 */
export function publishScreenshot(path: string, target: string): void {
  if (!process.env.HARK_UPDATE_SCREENSHOTS) return;
  const dir = join(REPO, 'docs/screenshots');
  mkdirSync(dir, { recursive: true });
  copyFileSync(path, join(dir, `${target}.png`));
  console.log(`updated docs/screenshots/${target}.png`);
}

/** The browser tests' desktop viewport: the README's screenshots' size, at a device scale of 1. */
export const DESKTOP = { width: 1440, height: 900 };

/** A page in a fresh browser context (its own storage, so its own sign-in) and the errors it raises. */
export async function openPage(
  browser: Browser,
  viewport: { width: number; height: number } = DESKTOP,
): Promise<{ page: Page; errors: string[] }> {
  const page = await (await browser.newContext({ viewport, deviceScaleFactor: 1 })).newPage();
  return { page, errors: pageErrors(page) };
}

/**
 * Collects the page's uncaught exceptions, console errors and failed HTTP answers (with their URL), for
 * assertions and failure messages.
 */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Chromium's line for a failed answer names no URL: the `response` listener reports it instead.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      errors.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return errors;
}

/**
 * Content-Security-Policy violations of `page` from its first document on (the `securitypolicyviolation`
 * event, and Chromium's "Refused to ..." console line): kept apart from `pageErrors`, which tests reset.
 */
export function cspViolations(page: Page): string[] {
  const found: string[] = [];
  // A string: this runs in the page (the test project has no DOM types).
  void page.addInitScript(
    `document.addEventListener('securitypolicyviolation', (e) =>
      console.error('csp-violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));`,
  );
  page.on('console', (m) => {
    const text = m.text();
    if (text.startsWith('csp-violation:') || text.includes('Content Security Policy')) found.push(text);
  });
  return found;
}
