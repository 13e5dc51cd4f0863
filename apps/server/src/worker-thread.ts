/** How the server starts its worker threads (the fitting worker, the streams' DSP worker): see `@hark/dsp`. */
export { startWorker, withoutConditions } from '@hark/dsp';
