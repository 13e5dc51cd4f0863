// The live streams' resampling and log-mel in a worker thread (ingest/dsp-worker.ts drives it), so that the
// server's event loop keeps the sockets and the scoring. Plain JavaScript on purpose: it runs the built
// @hark/dsp in tests and in production alike.
// workerData: {port: MessagePort, replies: SharedArrayBuffer (Int32Array[1], replies posted so far)}
// Messages in (on `port`, in order): {op: 'open', pipe, inRate, mel} | {op: 'push', pipe, mono} |
//   {op: 'flush', pipe} | {op: 'reset', pipe} | {op: 'close', pipe}
// Replies (one per push and per flush, in order): {pipe, samples, columns, k0} | {pipe, error}
//   samples: the resampled audio; columns: the log-mel columns it completed, frame-major [n, nMels];
//   k0: the segment frame number of the first column. A flush ends the segment: the resampler's tail goes
//   through, then the resampler and the extractor restart.
import { workerData } from 'node:worker_threads';
import { analysisResampler, LogMelExtractor } from '@hark/dsp';

const { port, replies } = workerData;
const posted = new Int32Array(replies);
/** pipe id -> {resampler, extractor} */
const pipes = new Map();

function reply(m, transfer) {
  port.postMessage(m, transfer);
  Atomics.add(posted, 0, 1);
  Atomics.notify(posted, 0);
}

function run(pipe, id, samples) {
  const k0 = pipe.extractor.frames;
  const columns = pipe.extractor.push(samples);
  reply({ pipe: id, samples, columns, k0 }, [samples.buffer, columns.buffer]);
}

port.on('message', (m) => {
  const pipe = pipes.get(m.pipe);
  try {
    switch (m.op) {
      case 'open':
        pipes.set(m.pipe, {
          resampler: analysisResampler(m.inRate, m.mel.sampleRate),
          extractor: new LogMelExtractor(m.mel),
        });
        return;
      case 'push':
        if (!pipe) throw new Error(`no pipe ${m.pipe}`);
        run(pipe, m.pipe, pipe.resampler.push(m.mono));
        return;
      case 'flush':
        if (!pipe) throw new Error(`no pipe ${m.pipe}`);
        run(pipe, m.pipe, pipe.resampler.flush());
        pipe.resampler.reset();
        pipe.extractor.reset();
        return;
      case 'reset':
        pipe?.resampler.reset();
        pipe?.extractor.reset();
        return;
      case 'close':
        pipe?.resampler.dispose();
        pipes.delete(m.pipe);
        return;
      default:
        throw new Error(`unknown op ${String(m.op)}`);
    }
  } catch (err) {
    if (m.op === 'push' || m.op === 'flush')
      reply({ pipe: m.pipe, error: err instanceof Error ? err.message : String(err) });
    else throw err;
  }
});
