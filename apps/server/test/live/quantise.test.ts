import { describe, expect, it } from 'vitest';
import {
  buildColumnsEvent,
  bytesToBase64,
  decodeColumnsEvent,
  DEFAULT_DB_RANGE,
  dequantiseDb,
  quantiseAnomaly,
  quantiseDb,
} from '../../src/live/quantise.js';
import { noise } from '../ingest/helpers.js';

describe('column quantisation', () => {
  it('maps the dB range onto bytes 0..255, clamping outside it', () => {
    expect(DEFAULT_DB_RANGE).toEqual([-100, 40]);
    expect(Array.from(quantiseDb([-100, 40, -30, -200, 90, NaN]))).toEqual([0, 255, 128, 0, 255, 0]);
    expect(Array.from(quantiseDb([0, 10], [0, 10]))).toEqual([0, 255]);
    expect(() => quantiseDb([0], [5, 5])).toThrow('dbRange ([5, 5]) must have dbRange[1] > dbRange[0]');
  });

  it('puts the threshold at 255 / anomalyScale', () => {
    expect(Array.from(quantiseAnomaly([0, 1, 2, 3, -1, 0.5]))).toEqual([0, 128, 255, 255, 0, 64]);
    expect(Array.from(quantiseAnomaly([1], 4))).toEqual([64]);
  });

  it('round-trips within half a step', () => {
    const db = Float32Array.from(noise(1000, 70), (x) => x - 30);
    const back = dequantiseDb(quantiseDb(db));
    const step = 140 / 255;
    for (let i = 0; i < db.length; i++)
      expect(Math.abs(back[i] - db[i])).toBeLessThanOrEqual(step / 2 + 1e-4);
  });

  it('builds a ColumnsEvent and decodes it back', () => {
    const db = Float32Array.from([-100, 40, -30, 0, 10, 20]);
    const anomaly = Float32Array.from([0, 1, 2, 0.5, 0.25, 1.5]);
    const e = buildColumnsEvent({
      sensorId: 's',
      t0: 5,
      hopSeconds: 0.016,
      nMels: 3,
      db,
      anomaly,
      scored: true,
    });
    expect(e).toMatchObject({
      sensorId: 's',
      t0: 5,
      nMels: 3,
      nColumns: 2,
      dbRange: [-100, 40],
      anomalyScale: 2,
      scored: true,
    });
    expect(Array.from(e.anomaly)).toEqual([0, 128, 255, 64, 32, 191]);
    const back = decodeColumnsEvent(e);
    back.anomaly.forEach((a, i) => expect(Math.abs(a - anomaly[i])).toBeLessThanOrEqual(1 / 255 + 1e-6));
    back.db.forEach((d, i) => expect(Math.abs(d - db[i])).toBeLessThanOrEqual(140 / 510 + 1e-4));
    const unscored = buildColumnsEvent({
      sensorId: 's',
      t0: 5,
      hopSeconds: 0.016,
      nMels: 3,
      db,
      anomaly: null,
      scored: false,
    });
    expect(Array.from(unscored.anomaly)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() =>
      buildColumnsEvent({ sensorId: 's', t0: 0, hopSeconds: 1, nMels: 4, db, anomaly: null, scored: false }),
    ).toThrow('db has 6 values, not a whole number of 4-mel columns');
    expect(bytesToBase64(new Uint8Array([0, 255, 128]))).toBe('AP+A');
  });
});
