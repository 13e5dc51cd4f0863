/** Prometheus metrics of the server. */
export * from './hark.metrics.js';
