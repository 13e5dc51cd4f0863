/**
 * Checks of request input at the edge. Each throws `BadRequestException` (400) with a message naming the field
 * and the value it got, e.g. `limit ('abc') must be an integer in 1..500`.
 */
import { BadRequestException } from '@nestjs/common';
import { sensorIdProblem } from '@hark/protocol';
import { showValue as show } from '../show.js';

export function invalid(name: string, value: unknown, rule: string): BadRequestException {
  return new BadRequestException(`${name} (${show(value)}) ${rule}`);
}

/** A path or query integer, written in plain decimal digits, in `[min, max]`. */
export function parseInt10(name: string, raw: unknown, min: number, max: number): number {
  const rule =
    max === Number.MAX_SAFE_INTEGER ? `must be an integer >= ${min}` : `must be an integer in ${min}..${max}`;
  if (typeof raw !== 'string' || !/^-?\d{1,16}$/.test(raw)) throw invalid(name, raw, rule);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(name, raw, rule);
  return n;
}

/** An optional query integer: `fallback` when absent. */
export function queryInt(
  query: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  fallback?: number,
): number | undefined {
  const raw = single(query, name);
  return raw === undefined ? fallback : parseInt10(name, raw, min, max);
}

/** An optional query value that must be one of `allowed`. */
export function queryEnum<T extends string>(
  query: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const raw = single(query, name);
  if (raw === undefined) return undefined;
  return oneOf(name, raw, allowed);
}

/** An optional query list, comma-separated and / or repeated (`?state=open,acknowledged`). */
export function queryList<T extends string>(
  query: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
): T[] | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((v) =>
    typeof v === 'string' ? v.split(',') : [v],
  );
  return parts.map((p) => oneOf(name, typeof p === 'string' ? p.trim() : p, allowed));
}

/** A value of a closed set. */
export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(name, value, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

/** A sensor id (path or query). */
export function sensorId(raw: unknown, name = 'sensor id'): string {
  const problem = sensorIdProblem(raw);
  if (problem) throw invalid(name, raw, problem);
  return raw as string;
}

/** A numeric record id in a path (`/api/alerts/:id`). */
export function recordId(name: string, raw: unknown): number {
  return parseInt10(name, raw, 1, Number.MAX_SAFE_INTEGER);
}

/** The JSON body as an object (an absent body counts as `{}` when `optional`). */
export function bodyObject(body: unknown, optional = false): Record<string, unknown> {
  if ((body === undefined || body === null) && optional) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestException(
      `the request body must be a JSON object (Content-Type: application/json), got ${body === undefined ? 'none' : Array.isArray(body) ? 'an array' : typeof body}`,
    );
  }
  return body as Record<string, unknown>;
}

/** A string field of 1..max characters (trimmed); `undefined` when absent and not `required`. */
export function stringField(
  body: Record<string, unknown>,
  name: string,
  opts: { max: number; required?: boolean; allowEmpty?: boolean },
): string | undefined {
  const value = body[name];
  if (value === undefined && !opts.required) return undefined;
  const min = opts.allowEmpty ? 0 : 1;
  if (typeof value !== 'string' || value.trim().length < min || value.length > opts.max) {
    throw invalid(name, value, `must be a string of ${min}-${opts.max} characters`);
  }
  return opts.allowEmpty ? value : value.trim();
}

/** A finite number field in `[min, max]`. */
export function numberField(body: Record<string, unknown>, name: string, min: number, max: number): number {
  const value = body[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(name, value, `must be a number from ${min} to ${max}`);
  }
  return value;
}

/** A boolean field; `fallback` when absent (or required when there is none). */
export function booleanField(body: Record<string, unknown>, name: string, fallback?: boolean): boolean {
  const value = body[name];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(name, value, 'must be true or false');
  return value;
}

/** The one value of a query parameter (a repeated one is an error). */
function single(query: Record<string, unknown>, name: string): unknown {
  const raw = query[name];
  if (Array.isArray(raw)) throw invalid(name, raw, 'must be given once');
  return raw;
}

/** An optional query string, given once. */
export function queryString(query: Record<string, unknown>, name: string): string | undefined {
  const raw = single(query, name);
  if (raw !== undefined && typeof raw !== 'string') throw invalid(name, raw, 'must be a string');
  return raw;
}
