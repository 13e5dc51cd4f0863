import { describe, expect, it } from 'vitest';
import { lineProgress, stageProgress } from '../src/progress.js';

// Progress off a terminal: lines a log can keep, never silent for long, never one per item.

function recorder() {
  const lines: string[] = [];
  return { lines, write: (s: string) => lines.push(...s.split('\n').filter(Boolean)) > 0 };
}

describe('progress off a terminal', () => {
  it('prints the start of a stage, a line every 2 s while it runs, and its end with the time taken', () => {
    const out = recorder();
    let t = 100;
    const p = lineProgress(out, { now: () => t });
    t = 101; // the first clip took 1 s
    p.update('read', 1, 2);
    t = 101.5; // (halves: exact in binary, so the 2 s steps fall where the test says)
    p.update('read', 2, 2);
    for (let i = 1; i <= 90; i++) {
      t += 0.5; // 45 s of embedding
      p.update('embed', i, 90);
    }
    t += 3;
    p.update('fit', 10, 10, 'pump');
    expect(out.lines).toEqual([
      'read 1/2 (50 %), 1.0 s',
      'read 2/2 (100 %) in 1.5 s',
      'embed 1/90 (1 %), 0.5 s',
      ...[5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61, 65, 69, 73, 77, 81, 85, 89].map(
        (i) => `embed ${i}/90 (${Math.floor((100 * i) / 90)} %), ${(i * 0.5).toFixed(1)} s`,
      ),
      'embed 90/90 (100 %) in 45.0 s',
      'pump: fit 10/10 (100 %) in 3.0 s',
    ]);
  });

  it('ends a stage once, and starts a stage again when the label changes', () => {
    const out = recorder();
    const t = 0;
    const p = lineProgress(out, { now: () => t });
    p.update('calibrate', 5, 5, 'fan');
    p.update('calibrate', 5, 5, 'fan');
    p.update('calibrate', 5, 5, 'pump');
    expect(out.lines).toEqual([
      'fan: calibrate 5/5 (100 %) in 0.0 s',
      'pump: calibrate 5/5 (100 %) in 0.0 s',
    ]);
  });

  it('chooses lines when the stream is not a terminal', () => {
    const out = recorder();
    const stream = Object.assign(out, { isTTY: false }) as unknown as NodeJS.WriteStream;
    stageProgress(stream).update('embed', 3, 9);
    expect(out.lines).toEqual([expect.stringMatching(/^embed 3\/9 \(33 %\), \d+\.\d s$/)]);
  });
});
