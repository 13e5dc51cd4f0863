import { melCentreFrequencies, resolveMelParams } from '@hark/dsp';
import { describe, expect, it } from 'vitest';
import {
  AlertTracker,
  mergeBoxes,
  SilenceTracker,
  type AlertTrackerEvent,
} from '../../src/alerts/alert-tracker.js';
import { type MeterReading } from '../../src/ingest/meter.js';

const mel = resolveMelParams({});
const W = 63;
/** Window k of a 0.5 s hop stream starting at 0: t0 = 32 + k * 31 * 16 ms. */
const win = (k: number, score: number, map?: Float32Array) => {
  const t0 = 32 + k * 31 * 16;
  return { t0, t1: t0 + W * 16, score, map };
};
const types = (events: AlertTrackerEvent[]) => events.map((e) => e.type);

/** A `[128, 63]` map at 0.2 with a block of `value` over mels [m0, m1] and frames [f0, f1]. */
function blob(m0: number, m1: number, f0: number, f1: number, value: number): Float32Array {
  const map = new Float32Array(128 * W).fill(0.2);
  for (let m = m0; m <= m1; m++) for (let f = f0; f <= f1; f++) map[m * W + f] = value;
  return map;
}

describe('AlertTracker', () => {
  it('opens after two windows over the threshold and closes after two under it', () => {
    const t = new AlertTracker({ mel });
    const seen: string[][] = [];
    const scores = [0.5, 1.2, 0.9, 1.1, 1.5, 1.3, 0.8, 1.0, 0.7, 0.6, 0.5];
    const events: AlertTrackerEvent[] = [];
    scores.forEach((s, k) => {
      const e = t.observe(win(k, s));
      seen.push(types(e));
      events.push(...e);
    });
    expect(seen).toEqual([[], [], [], [], ['opened'], ['updated'], [], ['updated'], [], ['closed'], []]);
    const opened = events[0].alert;
    expect(opened).toMatchObject({
      kind: 'anomaly',
      start: win(3, 0).t0,
      end: win(4, 0).t1,
      peakScore: 1.5,
      windows: 2,
    });
    const closed = events[events.length - 1].alert;
    expect(closed).toMatchObject({
      start: win(3, 0).t0,
      end: win(7, 0).t1,
      peakScore: 1.5,
      peakAt: win(4, 0).t1,
    });
    expect(closed.windows).toBe(4);
    expect(t.open).toBeNull();
  });

  it('treats dropped windows as neutral', () => {
    const t = new AlertTracker({ mel });
    expect(t.observe(win(0, 2))).toEqual([]);
    expect(t.dropped()).toEqual([]);
    expect(types(t.observe(win(2, 2)))).toEqual(['opened']);
    expect(t.observe(win(3, 0.1))).toEqual([]);
    t.dropped();
    t.dropped();
    expect(t.open).not.toBeNull();
    expect(types(t.observe(win(6, 0.1)))).toEqual(['closed']);
  });

  it('converts map regions to stream-time boxes scored as their windows, and merges overlapping ones', () => {
    const t = new AlertTracker({ mel });
    t.observe(win(0, 1.4, blob(20, 30, 10, 20, 3)));
    const [e] = t.observe(win(1, 1.2, blob(25, 35, 0, 5, 2)));
    const hz = melCentreFrequencies(mel);
    // Window 0: frames 10..20 -> [t0 + 160, t0 + 21 * 16) ms; mels 20..30 -> edges 20 and 32 of the filters.
    // A box scores as its window (one scale with the alert's peak), not as its map cells (3 and 2).
    const first = { t0: 32 + 160, t1: 32 + 21 * 16, fLow: hz[19], fHigh: hz[31], score: 1.4 };
    // Window 1 starts 496 ms later; frames 0..5 -> [528, 528 + 96); mels 25..35.
    const second = { t0: 528, t1: 528 + 96, fLow: hz[24], fHigh: hz[36], score: 1.2 };
    expect(e.type).toBe('opened');
    expect(e.alert.boxes).toHaveLength(2); // disjoint in time: kept apart
    expect(e.alert.boxes[0].t0).toBeCloseTo(first.t0, 9);
    expect(e.alert.boxes[0].t1).toBeCloseTo(first.t1, 9);
    expect(e.alert.boxes[0].fLow).toBeCloseTo(first.fLow, 6);
    expect(e.alert.boxes[0].fHigh).toBeCloseTo(first.fHigh, 6);
    expect(e.alert.boxes[0].score).toBeCloseTo(first.score, 6);
    expect(e.alert.boxes[0].score).toBe(e.alert.peakScore);
    expect(e.alert.boxes[1].score).toBeCloseTo(second.score, 6);
    expect(e.alert.boxes[1].t0).toBeCloseTo(second.t0, 9);
    expect(e.alert.boxes[1].fHigh).toBeCloseTo(second.fHigh, 6);
    // The next window's region overlaps the second box in time and frequency: they merge into their hull.
    const [u] = t.observe(win(1, 1.1, blob(28, 40, 0, 3, 1.5)));
    expect(u.type).toBe('updated');
    expect(u.alert.boxes).toHaveLength(2);
    const merged = u.alert.boxes[1];
    expect(merged.score).toBeCloseTo(1.2, 6);
    expect(merged.fLow).toBeCloseTo(hz[24], 6);
    expect(merged.fHigh).toBeCloseTo(hz[41], 6);
    expect([merged.t0, merged.t1]).toEqual([second.t0, second.t1]);
  });

  it("takes a box's band from the window's local map, as the CLI does", () => {
    const t = new AlertTracker({ mel });
    // Time-share mixing spreads the region over mels 0..127; the local map keeps it at mels 60..64.
    const mixed = blob(0, 127, 10, 20, 1.5);
    const local = blob(60, 64, 10, 20, 3);
    t.observe({ ...win(0, 1.5, mixed), localMap: local });
    const [e] = t.observe({ ...win(1, 1.1, mixed), localMap: local });
    const hz = melCentreFrequencies(mel);
    expect(e.alert.boxes[0].fLow).toBeCloseTo(hz[59], 6);
    expect(e.alert.boxes[0].fHigh).toBeCloseTo(hz[65], 6);
    expect(e.alert.boxes[0].score).toBe(1.5);
  });

  it("takes a tone's band from the window's tone map when the tone carries it, as the CLI does", () => {
    const t = new AlertTracker({ mel });
    // The local map is blurred over mels 50..74; the tone map holds the whine's one mel filter, 62.
    const mixed = blob(0, 127, 10, 20, 1.5);
    const local = blob(50, 74, 0, W - 1, 3);
    local.fill(4, 62 * W, 63 * W); // the fused map peaks at the tone, as a whine's does
    const tone = new Float32Array(128 * W);
    tone.fill(2, 62 * W, 63 * W);
    const carried = { map: tone, tonal: 3, others: 1.2 };
    t.observe({ ...win(0, 1.5, mixed), localMap: local, tone: carried });
    const [e] = t.observe({ ...win(1, 1.1, mixed), localMap: local, tone: carried });
    const hz = melCentreFrequencies(mel);
    expect(e.alert.boxes[0].fLow).toBeCloseTo(hz[61], 6);
    expect(e.alert.boxes[0].fHigh).toBeCloseTo(hz[63], 6);
    // Another part further over its normal maximum (a speed change), or no tone: the local map's band.
    for (const evidence of [{ map: tone, tonal: 3, others: 4 }, null]) {
      const other = new AlertTracker({ mel });
      other.observe({ ...win(0, 1.5, mixed), localMap: local, tone: evidence });
      const [f] = other.observe({ ...win(1, 1.1, mixed), localMap: local, tone: evidence });
      expect(f.alert.boxes[0].fLow).toBeCloseTo(hz[49], 6);
    }
  });

  it('keeps the strongest boxes only', () => {
    const boxes = Array.from({ length: 8 }, (_, i) => ({
      t0: i * 100,
      t1: i * 100 + 50,
      fLow: 100,
      fHigh: 200,
      score: i,
    }));
    const kept = mergeBoxes([], boxes, 3);
    expect(kept.map((b) => b.score)).toEqual([7, 6, 5]);
    const joined = mergeBoxes(kept, [{ t0: 560, t1: 720, fLow: 150, fHigh: 300, score: 1 }], 5);
    expect(joined).toEqual([
      { t0: 560, t1: 750, fLow: 100, fHigh: 300, score: 7 },
      { t0: 500, t1: 550, fLow: 100, fHigh: 200, score: 5 },
    ]);
  });

  it('opens nothing while suppressed but lets an open alert close', () => {
    const t = new AlertTracker({ mel });
    t.observe(win(0, 2));
    expect(types(t.observe(win(1, 2)))).toEqual(['opened']);
    t.suppressed = true;
    expect(types(t.observe(win(2, 2)))).toEqual(['updated']);
    t.observe(win(3, 0));
    expect(types(t.observe(win(4, 0)))).toEqual(['closed']);
    expect(t.observe(win(5, 2))).toEqual([]);
    expect(t.observe(win(6, 2))).toEqual([]);
    t.suppressed = false;
    expect(t.observe(win(7, 2))).toEqual([]); // the run during the snooze does not count
    expect(types(t.observe(win(8, 2)))).toEqual(['opened']);
    expect(t.open!.start).toBe(win(7, 0).t0);
  });

  it('says it is confirming while a run over the threshold is too short to open an alert', () => {
    const t = new AlertTracker({ mel, openWindows: 3 });
    const confirming: boolean[] = [];
    for (const [k, s] of [0.5, 1.2, 0.9, 1.1, 1.3, 1.4, 1.6, 0.2, 0.1].entries()) {
      t.observe(win(k, s));
      confirming.push(t.confirming);
    }
    // Over at 1, under at 2; over at 3 and 4 (confirming), open at 5: an open alert waits for nothing.
    expect(confirming).toEqual([false, true, false, true, true, false, false, false, false]);
    // Closed after 7 and 8: a window over the threshold would begin a run, one under would not.
    expect(t.open).toBeNull();
    expect([t.wouldBegin(1), t.wouldBegin(0.99)]).toEqual([true, false]);
    t.observe(win(9, 1.5));
    expect(t.wouldBegin(2)).toBe(false); // one is under way
    // Suppressed, a run over the threshold is forgotten: nothing to confirm.
    t.suppressed = true;
    t.observe(win(10, 2));
    expect(t.confirming).toBe(false);
    expect(t.wouldBegin(2)).toBe(false);
  });

  it('close() ends an open alert on demand', () => {
    const t = new AlertTracker({ mel, openWindows: 1 });
    expect(types(t.observe(win(0, 1)))).toEqual(['opened']);
    expect(types(t.close())).toEqual(['closed']);
    expect(t.close()).toEqual([]);
  });
});

