import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
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
