/**
 * Live burn-in across a hard kill (issue 13, item 1): a `hark serve` process collecting a burn-in is killed
 * with SIGKILL; the next server on the same data directory resumes from the windows written with the
 * progress (every 50) instead of collecting again from zero, and the burn-in finishes with them counted.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { writeSynthDataset } from '@hark/dsp';
import type { Alert, ModelBurnIn, Page } from '@hark/protocol';
import { SYNTH_STREAM_FIT_CONFIG } from '../support/models.js';
import {
  apiCall,
  fitFromFolder,
  runSensor,
  serveChild,
  SCORE_EVERY_WINDOW,
  startServer,
  tempDir,
  until,
  type TestServer,
} from '../support/server.js';

const SENSOR = 'burn-r';
const root = tempDir('burn-in-restart-synth');
const dataDir = tempDir('burn-in-restart-data');
const stream = join(root, 'synth_pump', 'stream.wav');
let s: TestServer | null = null;

beforeAll(() => {
  // 40 s of normal pump (the first anomaly would be at 1000 s: none).
  writeSynthDataset(root, {
    machines: ['pump'],
    trainClips: 12,
    testClips: 0,
    clipSeconds: 5,
    streamSeconds: 40,
    firstAnomalySeconds: 1000,
  });
});

afterAll(async () => {
  await s?.close();
});

const sensorArgs = (url: string, token: string) => [
  '--server',
  url,
  '--id',
  SENSOR,
  '--token',
  token,
  '--wav',
  stream,
  '--speed',
  '2',
];

test('a burn-in collecting when its server is killed resumes on the next start from the windows written', async () => {
  // Fitted from an upload (so it burns in), then the server stops; `hark serve` takes over the data directory.
  const fitter = await startServer({ dataDir, burnInWindows: 100, fitConfig: SYNTH_STREAM_FIT_CONFIG });
  const admin = fitter.admin;
  await fitFromFolder(fitter, SENSOR, join(root, 'synth_pump', 'train'));
  const token = (await fitter.server.tokens.create('sensor', 'burn-in restart', [SENSOR])).token;
  await fitter.close();

  const first = await serveChild(['--port', '0', '--data', dataDir, '--burn-in-windows', '100']);
  const path = `/api/sensors/${SENSOR}/models/1/burn-in`;
  const sensor = runSensor(sensorArgs(first.url, token));
  let live = 0;
  await until(
    'the first server to collect 60 windows (its progress written at 50)',
    async () => (live = (await apiCall<ModelBurnIn>(first.url, admin, path)).windows) >= 60,
    120_000,
  );
  await new Promise((r) => setTimeout(r, 300)); // the progress write of window 50 is on its way
  first.child.kill('SIGKILL');
  await first.exited;
  sensor.child.kill('SIGKILL');
  await sensor.done;
  const restartAt = Date.now();

  s = await startServer({ dataDir, burnInWindows: 100, ...SCORE_EVERY_WINDOW }, admin);
  const resumed = await s.api<ModelBurnIn>(path);
  // 50 written before the kill (not the up to 49 after, held in memory only); a restart used to give 0.
  expect(live).toBeGreaterThanOrEqual(60);
  expect(resumed).toMatchObject({ state: 'collecting', target: 100, windows: 50 });
  expect(resumed.spanStart).not.toBeNull();
  expect(resumed.spanStart!).toBeLessThan(restartAt);
  expect(s.logs).toContain(`burn-in: ${SENSOR} version 1: resuming from 50 of 100 windows`);

  // The sensor streams again: 50 more windows finish it (80 in the recording).
  const again = await runSensor(sensorArgs(s.url, token)).done;
  expect(again.code, again.out).toBe(0);
  await s.server.sensors.scheduler.idle();
  let done: ModelBurnIn | null = null;
  await until(
    'the burn-in to finish',
    async () => {
      done = await s!.api<ModelBurnIn>(path);
      // The recording is normal sound only: an alert in the span is a false alarm, and a full burn-in waits
      // for its label (as an operator would give it).
      if (done.reason?.startsWith('waiting for alert'))
        for (const a of (await s!.api<Page<Alert>>(`/api/alerts?sensorId=${SENSOR}&kind=anomaly`)).items)
          if (!a.annotations.length)
            await s!.api(`/api/alerts/${a.id}/annotations`, {
              method: 'POST',
              body: JSON.stringify({ label: 'false alarm', text: 'normal-only recording' }),
            });
      return done.state !== 'collecting';
    },
    60_000,
  );
  expect(done!).toMatchObject({ state: 'applied', target: 100, windows: 100 });
  // Its span starts with the first server's windows.
  expect(done!.spanStart).toBe(resumed.spanStart);
}, 600_000);
