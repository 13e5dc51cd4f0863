/**
 * The REST API: controllers for every route of DESIGN.md, the token guard, input validation, the error filter,
 * OpenAPI at `/api/docs`, `/metrics`, and the dashboard's static files.
 *
 * The app module provides, with `useValue`: `HarkStore`, `TokenService`, `AlertMediaStore`, `AlertService`,
 * `HarkMetrics`, `NotificationService`, `SensorsPort` and `ModelsPort` (the classes are the injection tokens), lists
 * `HTTP_CONTROLLERS` and `HTTP_PROVIDERS`, and calls `setupHttp(app, {dashboardDir})` before `listen`.
 */
import type { INestApplication, Provider, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AlertMediaController } from './alert-media.controller.js';
import { AlertsController } from './alerts.controller.js';
import { AssetsController } from './assets.controller.js';
import { AuthGuard } from './auth.guard.js';
import { serveDashboard } from './dashboard.js';
import { ApiErrorFilter } from './error.filter.js';
import { ExportController } from './export.controller.js';
import { HealthController } from './health.controller.js';
import { HistoryController } from './history.controller.js';
import { MetricsController } from './metrics.controller.js';
import { ModelsController } from './models.controller.js';
import { NotificationsController } from './notifications.controller.js';
import { setupOpenApi } from './openapi.js';
import { setupSecurityHeaders } from './security.js';
import { SensorsController } from './sensors.controller.js';
import { MeController, TokensController } from './tokens.controller.js';

import { setUploadLimits, type UploadLimits } from './upload-storage.js';
export { AuthGuard, Caller, Roles, requestToken } from './auth.guard.js';
export { ApiErrorFilter, toApiError } from './error.filter.js';
export { buildOpenApi, setupOpenApi, OPENAPI_JSON_PATH, OPENAPI_UI_PATH } from './openapi.js';
export { parseRange } from './range.js';
export { UPLOAD_MAX_FILES } from './models.controller.js';
export { diskUploadStorage, setUploadLimits, type UploadLimits } from './upload-storage.js';
export {
  AlertMediaController,
  AlertsController,
  AssetsController,
  ExportController,
  HealthController,
  HistoryController,
  MeController,
  MetricsController,
  ModelsController,
  NotificationsController,
  SensorsController,
  TokensController,
};

export const HTTP_CONTROLLERS: Type[] = [
  MeController,
  SensorsController,
  HistoryController,
  AssetsController,
  ModelsController,
  AlertsController,
  AlertMediaController,
  ExportController,
  TokensController,
  NotificationsController,
  MetricsController,
  HealthController,
];

export const HTTP_PROVIDERS: Provider[] = [AuthGuard];

/** Largest JSON body. */
export const JSON_BODY_LIMIT = '1mb';

export interface HttpSetupOptions {
  /** The built dashboard (`apps/dashboard/dist`); null or a directory without `index.html` serves none. */
  dashboardDir: string | null;
  /** Where uploads are streamed and how large they may be. */
  uploads: UploadLimits;
}

/**
 * Installs the security headers (helmet, `security.ts`), the error filter, the JSON body limit, OpenAPI and the dashboard on an Express Nest app. Call it
 * after `NestFactory.create` and before `init` / `listen`.
 */
export function setupHttp(app: INestApplication, options: HttpSetupOptions): { dashboard: boolean } {
  setupSecurityHeaders(app);
  app.useGlobalFilters(new ApiErrorFilter());
  (app as NestExpressApplication).useBodyParser('json', { limit: JSON_BODY_LIMIT });
  setupOpenApi(app);
  setUploadLimits(app, options.uploads);
  const dashboard = options.dashboardDir ? serveDashboard(app, options.dashboardDir) : false;
  return { dashboard };
}
