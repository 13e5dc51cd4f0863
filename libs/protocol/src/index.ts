/**
 * @hark/protocol: what the hark server, its dashboard, the `hark` command and operators' scripts agree on:
 * the wire contracts, the roles, the sensor-id rule and the shared limits. No runtime dependencies; it runs
 * in Node and in the browser.
 */
export * from './contracts.js';
export * from './roles.js';
export * from './sensor-id.js';
export * from './limits.js';
export * from './history.js';
export * from './notifications.js';
export * from './sensor-state.js';
export * from './assets.js';
