/**
 * Errors of the stores below the HTTP layer. Each carries a code of its own (`http/error.filter.ts` maps codes
 * to HTTP statuses); messages name the value and what to do.
 */
export type StoreErrorCode = 'NOT_FOUND' | 'CONFLICT' | 'INVALID';

export class HarkError extends Error {
  constructor(
    message: string,
    readonly code: StoreErrorCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A record that does not exist (`alert 42 not found`). */
export class NotFoundError extends HarkError {
  constructor(message: string) {
    super(message, 'NOT_FOUND');
  }
}

/** A request that clashes with the record's state (`alert 42 is already acknowledged by ...`). */
export class ConflictError extends HarkError {
  constructor(message: string) {
    super(message, 'CONFLICT');
  }
}

/** A bad argument (`limit (0) must be an integer in 1..500`). */
export class InvalidArgumentError extends HarkError {
  constructor(message: string) {
    super(message, 'INVALID');
  }
}

/** Checks that `value` is an integer in `[min, max]`, naming it in the error otherwise. */
export function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} (${value}) must be an integer in ${min}..${max}`);
  }
  return value;
}
