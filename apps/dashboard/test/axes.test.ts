import { describe, expect, it } from 'vitest';
import {
  binToHz,
  formatClock,
  formatDuration,
  formatHz,
  hzToBin,
  melTicks,
  timeTicks,
} from '../src/lib/axes';
import { melHz } from './helpers';

describe('frequency axis', () => {
  const hz = melHz(64);

  it('places bin centres at i + 0.5 and inverts between them', () => {
    expect(hzToBin(hz, hz[0])).toBeCloseTo(0.5);
    expect(hzToBin(hz, hz[10])).toBeCloseTo(10.5);
    for (const f of [100, 440, 1000, 3000, 7000]) expect(binToHz(hz, hzToBin(hz, f))).toBeCloseTo(f, 6);
    expect(hzToBin(hz, 0)).toBeGreaterThanOrEqual(0);
    expect(hzToBin(hz, 1e6)).toBeLessThanOrEqual(64);
  });

  it('labels mel axes with round frequencies, spaced apart, sparse at the bottom and dense in Hz at the top', () => {
    const ticks = melTicks(hz, 4);
    expect(ticks.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < ticks.length; i++) {
      expect(ticks[i].value - ticks[i - 1].value).toBeGreaterThanOrEqual(4);
      expect(ticks[i].hz).toBeGreaterThan(ticks[i - 1].hz);
    }
    expect(ticks.map((t) => t.hz)).toContain(1000);
    expect(ticks.at(-1)?.label).toBe('5 kHz');
    // Not linear in Hz: the distance 1-2 kHz on the axis is larger than 2-3 kHz would be.
    expect(hzToBin(hz, 2000) - hzToBin(hz, 1000)).toBeGreaterThan(hzToBin(hz, 3000) - hzToBin(hz, 2000));
  });

  it('formats Hz', () => {
    expect(formatHz(200)).toBe('200 Hz');
    expect(formatHz(1000)).toBe('1 kHz');
    expect(formatHz(1500)).toBe('1.5 kHz');
    expect(formatHz(12000)).toBe('12 kHz');
  });
});

describe('time', () => {
  it('formats wall-clock times and durations', () => {
    expect(formatClock(Date.UTC(2025, 0, 2, 3, 4, 5), true)).toBe('03:04:05');
    expect(formatDuration(4)).toBe('4.0 s');
    expect(formatDuration(30)).toBe('30 s');
    expect(formatDuration(95)).toBe('1 min 35 s');
    expect(formatDuration(300)).toBe('5 min');
    expect(formatDuration(3 * 3600 + 60)).toBe('3 h 1 min');
  });

  it('puts time ticks on whole steps', () => {
    const from = Date.UTC(2025, 0, 1, 0, 0, 1, 300);
    const ticks = timeTicks(from, from + 30_000, 6);
    expect(ticks.length).toBeLessThanOrEqual(6);
    for (const t of ticks) expect(t % 5000).toBe(0);
    expect(timeTicks(10, 10)).toEqual([]);
  });
});
