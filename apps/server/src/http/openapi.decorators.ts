import { applyDecorators, Controller, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Role } from '@hark/protocol';
import { AuthGuard, Roles } from './auth.guard.js';
import { ref, type Schema } from './schemas.js';

const WHY: Record<number, string> = {
  400: 'bad input (the message names the field and the value)',
  401: 'missing, invalid or revoked token',
  403: 'the token lacks the role',
  404: 'no such record',
  409: 'conflicts with the record’s state',
  413: 'body too large',
  422: 'the upload is not usable',
};

/** `ApiError` answers of a route. */
export const ApiErrors = (...statuses: number[]) =>
  applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: WHY[status], schema: ref('ApiError') })),
  );

/** What `ApiRoute` documents of a JSON route. */
export interface RouteDoc {
  summary: string;
  /** The JSON body's schema (from `BODIES`), when the route reads one. */
  body?: Schema;
  /** The success answer's schema, with its status (200 unless said) and description. */
  ok: Schema;
  status?: number;
  description?: string;
  /** The `ApiError` statuses the route may answer. */
  errors: number[];
}

/** A JSON route's documentation in one decorator: summary, body, success answer and error answers. */
export const ApiRoute = (o: RouteDoc) =>
  applyDecorators(
    ApiOperation({ summary: o.summary }),
    ...(o.body ? [ApiBody({ schema: o.body })] : []),
    ApiResponse({
      status: o.status ?? 200,
      ...(o.description ? { description: o.description } : {}),
      schema: o.ok,
    }),
    ApiErrors(...o.errors),
  );

/**
 * A REST controller under `path`: documented under `tag`, behind the token guard, open to `role` and above
 * (routes may ask more with `@Roles`); `mediaTicket` also documents `?ticket=` (media URLs used by `<audio>`).
 */
export const ApiController = (path: string, o: { tag: string; role: Role; mediaTicket?: boolean }) =>
  applyDecorators(
    ApiTags(o.tag),
    ApiBearerAuth(),
    ...(o.mediaTicket ? [ApiSecurity('ticket')] : []),
    UseGuards(AuthGuard),
    Roles(o.role),
    Controller(path),
  );
