/**
 * The sensor-id rule, the one definition every part checks: the `/sensor` handshake, REST paths and queries,
 * the model folders (a sensor id names its folder `DATA/models/<id>/`) and the sensor client.
 */

export const SENSOR_ID_MAX_LENGTH = 64;

/** 1-64 characters of `[A-Za-z0-9._-]`, not only dots (`.` and `..` name folders, not sensors). */
export const SENSOR_ID = /^(?!\.+$)[A-Za-z0-9._-]{1,64}$/;

/** What a valid sensor id is, for messages that name the bad value before it. */
export const SENSOR_ID_RULE = 'must be 1-64 characters of A-Z a-z 0-9 . _ -';

export function isSensorId(value: unknown): value is string {
  return typeof value === 'string' && SENSOR_ID.test(value);
}

/** Null for a valid sensor id, else what is wrong with it (to follow the value in a message). */
export function sensorIdProblem(value: unknown): string | null {
  if (isSensorId(value)) return null;
  if (typeof value === 'string' && /^\.+$/.test(value))
    return `${SENSOR_ID_RULE}, not only dots ('.' and '..' name folders)`;
  return SENSOR_ID_RULE;
}
