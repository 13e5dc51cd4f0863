/** Log-mel parts fused with the backbone's method: the context memory, the tonal envelope, the modulation spectrum,
 * the impulse train. */
export * from './context-memory.js';
export * from './tonal-envelope.js';
export * from './modulation-spectrum.js';
export * from './impulse-train.js';
