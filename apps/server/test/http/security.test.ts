import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

/** The headers every answer carries (issue 18 L4). */
function expectSecurityHeaders(headers: Headers) {
  expect(headers.get('x-powered-by')).toBeNull();
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'self'");
  expect(csp).not.toContain('upgrade-insecure-requests');
  return csp;
}

describe('security headers', () => {
  let h: Harness;
  const dashboardDir = mkdtempSync(join(tmpdir(), 'hark-csp-dash-'));
  beforeAll(async () => {
    writeFileSync(join(dashboardDir, 'index.html'), '<!doctype html><title>hark</title>');
    h = await startHarness({ dashboardDir });
  });
  afterAll(async () => {
    await h.close();
    rmSync(dashboardDir, { recursive: true, force: true });
  });

  it('on the dashboard, the API (answers and errors) and /metrics: a CSP without inline scripts', async () => {
    for (const [path, token] of [
      ['/', null],
      ['/api/me', undefined],
      ['/api/alerts/999999', undefined],
      ['/api/me', null],
    ] as const) {
      const res = await h.call(path, { token });
      const csp = expectSecurityHeaders(res.headers);
      expect(csp, path).toContain("script-src 'self';");
      expect(csp, path).toContain("connect-src 'self' ws: wss:");
      expect(csp, path).toContain("media-src 'self' blob:");
      expect(csp, path).toContain("img-src 'self' data: blob:");
    }
  });

  it('Swagger UI at /api/docs: the same headers, images from data: and https: only there', async () => {
    const res = await h.call<string>('/api/docs', { token: null });
    expect(res.status).toBe(200);
    const csp = expectSecurityHeaders(res.headers);
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("img-src 'self' data: https:");
  });
});
