/**
 * The fitting worker: fits a detector on WAV files in a worker thread (`workers/fit-worker.mjs`, the built
 * libraries) so that scoring never waits for it, writing the model into a staging directory.
 */
import type { DetectorConfigInput } from '@hark/detection';
import { getNumThreads } from '@hark/native';
import type { FitProgressEvent } from '@hark/protocol';
import { startWorker } from '../worker-thread.js';

export interface FitJob {
  files: string[];
  config: DetectorConfigInput;
  /** The staging directory the model is written to. */
  outDir: string;
  /** Written beside the model as `source.json`. */
  source: unknown;
}

export type FitProgress = Pick<FitProgressEvent, 'stage' | 'done' | 'total'>;

/** Resolves when the worker has written the model, rejects with its error (or exit code). */
export function runFitWorker(job: FitJob, progress: (p: FitProgress) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const worker = startWorker(new URL('../../workers/fit-worker.mjs', import.meta.url), {
      workerData: job,
      // The addon's thread count is one per process: the worker's load of it must keep the server's
      // (scoring/search-threads.ts), not reset it to every core.
      env: { ...process.env, HARK_FAISS_THREADS: String(getNumThreads()) },
    });
    let settled = false;
    worker.on(
      'message',
      (m: { type: string; stage?: string; done?: number; total?: number; message?: string }) => {
        if (m.type === 'progress')
          progress({ stage: m.stage as FitProgressEvent['stage'], done: m.done ?? 0, total: m.total ?? 0 });
        else if (m.type === 'done') {
          settled = true;
          resolve();
        } else if (m.type === 'error') {
          settled = true;
          reject(new Error(m.message));
        }
      },
    );
    worker.on('error', (err) => {
      if (!settled) reject(err);
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`the fitting worker stopped with code ${code}`));
      settled = true;
    });
  });
}
