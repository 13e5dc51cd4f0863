/**
 * Every error of the REST API as `ApiError` JSON `{statusCode, error, message}`: the store's `HarkError` and
 * the model runtime's `ModelError` by their codes (the one place those codes become HTTP statuses), storage
 * failures (a full disk) 503, Nest's
 * `HttpException`s (including those Nest maps from body-parser and multer: malformed JSON 400, body too large
 * 413), anything else 500 with a generic message and the stack in the log.
 */
import { STATUS_CODES } from 'node:http';
import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { ApiError } from '@hark/protocol';
import { ModelError, type ModelErrorCode } from '../models/errors.js';
import { HarkError, type StoreErrorCode } from '../store/errors.js';
import { isStorageFailure, isUnreachable } from '../store/storage-health.js';
import type { HttpRequest, HttpResponse } from './types.js';

/** `Retry-After` of a 503 for a storage failure, s: a few of the store's 1 s retry rounds. */
const RETRY_AFTER_SECONDS = 5;

/** The HTTP status of each runtime error code. */
export const ERROR_STATUS: Record<StoreErrorCode | ModelErrorCode, number> = {
  INVALID: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  BAD_AUDIO: 422,
  BUSY: 409,
  NOT_STREAMING: 409,
  NO_MODEL: 409,
  NOT_TEACHABLE: 409,
  ALREADY_TAUGHT: 409,
  NO_VERSION: 404,
  NOT_SHADOW: 409,
  SHADOW_LIMIT: 409,
};

/** The `ApiError` of any thrown value. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof HarkError || err instanceof ModelError)
    return apiError(ERROR_STATUS[err.code], err.message);
  if (isUnreachable(err))
    return apiError(
      503,
      `the database cannot be reached (${(err as Error).message}); nothing was changed: try again in a few ` +
        `seconds (Retry-After), once GET /api/health says storage.writable`,
    );
  if (isStorageFailure(err))
    return apiError(
      503,
      `the data directory refuses writes (${(err as Error).message}); nothing was changed: try again ` +
        'once space is freed (GET /api/health says when)',
    );
  if (err instanceof HttpException) {
    const body = bodyParserError(err.cause);
    if (body) return apiError(err.getStatus(), body);
    const status = err.getStatus();
    const answer = err.getResponse();
    let message: unknown = typeof answer === 'string' ? answer : (answer as { message?: unknown }).message;
    if (Array.isArray(message)) message = message.join('; ');
    return apiError(status, typeof message === 'string' && message ? message : err.message);
  }
  return apiError(500, 'internal server error (see the server log)');
}

/** A clearer message for body-parser's errors (which Nest wraps as the cause of an `HttpException`). */
function bodyParserError(cause: unknown): string | null {
  const e = cause as { type?: unknown; message?: string; length?: number; limit?: number } | undefined;
  if (e?.type === 'entity.parse.failed') return `malformed JSON body: ${e.message}`;
  if (e?.type === 'entity.too.large') {
    return `request body of ${e.length ?? '?'} bytes is over the limit of ${e.limit ?? '?'} bytes`;
  }
  return null;
}

const apiError = (statusCode: number, message: string): ApiError => ({
  statusCode,
  error: STATUS_CODES[statusCode] ?? 'Error',
  message,
});

@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<HttpResponse>();
    const req = http.getRequest<HttpRequest>();
    const body = toApiError(err);
    if (body.statusCode === 503) {
      // The store's failure is logged once per outage (StorageHealth); each refused request is one line.
      this.logger.warn(`${req.method} ${req.path ?? req.url}: 503 ${body.message}`);
    } else if (body.statusCode >= 500) {
      this.logger.error(
        `${req.method} ${req.path ?? req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // The store retries each second while degraded (StorageHealth): a client may try again soon after.
    if (body.statusCode === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(body.statusCode).json(body);
  }
}
