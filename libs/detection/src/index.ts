export * from './metrics/index.js';
export * from './dataset/index.js';
export * from './calibration/index.js';
export * from './components/feature-maps.js';
export * from './components/gaussian-blur.js';
export * from './components/kcenter-greedy.js';
export * from './components/multivariate-gaussian.js';
export * from './windows.js';
