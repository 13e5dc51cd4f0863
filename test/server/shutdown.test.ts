/**
 * A clean stop (issue 18 M4): SIGTERM to a `hark serve` child while a `hark sensor` streams to it exits 0
 * within the grace period, leaves no WAL behind, keeps the scores written up to the signal, and the sensor
 * takes the stop as "reconnect" (it says why) and finishes its stream on the server started again.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeSynthDataset } from '@hark/dsp';
import { fitFromFolder, runSensor, serveChild, startServer, tempDir } from '../support/server.js';

const root = tempDir('shutdown-synth');
const dataDir = tempDir('shutdown-data');
const children: ChildProcess[] = [];

beforeAll(() => {
  writeSynthDataset(root, {
    machines: ['pump'],
    trainClips: 12,
    testClips: 0,
    clipSeconds: 5,
    streamSeconds: 30,
  });
}, 120_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts `hark serve` on the data directory; resolves with its URL, its exit and its output so far. */
async function serve(port: number) {
  const served = await serveChild(['--port', String(port), '--data', dataDir]);
  children.push(served.child);
  return served;
}

const scoreRows = (): number => {
  const db = new Database(join(dataDir, 'hark.db'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM scores').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('clean shutdown', () => {
  test('SIGTERM while a sensor streams: exit 0, no WAL, scores kept, the sensor reconnects', async () => {
    const s = await startServer({ dataDir });
    await fitFromFolder(s, 'pump-1', join(root, 'synth_pump', 'train'));
    const sensorToken = await s.token('sensor');
    await s.close();

    const first = await serve(0);
    const port = Number(new URL(first.url).port);
    const sensor = runSensor([
      '--server',
      first.url,
      '--id',
      'pump-1',
      '--token',
      sensorToken,
      '--wav',
      join(root, 'synth_pump', 'stream.wav'),
      '--speed',
      '2',
    ]);
    // Let it stream and score for a while (the stream lasts 15 s at this speed).
    await new Promise((r) => setTimeout(r, 5000));
    expect(sensor.child.exitCode).toBeNull();
    first.child.kill('SIGTERM');
    const code = await first.exited;
    expect(code, first.out()).toBe(0);
    expect(first.out()).toMatch(/SIGTERM: stopping the server/);
    expect(first.out()).toMatch(/server stopped cleanly/);
    const wal = join(dataDir, 'hark.db-wal');
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
    const scored = scoreRows();
    expect(scored).toBeGreaterThan(0);

    // The sensor kept going; it reconnects to the server started again on the same port and finishes.
    expect(sensor.child.exitCode).toBeNull();
    const second = await serve(port);
    const run = await sensor.done;
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/server shutting down \(SIGTERM\)/);
    second.child.kill('SIGINT');
    expect(await second.exited, second.out()).toBe(0);
    expect(scoreRows()).toBeGreaterThan(scored);
  }, 600_000);
});
