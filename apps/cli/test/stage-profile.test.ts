import { describe, expect, it } from 'vitest';
import { backboneWorkerThreads, loadBackbone } from '@hark/detection';
import { logMelSpectrogram } from '@hark/dsp';
import {
  attributeSamples,
  BACKBONE_WORKER_STAGE,
  eventLoopThreadCpuMs,
  OFF_LOOP_STAGE,
  PROFILE_STAGES,
  StageProfiler,
  summarise,
} from '../src/bench/stage-profile.js';

/** A CPU profile in V8's shape: `stacks` are root-to-leaf frames `[functionName, url]`, one sample each (1 ms). */
function profileOf(stacks: [string, string][][]) {
  const nodes: { id: number; callFrame: { functionName: string; url: string }; children: number[] }[] = [
    { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [] },
  ];
  const samples: number[] = [];
  for (const stack of stacks) {
    let at = nodes[0];
    for (const [functionName, url] of stack) {
      let next = at.children
        .map((c) => nodes[c - 1])
        .find((n) => n.callFrame.functionName === functionName && n.callFrame.url === url);
      if (!next) {
        next = { id: nodes.length + 1, callFrame: { functionName, url }, children: [] };
        nodes.push(next);
        at.children.push(next.id);
      }
      at = next;
    }
    samples.push(at.id);
  }
  return { nodes, samples, timeDeltas: samples.map(() => 1000) };
}

const SERVER = 'file:///x/apps/server/dist';
const DET = 'file:///x/libs/detection/dist';

