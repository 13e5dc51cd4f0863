import { describe, expect, it } from 'vitest';
import { regionLine, scoreText, type ScoredFile } from '../src/commands/score.js';

// The text output of `hark score`: the decision, then the regions on the normalised scale (1 = threshold).

const box = (onset: number, offset: number, lowHz: number, highHz: number, peak: number) => ({
  onset,
  offset,
  lowHz,
  highHz,
  peak,
  mapPeak: peak,
  overThreshold: peak > 1,
});
const file = (name: string, normalised: number, boxes: ScoredFile['boxes']): ScoredFile => ({
  file: name,
  score: normalised * 2,
  normalised,
  overThreshold: normalised > 1,
  alertLevel: normalised,
  seconds: 5,
  boxes,
});

describe('hark score text', () => {
  it('lists every region over the threshold with its time span, Hz span and score', () => {
    const text = scoreText([
      file('pump.wav', 1.14, [box(3.568, 3.744, 2576.4, 3049.2, 1.56), box(3.12, 3.46, 2576, 3049, 1.44)]),
    ]);
    expect(text.split('\n')).toEqual([
      'pump.wav: ANOMALY (score 1.14 x threshold)',
      '  2 regions over the threshold (score x threshold, 1 = threshold):',
      '    3.57-3.74 s   2576-3049 Hz   score 1.56',
      '    3.12-3.46 s   2576-3049 Hz   score 1.44',
    ]);
  });

  it('names the strongest region of a normal clip, below the threshold', () => {
    const text = scoreText([
      file('ok.wav', 0.93, [box(0.03, 0.08, 865, 1006, 0.91), box(1, 2, 50, 90, 0.85)]),
    ]);
    expect(text.split('\n')).toEqual([
      'ok.wav: normal (score 0.93 x threshold)',
      '  no region over the threshold (1); the strongest:',
      '    0.03-0.08 s   865-1006 Hz    score 0.91',
    ]);
    expect(scoreText([file('empty.wav', 0, [])])).toContain('no regions');
  });

  it('keeps columns aligned for long spans', () => {
    expect(regionLine(box(12.5, 130.25, 0, 16000, 12.345))).toBe('12.50-130.25 s 0-16000 Hz     score 12.35');
  });
});
