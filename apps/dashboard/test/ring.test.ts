import { describe, expect, it } from 'vitest';
import { chronologicalRuns, ColumnRing, newestRuns, type ColumnBatch } from '../src/lib/ring';

const HOP = 0.01;
/** `n` columns of 2 mels starting at column index `first` (ms time `first * 10`), bytes = column index. */
function batch(first: number, n: number, nMels = 2): ColumnBatch {
  const spectrogram = new Uint8Array(n * nMels);
  const anomaly = new Uint8Array(n * nMels);
  for (let c = 0; c < n; c++)
    for (let m = 0; m < nMels; m++) {
      spectrogram[c * nMels + m] = (first + c) % 256;
      anomaly[c * nMels + m] = m === 0 ? 200 : 0;
    }
  return { t0: first * HOP * 1000, hopSeconds: HOP, nMels, nColumns: n, spectrogram, anomaly };
}

const specAt = (ring: ColumnRing, age: number) => ring.spectrogram[ring.slotAt(age) * ring.nMels];

describe('ColumnRing', () => {
  it('marks the slots of unscored columns (dropped under overload), and a slot pooling one of them', () => {
    const ring = new ColumnRing(8, 2, HOP);
    ring.push(batch(0, 2));
    ring.push({ ...batch(2, 2), scored: false });
    ring.push({ ...batch(4, 1), scored: true });
    expect([0, 1, 2, 3, 4].map((i) => ring.scored[i])).toEqual([1, 1, 0, 0, 1]);
    ring.clear();
    expect([...ring.scored].every((x) => x === 1)).toBe(true);
  });

  it('appends columns, wraps, and keeps the newest', () => {
    const ring = new ColumnRing(4, 2, HOP);
    expect(ring.push(batch(0, 3))).toBe(3);
    expect([ring.head, ring.count, ring.endT]).toEqual([3, 3, 30]);
    expect(ring.push(batch(3, 3))).toBe(3);
    expect([ring.head, ring.count, ring.writes]).toEqual([2, 4, 6]);
    expect([0, 1, 2, 3].map((age) => specAt(ring, age))).toEqual([5, 4, 3, 2]);
    expect(ring.endT).toBe(60);
  });

  it('fills a gap in the stream with blank columns so slots stay aligned with time', () => {
    const ring = new ColumnRing(8, 2, HOP);
    ring.push(batch(0, 2));
    ring.push(batch(5, 1));
    expect(ring.columns).toBe(6);
    expect([0, 1, 2, 3, 4, 5].map((age) => specAt(ring, age))).toEqual([5, 0, 0, 0, 1, 0]);
    expect(ring.endT).toBe(60);
  });

  it('skips columns it already holds (an overlapping backfill after re-subscribing)', () => {
    const ring = new ColumnRing(8, 2, HOP);
    ring.push(batch(0, 4));
    ring.push(batch(2, 4));
    expect(ring.columns).toBe(6);
    expect([0, 1, 2, 3, 4, 5].map((age) => specAt(ring, age))).toEqual([5, 4, 3, 2, 1, 0]);
  });

  it('starts over when the clock jumps far back (a new stream)', () => {
    const ring = new ColumnRing(4, 2, HOP);
    ring.push(batch(1000, 4));
    ring.push(batch(0, 1));
    expect(ring.count).toBe(1);
    expect(ring.endT).toBe(10);
  });

  it('pools columns into slots by their maximum for long windows', () => {
    const ring = ColumnRing.forWindow(300, HOP, 2, 4096);
    expect(ring.decimation).toBe(8);
    expect(ring.capacity).toBe(3750);
    expect(ring.windowSeconds).toBeCloseTo(300);
    const small = new ColumnRing(4, 1, HOP, 3);
    const b = batch(0, 5, 1);
    b.anomaly.set([0, 9, 1, 2, 0]);
    expect(small.push(b)).toBe(1);
    expect(small.anomaly[0]).toBe(9);
    expect(small.spectrogram[0]).toBe(2);
    expect(small.endT).toBe(30);
  });

  it('rejects batches of another shape, with the numbers', () => {
    const ring = new ColumnRing(4, 2, HOP);
    expect(() => ring.push(batch(0, 1, 3))).toThrow(/3 mels at 0.01 s hop does not fit a ring of 2/);
    expect(() => new ColumnRing(0, 2, HOP)).toThrow(/capacity \(0\)/);
  });
});

describe('slot runs', () => {
  it('newest runs wrap at most once', () => {
    expect(newestRuns(3, 8, 2)).toEqual([{ start: 1, length: 2 }]);
    expect(newestRuns(1, 8, 3)).toEqual([
      { start: 6, length: 2 },
      { start: 0, length: 1 },
    ]);
    expect(newestRuns(0, 8, 20)).toEqual([{ start: 0, length: 8 }]);
    expect(newestRuns(0, 8, 0)).toEqual([]);
  });

  it('chronological runs put the oldest slot left and the newest at the right edge', () => {
    expect(chronologicalRuns(0, 8)).toEqual([[0, 0, 8]]);
    expect(chronologicalRuns(3, 8)).toEqual([
      [3, 0, 5],
      [0, 5, 3],
    ]);
  });
});
