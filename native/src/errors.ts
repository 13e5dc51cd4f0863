/**
 * Error codes shared by the addon (src/addon/errors.h) and the TypeScript fallback. Wrong types are
 * TypeErrors, out-of-range values RangeErrors, wrong states plain Errors; all carry `code`.
 */
export const ErrorCode = {
  /** Wrong type or out-of-range value (non-Float32Array, k <= 0, unknown metric, ...). */
  ARG: 'ERR_HARK_FAISS_ARG',
  /** Array length is not a multiple of the index dimension. */
  DIM: 'ERR_HARK_FAISS_DIM',
  /** IVF index used before train(). */
  NOT_TRAINED: 'ERR_HARK_FAISS_NOT_TRAINED',
  /** The index type cannot do this (removeIds on HNSW, efSearch on Flat, ...). */
  UNSUPPORTED: 'ERR_HARK_FAISS_UNSUPPORTED',
  /** Buffer or file is not a FAISS index, or is truncated or damaged. */
  CORRUPT: 'ERR_HARK_FAISS_CORRUPT',
  /** A file cannot be opened, read or written. */
  IO: 'ERR_HARK_FAISS_IO',
  /** A synchronous call while asynchronous work on the same index is pending. */
  BUSY: 'ERR_HARK_FAISS_BUSY',
  /** The index was disposed. */
  DISPOSED: 'ERR_HARK_FAISS_DISPOSED',
  /** An allocation failed. */
  NOMEM: 'ERR_HARK_FAISS_NOMEM',
  /** Any other FAISS exception. */
  INTERNAL: 'ERR_HARK_FAISS_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type HarkNativeError = Error & { code: ErrorCode };

/** An error with `code`; `kind` picks TypeError or RangeError like the addon does. */
export function nativeError(
  code: ErrorCode,
  message: string,
  kind: 'type' | 'range' | 'plain' = 'plain',
): HarkNativeError {
  const err =
    kind === 'type'
      ? new TypeError(message)
      : kind === 'range'
        ? new RangeError(message)
        : new Error(message);
  return Object.assign(err, { code });
}

/** True for errors raised by this package (either backend). */
export function isNativeError(err: unknown): err is HarkNativeError {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_HARK_FAISS_');
}