describe('SilenceTracker', () => {
  const reading = (silent: boolean, silentSince: number | null): MeterReading => ({
    levelDbfs: null,
    peakDbfs: null,
    clipping: 0,
    clipped: false,
    silent,
    silentSince,
  });

  it('opens at the start of the silence and closes when sound returns', () => {
    const t = new SilenceTracker();
    expect(t.observe(reading(false, null), 1000)).toEqual([]);
    const [o] = t.observe(reading(true, 500), 10_600);
    expect(o).toEqual({
      type: 'opened',
      alert: { kind: 'silence', start: 500, end: null, peakScore: 0, peakAt: 500, boxes: [], windows: 0 },
    });
    expect(t.observe(reading(true, 500), 11_000)).toEqual([]);
    const [c] = t.observe(reading(false, null), 12_000);
    expect(c.type).toBe('closed');
    expect([c.alert.start, c.alert.end]).toEqual([500, 12_000]);
    expect(t.open).toBeNull();
  });

  it('does not open while suppressed', () => {
    const t = new SilenceTracker();
    t.suppressed = true;
    expect(t.observe(reading(true, 0), 10_000)).toEqual([]);
    t.suppressed = false;
    expect(types(t.observe(reading(true, 0), 10_500))).toEqual(['opened']);
  });
});
