/**
 * The spectrogram history fed by the live path: a sensor streams to the real server (no model, so its columns
 * go out unscored), the history route answers them at full resolution while they are still being recorded, and
 * a clean stop writes the unfinished blocks of every tier to the data directory.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SensorHistory } from '@hark/protocol';
import { HarkStore } from '@hark/server';
import { TestSensor } from '../support/sensor.js';
import { startServer, type TestServer } from '../support/server.js';

describe('history from the live path', () => {
  let s: TestServer;
  let sensor: TestSensor;
  let closed = false;
  const started = Date.now();

  beforeAll(async () => {
    s = await startServer();
    const token = await s.token('sensor', 'mic-1');
    sensor = await TestSensor.open(s.url, token, 'mic-1');
  });
  afterAll(async () => {
    sensor?.socket.close();
    if (!closed) await s?.close();
  });

  test('streamed columns are in the history at full resolution, and on disk after a clean stop', async () => {
    await sensor.stream(4, 0.3);
    const operator = await s.token('operator', 'ops');
    // The sensor streams faster than real time: its stream time runs ahead of the wall clock.
    const to = Date.now() + 120_000;
    let h: SensorHistory | null = null;
    await expect
      .poll(
        async () => {
          h = await s.api<SensorHistory>(`/api/sensors/mic-1/history?from=${started - 60_000}&to=${to}`, {
            token: operator,
          });
          return h.times.length;
        },
        { timeout: 15_000 },
      )
      .toBeGreaterThan(150);
    expect(h!).toMatchObject({ tier: 'full', nMels: 128 });
    expect(h!.tierHopMs).toBeCloseTo(16, 6);
    // The band centres of the sensor's layout (16 kHz, 128 mels up to 8 kHz), for the axis in Hz.
    expect(h!.melHz).toHaveLength(128);
    expect(h!.melHz[0]).toBeGreaterThanOrEqual(0);
    expect(h!.melHz[127]).toBeLessThanOrEqual(8000);
    expect(h!.melHz.every((hz, i) => i === 0 || hz > h!.melHz[i - 1])).toBe(true);
    // Real sound, not an empty picture: noise at 0.3 of full scale is far above the byte scale's floor.
    const spec = Buffer.from(h!.spectrogram, 'base64');
    expect(spec.reduce((a, b) => a + b, 0) / spec.length).toBeGreaterThan(100);

    sensor.socket.close();
    await s.close();
    closed = true;
    const store = new HarkStore(s.server.config.dataDir);
    try {
      await store.history.load();
      for (const tier of [0, 1, 2] as const) expect(store.history.bytes(tier)).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});
