export * from './machine.js';
export * from './dataset.js';
export { Random } from './random.js';
