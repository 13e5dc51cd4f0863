import { describe, expect, it } from 'vitest';
import type { Alert } from '@hark/protocol';
import { classifyUpdate, snapshotOf } from '../../src/notify/classify.js';

const base: Alert = {
  id: 1,
  sensorId: 'pump-1',
  kind: 'anomaly',
  state: 'open',
  active: false,
  start: 1000,
  end: 2000,
  peakScore: 1.5,
  peakAt: 1500,
  threshold: 1,
  boxes: [],
  acknowledgedBy: null,
  acknowledgedAt: null,
  resolvedBy: null,
  resolvedAt: null,
  annotations: [],
  clip: { available: true, start: 0, seconds: 5 },
  feedback: null,
  severity: 'warning',
  count: 1,
  occurrences: [],
  clearedAt: 2500,
  autoResolved: false,
};

describe('webhook events of the alert lifecycle', () => {
  it('a folded repeat is alert.repeated, a rise to critical alert.critical, an auto-resolve alert.resolved', () => {
    const prev = snapshotOf(base);
    expect(classifyUpdate(prev, { ...base, count: 2, active: true, clearedAt: null })).toBe('alert.repeated');
    expect(classifyUpdate(prev, { ...base, severity: 'critical' })).toBe('alert.critical');
    expect(
      classifyUpdate(prev, {
        ...base,
        state: 'resolved',
        autoResolved: true,
        resolvedBy: 'auto',
        resolvedAt: 9,
      }),
    ).toBe('alert.resolved');
    expect(classifyUpdate(prev, { ...base, peakScore: 1.6 })).toBeNull();
  });
});
