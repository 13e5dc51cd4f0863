/** Token secrets, hashing, roles, and the service that issues and checks them. */
export * from './token.service.js';
export * from './tokens.js';
