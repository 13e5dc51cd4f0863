/**
 * How an error message names a value it refused. Any value from the wire must print without throwing: an
 * object whose `toString` is not a function makes `String(x)` throw, and that turned a bad `hello` into an
 * INTERNAL answer (found by the protocol fuzzer). Long values are cut so one message stays one line.
 */
const MAX_SHOWN = 80;

export function showValue(value: unknown): string {
  if (typeof value === 'string')
    return value.length > MAX_SHOWN
      ? `'${value.slice(0, MAX_SHOWN)}…' (${value.length} characters)`
      : `'${value}'`;
  let shown: string;
  if (value === undefined) shown = 'missing';
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    shown = String(value);
  else if (typeof value === 'function' || typeof value === 'symbol') shown = `a ${typeof value}`;
  else {
    try {
      shown = JSON.stringify(value) ?? typeof value;
    } catch {
      shown = Array.isArray(value) ? 'an array' : 'an object';
    }
  }
  return shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN - 1)}…` : shown;
}
