/** Token secrets, hashing, roles, the service that issues and checks them, and the socket handshake's refusal. */
export * from './token.service.js';
export * from './tokens.js';
export * from './handshake.js';
