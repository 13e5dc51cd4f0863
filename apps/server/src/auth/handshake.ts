import type { LeaseRefusal } from '@hark/protocol';

/**
 * A socket.io handshake refused for its token (`/sensor`, `/live`): the client's `connect_error` carries
 * `message` and `data.code` = `UNAUTHORIZED`, which sensors and dashboards read to stop retrying.
 */
export function unauthorized(message: string): Error {
  return Object.assign(new Error(message), { data: { code: 'UNAUTHORIZED' } });
}

/** A `/sensor` handshake refused because the server knows as many sensors as it may (`HARK_MAX_SENSORS`). */
export function tooManySensors(message: string): Error {
  return Object.assign(new Error(message), { data: { code: 'TOO_MANY_SENSORS' } });
}

/**
 * A `/sensor` handshake refused because another instance of the cluster holds the sensor's lease
 * (`SENSOR_LEASED`) or Redis cannot be asked (`LEASE_UNAVAILABLE`): a sensor may try another server.
 */
export function leaseRefused(message: string, data: LeaseRefusal): Error {
  return Object.assign(new Error(message), { data });
}
