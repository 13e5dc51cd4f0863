import { ErrorCode, nativeError } from '../errors.js';

// Argument checks of the TypeScript fallback. Messages and error classes match the addon's
// (src/addon/args.cc) so both backends fail alike; the shared test suite holds them to it.

const article = (name: string) => (/^(Int|Array)/.test(name) ? 'an' : 'a');

/** "a number", "an Array", "a Float64Array", ... */
export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'bigint') return 'a bigint';
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return 'an Array';
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const name = Buffer.isBuffer(v) ? 'Uint8Array' : v.constructor.name;
    return `${article(name)} ${name}`;
  }
  if (v instanceof ArrayBuffer) return 'an ArrayBuffer';
  return 'an object';
}

export function checkInt(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number')
    throw nativeError(ErrorCode.ARG, `${name} must be a number, got ${describe(v)}`, 'type');
  if (!Number.isInteger(v) || v < min || v > max)
    throw nativeError(ErrorCode.ARG, `${name} (${v}) must be an integer in [${min}, ${max}]`, 'range');
  return v;
}

/** The number of rows of a Float32Array holding rows of `dim` floats. */
export function checkMatrix(v: unknown, name: string, dim: number): number {
  if (!(v instanceof Float32Array))
    throw nativeError(ErrorCode.ARG, `${name} must be a Float32Array, got ${describe(v)}`, 'type');
  if (v.length % dim !== 0)
    throw nativeError(
      ErrorCode.DIM,
      `${name} length (${v.length}) is not a multiple of dim (${dim})`,
      'range',
    );
  return v.length / dim;
}

export function checkIds(v: unknown, name: string): BigInt64Array {
  if (!(v instanceof BigInt64Array))
    throw nativeError(ErrorCode.ARG, `${name} must be a BigInt64Array, got ${describe(v)}`, 'type');
  return v;
}

export function checkBytes(v: unknown, name: string): Uint8Array {
  if (!(v instanceof Uint8Array))
    throw nativeError(ErrorCode.ARG, `${name} must be a Buffer or Uint8Array, got ${describe(v)}`, 'type');
  return v;
}

export function checkString(v: unknown, name: string): string {
  if (typeof v !== 'string')
    throw nativeError(ErrorCode.ARG, `${name} must be a string, got ${describe(v)}`, 'type');
  if (v === '') throw nativeError(ErrorCode.ARG, `${name} must not be empty`, 'range');
  return v;
}
