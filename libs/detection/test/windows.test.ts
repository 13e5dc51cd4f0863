import { describe, expect, it } from 'vitest';
import { copyWindow, OverlapAverager, windowStarts } from '../src/windows.js';

describe('windows', () => {
  it('covers every column, the last window aligned to the end', () => {
    expect(windowStarts(10, 4, 2)).toEqual([0, 2, 4, 6]);
    expect(windowStarts(11, 4, 2)).toEqual([0, 2, 4, 6, 7]);
    expect(windowStarts(3, 4, 2)).toEqual([0]);
    expect(() => windowStarts(10, 0, 2)).toThrow(/windowFrames \(0\)/);
  });

  it('copies a window and repeats the last column past the end', () => {
    const spec = Float32Array.from([0, 1, 2, 10, 11, 12]); // 2 mels x 3 frames
    expect(Array.from(copyWindow(spec, 2, 3, 1, 2))).toEqual([1, 2, 11, 12]);
    expect(Array.from(copyWindow(spec, 2, 3, 0, 4))).toEqual([0, 1, 2, 2, 10, 11, 12, 12]);
  });

  it('averages overlapping window maps', () => {
    const avg = new OverlapAverager(1, 4);
    avg.add(0, Float32Array.from([1, 1, 1]), 3);
    avg.add(1, Float32Array.from([3, 3, 3]), 3);
    expect(Array.from(avg.result())).toEqual([1, 2, 2, 3]);
  });
});
