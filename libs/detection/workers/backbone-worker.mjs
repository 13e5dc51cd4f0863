// One backbone's onnxruntime session in a worker thread, so that the backbone's run leaves the event loop of
// the process that asks for it (src/backbones/session-runner.ts `WorkerRunner` drives it). Plain JavaScript on
// purpose: it needs only onnxruntime-node, in tests and in production alike.
// workerData: {model: Uint8Array (the ONNX model's bytes), options: onnxruntime session options}
// Posted once: {op: 'ready', tid} | {op: 'failed', error}
//   tid: this thread's kernel id (Linux: /proc/thread-self), so a profiler can read its CPU time; else null.
// Messages in, answered in order: {op: 'run', id, x: Float32Array, dims: number[]} -> {id, outputs} | {id, error}
//   outputs: {[name]: {data: Float32Array, dims: number[]}}, every output of the model.
//   {op: 'release'}: the session is released and the worker ends.
//   {op: 'crash'}: throws outside any request (tests only: the caller's recovery from a dead worker).
import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

let session;
try {
  session = await ort.InferenceSession.create(workerData.model, workerData.options);
} catch (err) {
  parentPort.postMessage({ op: 'failed', error: err instanceof Error ? err.message : String(err) });
  parentPort.close();
}

if (session) {
  // One request after another: a release waits for the runs asked before it.
  let last = Promise.resolve();
  parentPort.on('message', (m) => {
    if (m.op === 'crash') throw new Error('backbone worker: crash requested');
    if (m.op === 'release') last = last.then(() => session.release()).then(() => parentPort.close());
    else last = last.then(() => run(m));
  });
  parentPort.postMessage({ op: 'ready', tid: threadId() });
}

async function run(m) {
  try {
    const out = await session.run({ x: new ort.Tensor('float32', m.x, m.dims) });
    const outputs = {};
    const transfer = new Set();
    for (const [name, t] of Object.entries(out)) {
      outputs[name] = { data: t.data, dims: t.dims.map(Number) };
      transfer.add(t.data.buffer);
    }
    parentPort.postMessage({ id: m.id, outputs }, [...transfer]);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
}

function threadId() {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop()) || null;
  } catch {
    return null;
  }
}
