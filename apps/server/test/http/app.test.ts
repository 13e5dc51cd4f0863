import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '@hark/protocol';
import { startHarness, type Harness } from './harness.js';

const DESIGN = join(dirname(fileURLToPath(import.meta.url)), '../../DESIGN.md');

/** `[method, path]` of every REST row of DESIGN.md served by a controller (not the docs UI or dashboard). */
function designRoutes(): [string, string][] {
  const rows = [...readFileSync(DESIGN, 'utf8').matchAll(/^\| (GET|POST|PATCH|PUT|DELETE) `([^`]+)`/gm)];
  expect(rows.length).toBeGreaterThan(25);
  return rows
    .map((m): [string, string] => [m[1].toLowerCase(), m[2].replace(/:(\w+)/g, '{$1}')])
    .filter(([, path]) => path !== '/' && path !== '/api/docs');
}

describe('REST app: OpenAPI, metrics, body errors', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('documents every DESIGN.md route with its method and a summary, without a token', async () => {
    const res = await h.call<{
      info: { title: string };
      paths: Record<string, Record<string, { summary?: string }>>;
      components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
    }>('/api/docs-json', { token: null });
    expect(res.status).toBe(200);
    expect(res.body.info.title).toBe('hark');
    for (const [method, path] of designRoutes()) {
      expect(res.body.paths[path]?.[method]?.summary, `${method} ${path}`).toEqual(expect.any(String));
    }
    expect(Object.keys(res.body.components.securitySchemes).sort()).toEqual(['bearer', 'ticket']);
    expect(res.body.components.schemas).toHaveProperty('Alert');
  });

  it('serves the OpenAPI UI and its assets from node_modules', async () => {
    const ui = await h.call('/api/docs', { token: null });
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/text\/html/);
    const html = ui.bytes.toString();
    const script = /src="\.?\/?([^"]*swagger-ui-bundle\.js)"/.exec(html);
    expect(script, html).not.toBeNull();
    const bundle = await h.call(`/api/docs/${(script as RegExpExecArray)[1].replace(/^.*\//, '')}`, {
      token: null,
    });
    expect(bundle.status).toBe(200);
    expect(bundle.bytes.length).toBeGreaterThan(100_000);
  });

  it('serves Prometheus text at /metrics without a token', async () => {
    h.metrics.windowScored('pump-1', 0.02);
    const res = await h.call('/metrics', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe((await h.metrics.text()).contentType);
    expect(res.bytes.toString()).toContain('hark_windows_scored_total{sensor="pump-1"} 1');
  });

  it('answers malformed JSON with 400 and bodies over 1 MB with 413, as JSON', async () => {
    const alert = await h.alert();
    const bad = await h.call<ApiError>(`/api/alerts/${alert.id}/annotations`, {
      method: 'POST',
      body: '{"label": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(bad.body.message).toMatch(/^malformed JSON body: /);

    const big = await h.call<ApiError>(`/api/alerts/${alert.id}/annotations`, {
      method: 'POST',
      body: { label: 'unknown', text: 'x'.repeat(1_100_000) },
    });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    expect(big.body.message).toMatch(/^request body of \d+ bytes is over the limit of 1048576 bytes$/);

    // Under the limit but over the field's own: 400, not 413.
    const long = await h.call<ApiError>(`/api/alerts/${alert.id}/annotations`, {
      method: 'POST',
      body: { label: 'unknown', text: 'x'.repeat(500_000) },
    });
    expect(long.status).toBe(400);
  });

  it('answers unknown routes with 404 JSON', async () => {
    const res = await h.call<ApiError>('/api/nothing');
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot GET /api/nothing' });
  });
});

describe('REST app: dashboard', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hark-dashboard-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>hark</title>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    h = await startHarness({ dashboardDir: dir });
  });
  afterAll(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the files, index.html for client routes, and leaves /api, /metrics alone', async () => {
    const root = await h.call('/', { token: null });
    expect(root.status).toBe(200);
    expect(root.bytes.toString()).toContain('<title>hark</title>');
    const route = await h.call('/sensors/pump-1', { token: null });
    expect(route.status).toBe(200);
    expect(route.headers.get('content-type')).toMatch(/text\/html/);
    expect(route.bytes.toString()).toContain('<title>hark</title>');
    const js = await h.call('/app.js', { token: null });
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await h.call('/missing.js', { token: null })).status).toBe(404);
    expect((await h.call<ApiError>('/api/unknown')).body.statusCode).toBe(404);
    expect((await h.call('/api/me', { token: null })).status).toBe(401);
    expect((await h.call('/metrics', { token: null })).status).toBe(200);
  });
});
