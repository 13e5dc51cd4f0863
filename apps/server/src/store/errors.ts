/**
 * Errors of the stores and services below the HTTP layer. Each carries the HTTP status it maps to, so the
 * error filter translates without knowing every class; messages name the value and what to do.
 */
export class HarkError extends Error {
  constructor(
    message: string,
    /** The HTTP status the REST API answers with. */
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A record that does not exist (`alert 42 not found`). */
export class NotFoundError extends HarkError {
  constructor(message: string) {
    super(message, 404);
  }
}

/** A request that clashes with the record's state (`alert 42 is already acknowledged by ...`). */
export class ConflictError extends HarkError {
  constructor(message: string) {
    super(message, 409);
  }
}

/** A bad argument (`limit (0) must be an integer in 1..500`). */
export class InvalidArgumentError extends HarkError {
  constructor(message: string) {
    super(message, 400);
  }
}

/** Checks that `value` is an integer in `[min, max]`, naming it in the error otherwise. */
export function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} (${value}) must be an integer in ${min}..${max}`);
  }
  return value;
}
