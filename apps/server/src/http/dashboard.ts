import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { HttpRequest, HttpResponse, NextFunction } from './types.js';

/** Paths that are never the dashboard's client routes. */
const SERVER_PATHS = /^\/(api|socket\.io|metrics)(\/|$)/;

/**
 * Serves the built dashboard from `dir` at `/`, and its `index.html` for client routes (`/sensors/pump-3`):
 * GETs outside `/api`, `/socket.io` and `/metrics` whose last segment has no file extension. Returns false
 * (and serves nothing) when `dir` has no `index.html`.
 */
export function serveDashboard(app: INestApplication, dir: string): boolean {
  const root = resolve(dir);
  const index = join(root, 'index.html');
  if (!existsSync(index)) return false;
  (app as NestExpressApplication).useStaticAssets(root, { index: 'index.html', maxAge: '1h' });
  app.use((req: HttpRequest, res: HttpResponse, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || SERVER_PATHS.test(req.path)) return next();
    const last = req.path.slice(req.path.lastIndexOf('/') + 1);
    if (last.includes('.')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index, (err) => err && next(err));
  });
  return true;
}
