/** @hark/cli as a library: the sensor client (for tests, benchmarks and embedding) and the command tree. */
export * from './sensor/index.js';
export { buildProgram } from './program.js';
