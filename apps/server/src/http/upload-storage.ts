/**
 * Multipart uploads streamed to disk (a multer storage engine): each file goes to a temporary file under
 * `DATA/tmp/uploads/` as it arrives, so an upload of many large WAVs costs disk, not memory. A file over the
 * per-file limit, or a request over the total, is answered 413 naming the limit and its setting; the files of a
 * refused request are removed (multer calls `_removeFile` for those already stored).
 */
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PayloadTooLargeException } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';

export interface UploadLimits {
  /** Folder of the temporary files (`DATA/tmp/uploads`). */
  dir: string;
  maxFileBytes: number;
  maxTotalBytes: number;
}

/** What the engine stores of a file (multer adds it to the file object). */
export interface StoredUpload {
  path: string;
  size: number;
}

interface IncomingFile {
  originalname: string;
  stream: Readable;
}

type UploadRequest = { app?: { locals?: { harkUploads?: UploadLimits } }; harkUploadBytes?: number };

/** `50 MB`, `1.5 MB`, `64 KB`. */
const humanSize = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${Number((bytes / 1024 / 1024).toFixed(1))} MB` : `${Math.round(bytes / 1024)} KB`;

/**
 * Gives the Express app its upload limits (the engine reads them from the request's app). The folder is emptied
 * first: what is in it was left by a process that ended during an upload.
 */
export function setUploadLimits(app: INestApplication, limits: UploadLimits): void {
  try {
    rmSync(limits.dir, { recursive: true, force: true });
    mkdirSync(limits.dir, { recursive: true });
  } catch {
    // A full disk (the server starts read-only): each upload makes the folder again, or fails with the reason.
  }
  (app.getHttpAdapter().getInstance() as { locals: Record<string, unknown> }).locals.harkUploads = limits;
}

/** The engine; its limits come from the app of each request (several servers can share a process). */
export const diskUploadStorage = {
  _handleFile(
    req: UploadRequest,
    file: IncomingFile,
    cb: (err: Error | null, info?: StoredUpload) => void,
  ): void {
    const limits = req.app?.locals?.harkUploads;
    if (!limits) return cb(new Error('uploads are not set up (setUploadLimits)'));
    const path = join(limits.dir, `${Date.now()}-${randomBytes(6).toString('hex')}.part`);
    try {
      mkdirSync(limits.dir, { recursive: true });
    } catch (err) {
      return cb(err as Error);
    }
    const out = createWriteStream(path, { flags: 'wx' });
    let size = 0;
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      file.stream.unpipe(out);
      file.stream.resume();
      // The file is opened asynchronously: a limit hit before the open completes would leave it behind if
      // it were removed now. It is removed once the stream has closed, and only then is the upload refused.
      const done = () => {
        rmSync(path, { force: true });
        cb(err);
      };
      if (out.closed) done();
      else {
        out.once('close', done);
        out.destroy();
      }
    };
    file.stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      req.harkUploadBytes = (req.harkUploadBytes ?? 0) + chunk.length;
      if (size > limits.maxFileBytes)
        fail(
          new PayloadTooLargeException(
            `file '${file.originalname}' is larger than ${humanSize(limits.maxFileBytes)}, the limit per file (HARK_UPLOAD_MAX_FILE_MB)`,
          ),
        );
      else if (req.harkUploadBytes > limits.maxTotalBytes)
        fail(
          new PayloadTooLargeException(
            `the upload is larger than ${humanSize(limits.maxTotalBytes)}, the limit per upload (HARK_UPLOAD_MAX_TOTAL_MB): send fewer or shorter clips`,
          ),
        );
    });
    file.stream.on('error', (err: Error) => fail(err));
    out.on('error', (err: Error) => fail(err));
    out.on('finish', () => {
      if (!failed) cb(null, { path, size });
    });
    file.stream.pipe(out);
  },

  _removeFile(_req: unknown, file: Partial<StoredUpload>, cb: (err: Error | null) => void): void {
    if (file.path) rmSync(file.path, { force: true });
    cb(null);
  },
};
