import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { SCHEMAS } from './schemas.js';

export const OPENAPI_UI_PATH = 'api/docs';
export const OPENAPI_JSON_PATH = 'api/docs-json';

/** The OpenAPI document of the app's controllers, with the contract schemas under `components.schemas`. */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('hark')
    .setDescription(
      'Real-time acoustic anomaly monitoring. Send `Authorization: Bearer <token>`; media URLs also take ' +
        '`?token=`. Roles: admin > operator > sensor (sensor tokens only stream on the socket.io namespace ' +
        '`/sensor`). Errors are `{statusCode, error, message}`; times are ms since the epoch.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an operator or admin token (hark_...)' })
    .addApiKey(
      { type: 'apiKey', in: 'query', name: 'token', description: 'the token, for media URLs' },
      'token',
    )
    .addTag('sensors', 'live status, names, score history, snoozes')
    .addTag('models', 'enrolment, uploads and feedback of the per-sensor models')
    .addTag('alerts', 'alerts, operator actions and the kept media')
    .addTag('tokens', 'API tokens and the caller')
    .addTag('notifications', 'channels, rules and the record of deliveries')
    .addTag('metrics', 'Prometheus metrics')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = {
    ...document.components,
    schemas: {
      ...document.components?.schemas,
      ...(SCHEMAS as NonNullable<typeof document.components>['schemas']),
    },
  };
  return document;
}

/** Serves the OpenAPI UI at `/api/docs` (swagger-ui from node_modules, no internet) and the JSON at `/api/docs-json`. */
export function setupOpenApi(app: INestApplication): OpenAPIObject {
  const document = buildOpenApi(app);
  SwaggerModule.setup(OPENAPI_UI_PATH, app, document, {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'hark API',
    swaggerOptions: { persistAuthorization: true },
  });
  return document;
}
