/** @hark/server: the hark server (`createServer`) and its wire contracts. */
export * from './contracts.js';
export { createServer, defaultDashboardDir, type HarkServer } from './server.js';
export { resolveServerConfig, SERVER_DEFAULTS, type ServerConfig, type ServerOptions } from './config.js';
export { TokenService } from './auth/token.service.js';
export { HarkStore } from './store/store.js';
export { verifySignature } from './notify/signature.js';
