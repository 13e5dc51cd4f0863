/**
 * The threshold a sensor scores against, as the models table shows it: the fitted threshold, times the live
 * burn-in's factor once one is applied to the version in use (issue 13: every score, map and alert of the
 * sensor is then on that refined threshold). The text says which it is; the title says how it was made.
 */
import type { ModelStatus, SensorBurnIn } from './contracts';

export function thresholdInUse(
  model: Pick<ModelStatus, 'threshold' | 'version'>,
  burnIn: SensorBurnIn | null,
): { text: string; title: string } {
  const fitted = model.threshold;
  if (fitted === null) return { text: '–', title: 'no model' };
  const own = burnIn && burnIn.version === model.version ? burnIn : null;
  if (own?.state === 'applied' && own.factor !== null)
    return {
      text: `${(fitted * own.factor).toPrecision(4)} (burn-in x${own.factor.toFixed(3)})`,
      title: `the fitted threshold ${fitted.toPrecision(4)} times the live burn-in's factor ${own.factor.toFixed(3)}, from ${own.windows} live windows`,
    };
  if (own?.state === 'collecting')
    return {
      text: `${fitted.toPrecision(4)} (fitted; burn-in ${own.windows}/${own.target})`,
      title: `the fitted threshold while the live burn-in collects its first ${own.target} windows (${own.windows} so far)`,
    };
  return {
    text: fitted.toPrecision(4),
    title: own
      ? `the fitted threshold (the live burn-in was ${own.state})`
      : 'the fitted threshold (no live burn-in for this version)',
  };
}
