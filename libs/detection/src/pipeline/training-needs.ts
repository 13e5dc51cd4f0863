/**
 * How much normal sound a fit needs, from what its calibration does with it (fit-detector.ts), so that every
 * client (the server's uploads and enrolment, `hark fit`, the dashboard through the server) states one rule.
 *
 * - **At least `MIN_TRAINING_CLIPS`** clips: fewer cannot be fitted at all.
 * - **Recommended**: enough that the threshold rests on the share of held-out sound the calibration is
 *   configured for, not on its floor. Without a false-alarm rate, `max(MIN_NORMAL_SCORES, calibrationHoldout *
 *   n)` clips are held out: below `MIN_NORMAL_SCORES / calibrationHoldout` clips the floor of 5 clips is held
 *   out, so the model is fitted on less than its share of the sound and the threshold is a 0.99 quantile
 *   extrapolated from 5 clip maxima. With a rate, the tail is fitted on `max(MIN_EXCESSES, tailShare * n)`
 *   run minima: below `MIN_EXCESSES / tailShare` of them it takes more than its share, down into the body of
 *   the scores. Either way the threshold comes from too few scores, and normal sound the training missed
 *   raises false alarms.
 */
import { MIN_NORMAL_SCORES } from '../calibration/calibration.js';
import { DEFAULT_TAIL_SHARE as RATE_TAIL_SHARE, MIN_EXCESSES } from '../calibration/rate.js';
import { resolveDetectorConfig, type DetectorConfig, type DetectorConfigInput } from './config.js';
import { leaveOneOut, MIN_TRAINING_CLIPS } from './fit-detector.js';

export interface TrainingNeeds {
  /** Fewest clips a fit takes. */
  minClips: number;
  /** Clips (of `clipSeconds`) from which the threshold rests on its configured share of held-out scores. */
  recommendedClips: number;
  /** The same in seconds of audio. */
  recommendedSeconds: number;
  /** Why, in one sentence for people. */
  reason: string;
}

/** What a fit with `input` needs, for training clips of `clipSeconds` each (enrolment cuts ~5 s clips). */
export function trainingNeeds(
  input: DetectorConfigInput | DetectorConfig = {},
  clipSeconds = 5,
): TrainingNeeds {
  if (!(clipSeconds > 0)) throw new Error(`clipSeconds (${clipSeconds}) must be > 0`);
  const c = resolveDetectorConfig(input);
  let clips: number;
  let reason: string;
  if (c.falseAlarmsPerDay > 0) {
    const windows = Math.max(1, Math.floor((clipSeconds - c.windowSeconds) / c.hopSeconds) + 1);
    const minimaPerClip = Math.max(1, windows - c.alertWindows + 1);
    const minima = Math.ceil(MIN_EXCESSES / RATE_TAIL_SHARE);
    clips = Math.ceil(minima / minimaPerClip);
    reason =
      `the false-alarm threshold is extrapolated from the top ${RATE_TAIL_SHARE * 100} % of ${minima} or more ` +
      `held-out window runs; with less sound it rests on too few scores, and normal sound the training missed raises false alarms`;
  } else if (leaveOneOut(c)) {
    // Every clip is held out once: the threshold is a quantile of one largest score per clip, extrapolated
    // by a gamma fit; as many clips as the hold-out asks for give it as many scores, from models of all but one.
    clips = Math.ceil(MIN_NORMAL_SCORES / c.calibrationHoldout);
    reason =
      `the threshold is a ${c.calibrationQuantile} quantile of a gamma fitted to every clip's largest score, each ` +
      `scored by a model without it; below ${clips} clips it rests on few scores, so normal sound the training ` +
      `missed raises false alarms`;
  } else {
    clips = Math.ceil(MIN_NORMAL_SCORES / c.calibrationHoldout);
    reason =
      `the threshold is set from the scores of ${c.calibrationHoldout * 100} % of the clips held out, at least ` +
      `${MIN_NORMAL_SCORES}; below ${clips} clips it rests on ${MIN_NORMAL_SCORES} scores and the model keeps less ` +
      `of the sound, so normal sound the training missed raises false alarms`;
  }
  clips = Math.max(MIN_TRAINING_CLIPS, clips);
  return {
    minClips: MIN_TRAINING_CLIPS,
    recommendedClips: clips,
    recommendedSeconds: clips * clipSeconds,
    reason,
  };
}
