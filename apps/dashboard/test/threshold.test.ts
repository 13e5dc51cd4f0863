import { describe, expect, it } from 'vitest';
import { thresholdInUse } from '../src/lib/threshold';

describe('the threshold in use', () => {
  const model = { threshold: 2.5, version: 3 };
  const burnIn = { version: 3, windows: 1200, target: 1200 };

  it('is the fitted one times an applied burn-in factor of the version in use, and says so', () => {
    expect(thresholdInUse(model, { ...burnIn, state: 'applied', factor: 0.8 })).toEqual({
      text: '2.000 (burn-in x0.800)',
      title: "the fitted threshold 2.500 times the live burn-in's factor 0.800, from 1200 live windows",
    });
  });

  it('is the fitted one while collecting, reverted, skipped, for another version, or without a burn-in', () => {
    expect(thresholdInUse(model, { ...burnIn, windows: 300, state: 'collecting', factor: null }).text).toBe(
      '2.500 (fitted; burn-in 300/1200)',
    );
    expect(thresholdInUse(model, { ...burnIn, state: 'reverted', factor: null })).toEqual({
      text: '2.500',
      title: 'the fitted threshold (the live burn-in was reverted)',
    });
    expect(thresholdInUse(model, { ...burnIn, version: 2, state: 'applied', factor: 0.8 }).text).toBe(
      '2.500',
    );
    expect(thresholdInUse(model, null).title).toBe('the fitted threshold (no live burn-in for this version)');
    expect(thresholdInUse({ threshold: null, version: null }, null).text).toBe('–');
  });
});
