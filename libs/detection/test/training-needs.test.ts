import { describe, expect, it } from 'vitest';
import { MIN_EXCESSES, MIN_NORMAL_SCORES, MIN_TRAINING_CLIPS, trainingNeeds } from '../src/index.js';

describe('trainingNeeds', () => {
  it('recommends the clips from which the hold-out is its configured share, not its floor', () => {
    // 25 % held out, at least 5: from 20 clips on the threshold rests on a quarter of the sound.
    expect(trainingNeeds({}, 5)).toMatchObject({
      minClips: MIN_TRAINING_CLIPS,
      recommendedClips: MIN_NORMAL_SCORES / 0.25,
      recommendedSeconds: (MIN_NORMAL_SCORES / 0.25) * 5,
    });
    expect(trainingNeeds({ calibrationHoldout: 0.5 }, 4)).toMatchObject({
      recommendedClips: 10,
      recommendedSeconds: 40,
    });
    expect(trainingNeeds().reason).toMatch(/false alarms/);
  });

  it('with a false-alarm rate, recommends the clips whose run minima give the tail its share', () => {
    // 5 s clips, 1 s windows every 0.5 s: 9 windows, 8 runs of 2; the tail wants 10 excesses at 25 %: 40.
    const n = trainingNeeds({ falseAlarmsPerDay: 1 }, 5);
    expect(n.recommendedClips).toBe(Math.max(MIN_TRAINING_CLIPS, Math.ceil(MIN_EXCESSES / 0.25 / 8)));
    // Never below what a fit takes.
    expect(trainingNeeds({ falseAlarmsPerDay: 1 }, 60).recommendedClips).toBe(MIN_TRAINING_CLIPS);
    expect(() => trainingNeeds({}, 0)).toThrow(/clipSeconds \(0\) must be > 0/);
  });

  it('with every clip held out once, says the threshold rests on one held-out score per clip', () => {
    const n = trainingNeeds({ calibrationFolds: 'leave-one-out' }, 5);
    expect(n.recommendedClips).toBe(MIN_NORMAL_SCORES / 0.25);
    expect(n.reason).toMatch(/every clip's largest score, each scored by a model without it/);
  });
});
