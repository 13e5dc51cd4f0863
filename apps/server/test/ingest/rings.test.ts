import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ColumnRing } from '../../src/ingest/rings.js';
import { quantiseAnomaly, quantiseDb } from '../../src/live/quantise.js';

const N_MELS = 4;

/** Any float32 a log-mel column or an anomaly map can hold, with the quantiser's edges and NaN. */
const value = fc.oneof(
  fc.float({ noDefaultInfinity: false }),
  fc.constantFrom(-100, 40, -100.00001, 39.99999, 0, 1, 2, 2.00001, NaN, -0),
  fc.float({ min: -110, max: 50, noNaN: true }),
  fc.float({ min: 0, max: 3, noNaN: true }),
);

describe('ColumnRing', () => {
  it('holds columns as the bytes the float ring quantised to, for any values (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { minLength: N_MELS * 2, maxLength: N_MELS * 2 }), {
          minLength: 1,
          maxLength: 12,
        }),
        (rows) => {
          const ring = new ColumnRing(8, N_MELS, { floatFrames: 3 });
          rows.forEach((row, f) => {
            ring.push(Float32Array.from(row.slice(0, N_MELS)), f * 16);
            const map = Float32Array.from(row.slice(N_MELS)); // [nMels, 1]
            ring.setAnomaly(f, map, 0, 1, true);
          });
          const held = ring.read(0, rows.length);
          const kept = rows.slice(held.fromFrame);
          const db = Float32Array.from(kept.flatMap((r) => r.slice(0, N_MELS)));
          const anomaly = Float32Array.from(kept.flatMap((r) => r.slice(N_MELS)));
          expect(held.spectrogram).toEqual(quantiseDb(db, held.dbRange));
          expect(held.anomaly).toEqual(quantiseAnomaly(anomaly, held.anomalyScale));
          expect(Array.from(held.scored)).toEqual(kept.map(() => 1));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps only the newest floatFrames columns as floats, exactly', () => {
    const ring = new ColumnRing(10, N_MELS, { firstFrame: 5, floatFrames: 3 });
    for (let f = 0; f < 7; f++) ring.push([f + 0.1, f + 0.2, f + 0.3, f + 0.4], f);
    expect([ring.start, ring.end]).toEqual([5, 12]);
    const out = new Float32Array(N_MELS * 3);
    ring.copyMelMajor(9, 12, out); // columns 4, 5, 6 pushed, mel-major
    expect(Array.from(out)).toEqual(
      Array.from(Float32Array.from([4.1, 5.1, 6.1, 4.2, 5.2, 6.2, 4.3, 5.3, 6.3, 4.4, 5.4, 6.4])),
    );
    expect(() => ring.copyMelMajor(8, 11, out)).toThrow(/not all held as floats.*\[9, 12\)/);
    expect(() => ring.copyMelMajor(10, 13, out)).toThrow(RangeError);
  });

  it('an unscored column reads as zero anomaly, and a new push clears a reused slot', () => {
    const ring = new ColumnRing(2, N_MELS);
    ring.push([0, 0, 0, 0], 0);
    ring.setAnomaly(0, Float32Array.from([1, 1, 1, 1]), 0, 1, true);
    ring.push([0, 0, 0, 0], 16);
    ring.push([0, 0, 0, 0], 32); // reuses frame 0's slot
    const held = ring.read(0, 3);
    expect(held.fromFrame).toBe(1);
    expect(Array.from(held.anomaly)).toEqual(new Array(2 * N_MELS).fill(0));
    expect(Array.from(held.scored)).toEqual([0, 0]);
    ring.setAnomaly(2, null, 0, 1, false);
    expect(Array.from(ring.read(2, 3).anomaly)).toEqual([0, 0, 0, 0]);
  });

  it('refuses a float span or an encoding it cannot hold', () => {
    expect(() => new ColumnRing(4, N_MELS, { floatFrames: 5 })).toThrow(/floatFrames \(5\).*\[1, 4\]/);
    expect(() => new ColumnRing(4, N_MELS, { dbRange: [0, 0] })).toThrow(/dbRange/);
    expect(() => new ColumnRing(4, N_MELS, { anomalyScale: 0 })).toThrow(/anomalyScale/);
  });
});
