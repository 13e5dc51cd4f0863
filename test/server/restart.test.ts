/**
 * Nothing an operator did is lost across restarts, clean or not: the server is stopped and started again on
 * the same data directory, and a `hark serve` process is killed with SIGKILL right after it answered.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeSynthDataset } from '@hark/dsp';
import type { Alert, ModelStatus, Page, SensorStatus } from '@hark/protocol';
import {
  apiCall,
  fitFromFolder,
  HARK_BIN,
  runSensor,
  serveChild,
  startServer,
  tempDir,
  type TestServer,
} from '../support/server.js';

const root = tempDir('restart-synth');
const dataDir = tempDir('restart-data');
let operator: string;
let alertId: number;
let fittedAt: string | null;
let admin: string;

beforeAll(async () => {
  writeSynthDataset(root, {
    machines: ['pump'],
    trainClips: 12,
    testClips: 0,
    clipSeconds: 5,
    streamSeconds: 30,
  });
}, 120_000);

describe('restarts', () => {
  let s: TestServer | null = null;
  afterAll(async () => {
    await s?.close();
  });

  test('a clean restart keeps tokens, models, alerts, acknowledgements and annotations', async () => {
    s = await startServer({ dataDir });
    admin = s.admin;
    const model = await fitFromFolder(s, 'pump-1', join(root, 'synth_pump', 'train'));
    fittedAt = model.fittedAt;
    operator = await s.token('operator', 'alice');
    const sensor = await s.token('sensor');
    const run = runSensor([
      '--server',
      s.url,
      '--id',
      'pump-1',
      '--token',
      sensor,
      '--wav',
      join(root, 'synth_pump', 'stream.wav'),
      '--speed',
      '4',
    ]);
    expect((await run.done).code).toBe(0);
    await s.server.sensors.scheduler.idle();
    const page = await s.api<Page<Alert>>('/api/alerts?sensorId=pump-1&kind=anomaly');
    expect(page.total).toBeGreaterThan(0);
    alertId = page.items.at(-1)!.id;
    await s.api(`/api/alerts/${alertId}/ack`, { method: 'POST', token: operator });
    await s.api(`/api/alerts/${alertId}/annotations`, {
      method: 'POST',
      token: operator,
      body: JSON.stringify({ label: 'maintenance', text: 'bearing greased at 10:00' }),
    });
    await s.close();
    s = null;

    s = await startServer({ dataDir }, admin);
    // A second start creates no other admin token.
    expect(s.server.adminToken).toBeNull();
    const again = await apiCall<Alert>(s.url, operator, `/api/alerts/${alertId}`);
    expect(again).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'alice', active: false });
    expect(again.annotations).toEqual([
      expect.objectContaining({ label: 'maintenance', text: 'bearing greased at 10:00', author: 'alice' }),
    ]);
    const m = await apiCall<ModelStatus>(s.url, operator, '/api/sensors/pump-1/model');
    expect(m).toMatchObject({ state: 'ready', fittedAt, source: 'upload' });
    const st = await apiCall<SensorStatus>(s.url, operator, '/api/sensors/pump-1');
    expect(st).toMatchObject({ connected: false, state: 'disconnected' });
    const wav = new Uint8Array(await apiCall<ArrayBuffer>(s.url, operator, `/api/alerts/${alertId}/audio`));
    expect(String.fromCharCode(...wav.subarray(0, 4))).toBe('RIFF');
    await s.close();
    s = null;
  }, 600_000);

  test('a hard kill right after an answer loses nothing', async () => {
    expect(alertId).toBeGreaterThan(0);
    const { child, url, exited } = await serveChild(['--port', '0', '--data', dataDir]);
    // `hark token create` writes to the same database while the server runs; the token works at once.
    const created = JSON.parse(
      execFileSync(
        process.execPath,
        [HARK_BIN, 'token', 'create', '--role', 'operator', '--name', 'bob', '--data', dataDir, '--json'],
        {
          encoding: 'utf8',
        },
      ),
    ) as { token: string; role: string };
    expect(await apiCall(url, created.token, '/api/me')).toEqual({ name: 'bob', role: 'operator' });
    expect(() =>
      execFileSync(
        process.execPath,
        [HARK_BIN, 'token', 'create', '--role', 'root', '--name', 'x', '--data', dataDir],
        {
          stdio: 'pipe',
        },
      ),
    ).toThrow(/role 'root' must be one of sensor, operator, admin/);

    await apiCall(url, operator, `/api/alerts/${alertId}/annotations`, {
      method: 'POST',
      body: JSON.stringify({ label: 'true fault', text: 'confirmed on site' }),
    });
    await apiCall(url, operator, `/api/alerts/${alertId}/resolve`, { method: 'POST' });
    child.kill('SIGKILL');
    await exited;

    s = await startServer({ dataDir }, admin);
    const a = await apiCall<Alert>(s.url, operator, `/api/alerts/${alertId}`);
    expect(a).toMatchObject({ state: 'resolved', resolvedBy: 'alice' });
    expect(a.annotations.map((n) => n.label)).toEqual(['maintenance', 'true fault']);
  }, 300_000);
});
