export * from './wav-encode.js';
export * from './synth/index.js';
