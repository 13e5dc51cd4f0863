export { alsaSource, arecordArgs, type AlsaOptions } from './alsa.js';
export { monotonicClock, type Clock } from './clock.js';
export { pacedSource, wavSource, type PacedOptions } from './paced.js';
export { PushSource } from './push.js';
export { readableSource, stdinSource, type ReadableSourceOptions } from './readable.js';
