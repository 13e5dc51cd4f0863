/**
 * Security headers of every HTTP answer (issue 18 L4), by helmet: a Content-Security-Policy the dashboard
 * passes, no framing, nosniff, a strict Referrer-Policy and no `X-Powered-By`.
 */
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import { OPENAPI_UI_PATH } from './openapi.js';

/** The dashboard's policy: only its own scripts; each relaxation says which part of it needs it. */
export const DASHBOARD_CSP: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  // ECharts and Vue's style bindings set element styles inline.
  'style-src': ["'self'", "'unsafe-inline'"],
  // ECharts' image export and the alert spectrogram pictures come as data: / blob: URLs.
  'img-src': ["'self'", 'data:', 'blob:'],
  // Alert clips are played from blob: URLs made from fetched WAVs (the API needs a token header).
  'media-src': ["'self'", 'blob:'],
  // socket.io (`/live`) upgrades to a WebSocket on the same host; ws:/wss: because 'self' does not cover them
  // in every browser.
  'connect-src': ["'self'", 'ws:', 'wss:'],
  'font-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * Swagger UI at `/api/docs` only (its scripts are files, its styles inline as the dashboard's): it shows
 * data: and https: images (icons, the validator badge). Nothing else is served under this path.
 */
export const OPENAPI_UI_CSP: Record<string, string[]> = {
  ...DASHBOARD_CSP,
  'img-src': ["'self'", 'data:', 'https:'],
};

/** helmet with `directives`; no `upgrade-insecure-requests` (a LAN install on plain http must keep working). */
const withPolicy = (directives: Record<string, string[]>) =>
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { ...directives, 'upgrade-insecure-requests': null },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });

/** Installs the headers on every route (before the dashboard and the API are mounted). */
export function setupSecurityHeaders(app: INestApplication): void {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  const dashboard = withPolicy(DASHBOARD_CSP);
  const docs = withPolicy(OPENAPI_UI_CSP);
  express.use((req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
    const path = (req.url ?? '/').split('?')[0];
    const isDocs = path === `/${OPENAPI_UI_PATH}` || path.startsWith(`/${OPENAPI_UI_PATH}/`);
    (isDocs ? docs : dashboard)(req, res, next);
  });
}
