// Fits a detector in a worker thread, so the server's event loop keeps ingesting and scoring meanwhile.
// Plain JavaScript on purpose: it runs the built libraries (dist/) in tests and in production alike.
// workerData: {files: string[], config: DetectorConfigInput, outDir: string, source: object}
// Messages: {type: 'progress', stage, done, total} | {type: 'done'} | {type: 'error', message}
import { parentPort, workerData } from 'node:worker_threads';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fitDetector, readClip, resolveDetectorConfig, saveModel } from '@hark/detection';

const post = (m) => parentPort.postMessage(m);
try {
  const { files, config: input, outDir, source } = workerData;
  const config = resolveDetectorConfig(input);
  const clips = [];
  for (const [i, f] of files.entries()) {
    clips.push(await readClip(f, config.mel.sampleRate));
    post({ type: 'progress', stage: 'spectrogram', done: i + 1, total: files.length });
  }
  const detector = await fitDetector(clips, config, (stage, done, total) =>
    post({ type: 'progress', stage, done, total }),
  );
  post({ type: 'progress', stage: 'saving', done: 0, total: 1 });
  await writeFile(join(outDir, 'source.json'), `${JSON.stringify(source, null, 1)}\n`);
  await saveModel(detector, outDir);
  await detector.release();
  post({ type: 'done' });
} catch (err) {
  post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
}
