/** Log-mel parts fused with the backbone's method: the context memory and the tonal envelope. */
export * from './context-memory.js';
export * from './tonal-envelope.js';
