/**
 * The few parts of Express's request and response the HTTP layer uses (the server does not depend on
 * `@types/express`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenInfo } from '@hark/protocol';

export interface HttpRequest extends IncomingMessage {
  method: string;
  path: string;
  query: Record<string, unknown>;
  params?: Record<string, string>;
  body?: unknown;
  /** Set by `AuthGuard` once the token is verified. */
  caller?: TokenInfo;
}

export interface HttpResponse extends ServerResponse {
  status(code: number): this;
  json(body: unknown): this;
  send(body?: unknown): this;
  sendFile(path: string, callback?: (err?: Error) => void): void;
}

export type NextFunction = (err?: unknown) => void;

/** A file of a multipart upload, as the disk storage engine (`upload-storage.ts`) keeps it. */
export interface MulterFile {
  fieldname: string;
  originalname: string;
  mimetype: string;
  size: number;
  path: string;
}
