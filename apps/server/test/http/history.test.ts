import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, SensorHistory, SensorTrends } from '@hark/protocol';
import { startHarness, type Harness } from './harness.js';

const M = 8;

describe('GET /api/sensors/:id/history', () => {
  let h: Harness;
  const end = Math.floor(Date.now() / 1000) * 1000;
  beforeAll(async () => {
    h = await startHarness();
    h.store.sensors.upsert('pump-1', 1000);
    // Five minutes at 50 ms per column, one hot column at 200 s.
    for (let i = 0; i < 6000; i += 10) {
      const spectrogram = new Uint8Array(10 * M).fill(100);
      const anomaly = new Uint8Array(10 * M);
      if (i === 4000) anomaly.fill(255, 0, M);
      h.history.columns({
        sensorId: 'pump-1',
        t0: end - 300_000 + i * 50,
        hopSeconds: 0.05,
        nMels: M,
        nColumns: 10,
        spectrogram,
        anomaly,
        dbRange: [-100, 40],
        anomalyScale: 2,
        scored: true,
      });
    }
    h.history.flush();
  });
  afterAll(() => h.close());

  it('answers full resolution for a short range and the reduced tier for a long one, with the alerts', async () => {
    const alert = h.alert('pump-1', end - 100_000);
    const short = await h.call<SensorHistory>(
      `/api/sensors/pump-1/history?from=${end - 110_000}&to=${end - 90_000}`,
      { token: h.operator },
    );
    expect(short.status).toBe(200);
    expect(short.body).toMatchObject({ tier: 'full', columnMs: 50, nMels: M, tierHopMs: 50 });
    expect(short.body.times).toHaveLength(400);
    // The stored columns have 8 bands, the sensor's (default) layout 128: no band centres to label them with.
    expect(short.body.melHz).toEqual([]);
    const anomaly = Buffer.from(short.body.anomaly, 'base64');
    expect(anomaly[200 * M]).toBe(255);
    expect(short.body.alerts.map((a) => a.id)).toEqual([alert.id]);

    const long = await h.call<SensorHistory>(
      `/api/sensors/pump-1/history?from=${end - 300_000}&to=${end}&maxColumns=60`,
    );
    expect(long.body).toMatchObject({ tier: 'reduced', columnMs: 5000, tierHopMs: 500 });
    expect(long.body.times).toHaveLength(60);
    // The hot column survives the max: reduced window 400, output column 40.
    expect(Buffer.from(long.body.anomaly, 'base64')[40 * M]).toBe(255);
  });

  it('defaults to the last hour; checks the query, the sensor and the role', async () => {
    const last = await h.call<SensorHistory>('/api/sensors/pump-1/history');
    expect(last.body.to - last.body.from).toBe(3600_000);
    const bad = await h.call<ApiError>(`/api/sensors/pump-1/history?from=${end}&to=${end - 1}`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe(`from (${end}) must be before to (${end - 1})`);
    const many = await h.call<ApiError>('/api/sensors/pump-1/history?maxColumns=100000');
    expect(many.body.message).toBe("maxColumns ('100000') must be an integer in 1..8000");
    expect((await h.call('/api/sensors/nope/history')).status).toBe(404);
    expect((await h.call('/api/sensors/pump-1/history', { token: h.sensor })).status).toBe(403);
  });
});

describe('GET /api/sensors/:id/trends', () => {
  let h: Harness;
  const DAY = 24 * 3600_000;
  const today = Math.floor(Date.now() / DAY) * DAY;
  beforeAll(async () => {
    h = await startHarness();
    h.store.sensors.upsert('fan-2', 1000);
    // Two days ago: 0.1 .. 1.0; yesterday: 0.2 .. 1.1 (drifting up); nothing today.
    for (let i = 1; i <= 10; i++) {
      h.store.scores.append('fan-2', today - 2 * DAY + i * 1000, i / 10);
      h.store.scores.append('fan-2', today - DAY + i * 1000, i / 10 + 0.1);
    }
  });
  afterAll(() => h.close());

  it('answers daily percentiles and alert counts, and keeps whole days after their points are pruned', async () => {
    h.alert('fan-2', today - DAY + 5000);
    h.alert('fan-2', today - DAY + 9000);
    const res = await h.call<SensorTrends>('/api/sensors/fan-2/trends?days=3', { token: h.operator });
    expect(res.status).toBe(200);
    expect(res.body.days.map((d) => d.day)).toEqual([today - 2 * DAY, today - DAY, today]);
    const [d2, d1, d0] = res.body.days;
    expect(d2).toMatchObject({ n: 10, p50: 0.5, p90: 0.9, p99: 1, max: 1, alerts: 0 });
    expect(d1.p50).toBeCloseTo(0.6);
    expect(d1.max).toBeCloseTo(1.1);
    expect(d1.alerts).toBe(2);
    expect(d0).toEqual({ day: today, n: 0, p50: null, p90: null, p99: null, max: null, alerts: 0 });

    h.store.database.db.prepare('DELETE FROM scores').run();
    const again = await h.call<SensorTrends>('/api/sensors/fan-2/trends?days=3');
    expect(again.body.days.slice(0, 2)).toEqual([d2, d1]);

    const bad = await h.call<ApiError>('/api/sensors/fan-2/trends?days=0');
    expect(bad.body.message).toBe("days ('0') must be an integer in 1..366");
    expect((await h.call('/api/sensors/nope/trends')).status).toBe(404);
  });
});
