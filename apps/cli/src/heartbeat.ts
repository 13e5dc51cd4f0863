import { Worker } from 'node:worker_threads';

/**
 * A watchdog for progress off a terminal: some steps report nothing while they run (PatchCore's coreset is
 * one synchronous native call: 49 s for 20 clips here, growing with the square of the clips), and they block
 * the event loop, so no timer of the main thread can speak for them. A worker thread, with its own loop,
 * writes a line straight to the file descriptor whenever `quietSeconds` pass without a report, so a log or a
 * CI job never sits silent.
 */
export interface Heartbeat {
  /** The main thread made progress now. */
  beat(): void;
  stop(): void;
}

export interface HeartbeatOptions {
  /** Seconds without a report before a line, and between two lines (default 10). */
  quietSeconds?: number;
  /** How often the worker looks, in ms (default 1000). */
  checkMs?: number;
}

// A plain script (eval), so it runs the same from src/ under vitest and from dist/.
const WORKER = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { fd, shared, quietMs, checkMs } = workerData;
const last = new Float64Array(shared, 8, 1);
const stop = new Int32Array(shared, 0, 1);
let spoke = 0;
while (Atomics.wait(stop, 0, 0, checkMs) === 'timed-out') {
  const now = Date.now();
  const quiet = now - last[0];
  if (quiet >= quietMs && now - spoke >= quietMs) {
    spoke = now;
    try {
      writeSync(fd, 'still working: ' + Math.floor(quiet / 1000) + ' s since the last progress report\\n');
    } catch {}
  }
}
`;

/** Starts the watchdog on file descriptor `fd` (2 = stderr). */
export function startHeartbeat(fd: number, o: HeartbeatOptions = {}): Heartbeat {
  const shared = new SharedArrayBuffer(16);
  const stop = new Int32Array(shared, 0, 1);
  const last = new Float64Array(shared, 8, 1);
  last[0] = Date.now();
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { fd, shared, quietMs: 1000 * (o.quietSeconds ?? 10), checkMs: o.checkMs ?? 1000 },
    stdout: false,
    stderr: false,
  });
  worker.unref(); // never keeps the process alive
  return {
    beat: () => {
      last[0] = Date.now();
    },
    stop: () => {
      Atomics.store(stop, 0, 1);
      Atomics.notify(stop, 0);
    },
  };
}
