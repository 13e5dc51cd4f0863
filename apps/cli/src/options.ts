import { InvalidArgumentError } from 'commander';

/** Option parsers that reject bad numbers with the value quoted, before any work starts. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError(`'${value}' is not a positive whole number`);
  }
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`'${value}' is not a whole number >= 0`);
  }
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`'${value}' is not a number > 0`);
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`'${value}' is not a number >= 0`);
  return n;
}

/**
 * `--config '{"contextFrames": 0}'`: detector configuration overrides (libs/detection `DetectorConfig` field
 * names), a JSON object; the fields themselves are validated by `resolveDetectorConfig`.
 */
export function configOverrides(value: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`'${value}' is not JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InvalidArgumentError(`'${value}' must be a JSON object of detector config fields`);
  return v as Record<string, unknown>;
}
