/**
 * A clean stop (issue 18 M4): SIGTERM to a `hark serve` child while a `hark sensor` streams to it exits 0
 * within the grace period, leaves no WAL behind, keeps the scores written up to the signal, and the sensor
 * takes the stop as "reconnect" (it says why) and finishes its stream on the server started again.
 *
 * And when the stop cannot finish (a client holds a request open: an upload whose body never completes), the
 * grace period (`--shutdown-grace`) or a second signal ends the process with exit 1 and a line saying so, and
 * the next start takes over the data directory.
 */
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeSynthDataset } from '@hark/dsp';
import type { SensorStatus } from '@hark/protocol';
import {
  apiCall,
  runSensor,
  serveChild,
  sleep,
  startServer,
  tempDir,
  waitForModel,
} from '../support/server.js';
import { placeSynthPumpModel } from '../support/models.js';

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
    await placeSynthPumpModel(dataDir, 'pump-1');
    const s = await startServer({ dataDir });
    await waitForModel(s, 'pump-1', 60_000);
    const sensorToken = await s.token('sensor');
    const admin = s.admin;
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
    // Let it stream until some windows are scored (the stream lasts 15 s at this speed); a fixed wait was
    // too short on a loaded machine, where the sensor process itself takes seconds to start.
    for (let i = 0; ; i++) {
      const st = await apiCall<SensorStatus>(first.url, admin, '/api/sensors/pump-1').catch(() => null);
      if (st && st.windowsScored >= 4) break;
      if (i > 300) throw new Error(`pump-1 scored no 4 windows within 60 s: ${JSON.stringify(st)}`);
      await sleep(200);
    }
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

/**
 * Starts an admin's model upload that never sends the rest of its body: the request stays in flight, so a
 * clean stop waits for it. Resolves once the server has started reading it.
 */
async function hangingUpload(url: string, admin: string): Promise<{ abort(): void }> {
  const req = request(`${url}/api/sensors/pump-9/model`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${admin}`,
      'content-type': 'multipart/form-data; boundary=x',
      'content-length': String(10 * 1024 * 1024),
    },
  });
  req.on('error', () => {}); // the server goes away under it
  req.write('--x\r\nContent-Disposition: form-data; name="files"; filename="a.wav"\r\n\r\n');
  req.write(Buffer.alloc(64 * 1024));
  await sleep(500);
  return { abort: () => req.destroy() };
}

describe('a stop that cannot finish', () => {
  /** A data directory with an admin token, and its `hark serve` child started with `args`. */
  async function serveFresh(args: string[]) {
    const dir = tempDir('shutdown-stuck');
    const s = await startServer({ dataDir: dir, dashboardDir: null });
    const admin = s.admin;
    await s.close();
    const served = await serveChild(['--port', '0', '--data', dir, ...args]);
    children.push(served.child);
    return { dir, admin, served };
  }

  test('outlasts --shutdown-grace: exit 1 with a line saying so; the next start takes over', async () => {
    const { dir, admin, served } = await serveFresh(['--shutdown-grace', '1']);
    const upload = await hangingUpload(served.url, admin);
    const signalled = Date.now();
    served.child.kill('SIGTERM');
    const code = await served.exited;
    const took = Date.now() - signalled;
    upload.abort();
    expect(code, served.out()).toBe(1);
    expect(served.out()).toMatch(/SIGTERM: stopping the server \(grace 1 s/);
    expect(served.out()).toMatch(
      /the server did not stop within 1 s of SIGTERM \(--shutdown-grace\): exiting without a clean stop/,
    );
    expect(served.out()).not.toMatch(/server stopped cleanly/);
    // It waited for the grace period, not much longer.
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(15_000);

    const again = await serveChild(['--port', '0', '--data', dir]);
    children.push(again.child);
    expect(again.out()).toMatch(/took over the lock of .* left by hark pid \d+/);
    again.child.kill('SIGTERM');
    expect(await again.exited, again.out()).toBe(0);
  }, 120_000);

  test('a second signal during the stop: exit 1 at once, with a line saying so', async () => {
    const { admin, served } = await serveFresh([]);
    const upload = await hangingUpload(served.url, admin);
    served.child.kill('SIGTERM');
    for (let i = 0; i < 100 && !/SIGTERM: stopping the server/.test(served.out()); i++) await sleep(50);
    expect(served.out()).toMatch(
      /SIGTERM: stopping the server \(grace 10 s; a second signal exits at once\)/,
    );
    const signalled = Date.now();
    served.child.kill('SIGINT');
    const code = await served.exited;
    upload.abort();
    expect(code, served.out()).toBe(1);
    expect(served.out()).toMatch(/SIGINT during the stop after SIGTERM: exiting now, without a clean stop/);
    expect(served.out()).not.toMatch(/server stopped cleanly/);
    // At once: well before the 10 s grace period would have ended it.
    expect(Date.now() - signalled).toBeLessThan(5000);
  }, 120_000);
});
