/**
 * Per-sensor stream processing (plain classes, no Nest): protocol validation and PCM decoding, sequence
 * checks, {@link SensorStream} (resampling, log-mel, rings, meter, windows), the {@link ScoringScheduler},
 * alert hysteresis ({@link AlertTracker}, {@link SilenceTracker}), column quantisation and the
 * {@link ColumnEmitter}. Time convention: see `timing.ts`.
 */
export * from './errors.js';
export * from './pcm.js';
export * from './sequence.js';
export * from './timing.js';
export * from './rings.js';
export * from './meter.js';
export * from './sensor-stream.js';
export * from './scheduler.js';
export * from './alert-tracker.js';
export * from './quantise.js';
export * from './column-emitter.js';