describe('stage profile', () => {
  it('charges each sample to the innermost frame a rule knows, walking up from the leaf', () => {
    const sio: [string, string] = ['onmessage', 'file:///x/node_modules/engine.io/build/socket.js'];
    const ms = attributeSamples(
      profileOf([
        // log-mel inside the stream's audio handler inside socket.io: log-mel, not transport
        [
          sio,
          ['audio', `${SERVER}/ingest/sensor-stream.js`],
          ['process', 'file:///x/libs/dsp/dist/extractor.js'],
        ],
        // the resampler's WASM kernel
        [
          sio,
          ['audio', `${SERVER}/ingest/sensor-stream.js`],
          ['push', 'wasm://wasm/1f2e'],
          ['$filter', 'wasm://wasm/1f2e'],
        ],
        // the k-NN binding's own frames are the binding's, whoever called it
        [
          ['score', `${DET}/logmel/context-memory.js`],
          ['search', `${DET}/components/searched-indexes.js`],
          ['searchAsync', 'file:///x/native/dist/knn-index.js'],
          ['(anonymous)', ''],
        ],
        [
          ['score', `${DET}/logmel/context-memory.js`],
          ['dist', `${DET}/logmel/context-memory.js`],
        ],
        [
          ['score', `${DET}/patchcore/model.js`],
          ['pick', `${DET}/patchcore/model.js`],
        ],
        // the profiler's own collection is left out
        [
          ['post', 'node:inspector'],
          ['dispatch', ''],
        ],
        // a built-in under the fusion is fusion
        [
          ['scoreWindows', `${DET}/pipeline/detector.js`],
          ['from', ''],
        ],
        [['run', 'file:///x/node_modules/onnxruntime-node/dist/backend.js']],
        [
          ['standardise', `${DET}/pipeline/feature-extractor.js`],
          ['apply', `${DET}/pipeline/input-scaling.js`],
        ],
        [sio],
        [
          ['append', `${SERVER}/store/score.repository.js`],
          ['run', 'file:///x/node_modules/better-sqlite3/lib/x.js'],
        ],
        // a statement run from Kysely's driver (after an await: no store frame under it)
        [
          ['executeQuery', 'file:///x/node_modules/kysely/dist/esm/dialect/sqlite/sqlite-driver.js'],
          ['run', ''],
        ],
        [['(garbage collector)', '']],
        [['(idle)', '']],
        [['(idle)', '']],
        [['somewhere', 'node:internal/timers']],
      ]),
    );
    expect(Object.fromEntries(ms)).toEqual({
      'log-mel': 1,
      'decode and resample': 1,
      'k-NN search binding (event-loop part)': 1,
      'context memory': 1,
      'method scoring': 1,
      'fusion and map': 1,
      'backbone (ONNX) and patch features': 1,
      'window standardisation': 1,
      'socket.io and transport': 1,
      'SQLite writes': 2,
      'garbage collection (event loop)': 1,
      'other (event loop)': 1,
    });
  });

  it("scales the sampled shares to the event loop's CPU and puts the rest of the process's CPU off the loop", () => {
    const r = summarise(
      new Map([
        ['log-mel', 30],
        ['backbone (ONNX) and patch features', 90],
      ]),
      [],
      { processMs: 2000, loopMs: 1200, windows: 100, seconds: 10, lagMs: { p50: 1, p99: 5, max: 9 } },
    );
    expect(r.rows.map((x) => x.stage)).toEqual([...PROFILE_STAGES, BACKBONE_WORKER_STAGE, OFF_LOOP_STAGE]);
    expect(r.rows.find((x) => x.stage === BACKBONE_WORKER_STAGE)!.msPerWindow).toBe(0);
    const row = (s: string) => r.rows.find((x) => x.stage === s)!;
    expect(row('log-mel').msPerWindow).toBeCloseTo(3);
    expect(row('backbone (ONNX) and patch features').msPerWindow).toBeCloseTo(9);
    expect(row(OFF_LOOP_STAGE).msPerWindow).toBeCloseTo(8);
    expect(row(OFF_LOOP_STAGE).share).toBeCloseTo(0.4);
    expect(r.cpuMsPerWindow).toBeCloseTo(20);
    expect(r.eventLoopBusy).toBeCloseTo(0.12);
    expect(r.rows.reduce((s, x) => s + x.share, 0)).toBeCloseTo(1);
  });

  it("charges the backbone's worker threads their own row, out of the off-loop rest", () => {
    const r = summarise(new Map([['log-mel', 30]]), [], {
      processMs: 2000,
      loopMs: 1200,
      workerMs: 300,
      windows: 100,
      seconds: 10,
      lagMs: { p50: 1, p99: 5, max: 9 },
    });
    const row = (s: string) => r.rows.find((x) => x.stage === s)!;
    expect(row(BACKBONE_WORKER_STAGE).msPerWindow).toBeCloseTo(3);
    expect(row(BACKBONE_WORKER_STAGE).share).toBeCloseTo(0.15);
    expect(row(OFF_LOOP_STAGE).msPerWindow).toBeCloseTo(5);
    expect(r.rows.reduce((s, x) => s + x.share, 0)).toBeCloseTo(1);
  });

  it("reads a real backbone worker thread's CPU from the kernel", async () => {
    const b = await loadBackbone('mobilenetv2', { thread: 'worker' });
    try {
      expect(backboneWorkerThreads()).toHaveLength(1);
      expect(backboneWorkerThreads()[0]).not.toBe(process.pid);
      const profiler = new StageProfiler(backboneWorkerThreads);
      await profiler.start();
      const x = new Float32Array(128 * 128).map((_, i) => Math.sin(i));
      const until = performance.now() + 400;
      let runs = 0;
      while (performance.now() < until) {
        await b.run(x, 1, 128, 128);
        runs++;
      }
      const r = await profiler.stop(runs);
      // Each inference's CPU is the worker's (a ms or more); the loop only posts and takes the answers.
      const worker = r.rows.find((x) => x.stage === BACKBONE_WORKER_STAGE)!;
      expect(worker.msPerWindow).toBeGreaterThan(0.5);
      expect(worker.share).toBeGreaterThan(0.3);
    } finally {
      await b.release();
    }
    expect(backboneWorkerThreads()).toEqual([]);
  });

  it('profiles a real load: log-mel computed on the event loop is charged to log-mel', async () => {
    const samples = Float32Array.from(
      { length: 16000 * 4 },
      (_, i) => Math.sin(i * 0.01) + ((i * 7919) % 13) / 13,
    );
    const cpu0 = eventLoopThreadCpuMs();
    const profiler = new StageProfiler();
    await profiler.start(250);
    const until = performance.now() + 400;
    while (performance.now() < until) logMelSpectrogram(samples, {});
    // One turn of the loop after the block, so the lag histogram records it.
    await new Promise((r) => setTimeout(r, 30));
    const r = await profiler.stop(10);
    expect(eventLoopThreadCpuMs()).toBeGreaterThan(cpu0);
    expect(r.sampledMs).toBeGreaterThan(100);
    const logMel = r.rows.find((x) => x.stage === 'log-mel')!;
    const loopRows = r.rows.filter((x) => x.stage !== OFF_LOOP_STAGE);
    expect(logMel.msPerWindow).toBe(Math.max(...loopRows.map((x) => x.msPerWindow)));
    expect(r.lagMs.max).toBeGreaterThan(0);
    expect(r.hot[0].stage).toBe('log-mel');
    expect(r.hot[0].where).toMatch(/(\/dsp\/src\/\w+\.ts|fft\.js\/lib\/fft\.js):\d+$/);
  });
});
