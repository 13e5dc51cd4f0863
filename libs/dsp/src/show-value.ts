/**
 * A value as an error message quotes it. Configuration arrives as JSON from a command line, a request or a
 * model directory, so a field can hold anything: `${value}` prints an object as `[object Object]` and an
 * array of them as `[object Object], 1`, which names nothing. Here a string is quoted ('max'), a number,
 * boolean, null or undefined is written as is, and an object or array as JSON, cut to `maxChars` with an
 * ellipsis so a large value (a bank, a long array) cannot flood a log line.
 */

/** Longest quoted value, in characters, before it is cut. */
export const SHOW_VALUE_MAX_CHARS = 80;

/** `value` written readably for an error message (see the header); never throws. */
export function showValue(value: unknown, maxChars = SHOW_VALUE_MAX_CHARS): string {
  return cut(written(value), maxChars);
}

function written(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `'${value}'`;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
    case 'symbol':
      return String(value);
    case 'function':
      return `function ${value.name || '(anonymous)'}`;
  }
  if (value === null) return 'null';
  try {
    // JSON writes NaN and Infinity as null and cannot write a bigint: keep what they are.
    const json = JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'bigint' || (typeof v === 'number' && !Number.isFinite(v)) ? String(v) : v,
    );
    if (json !== undefined) return json;
  } catch {
    // A cycle: say what kind of object it is instead.
  }
  return Object.prototype.toString.call(value);
}

function cut(s: string, maxChars: number): string {
  const max = Math.max(2, Math.floor(maxChars));
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
