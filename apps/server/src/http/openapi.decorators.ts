import { applyDecorators, Controller, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Role } from '@hark/protocol';
import { AuthGuard, Roles } from './auth.guard.js';
import { ref } from './schemas.js';

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

/**
 * A REST controller under `path`: documented under `tag`, behind the token guard, open to `role` and above
 * (routes may ask more with `@Roles`); `mediaToken` also documents `?token=` (media URLs used by `<audio>`).
 */
export const ApiController = (path: string, o: { tag: string; role: Role; mediaToken?: boolean }) =>
  applyDecorators(
    ApiTags(o.tag),
    ApiBearerAuth(),
    ...(o.mediaToken ? [ApiSecurity('token')] : []),
    UseGuards(AuthGuard),
    Roles(o.role),
    Controller(path),
  );
