import { describe, expect, it } from 'vitest';
import type { Alert } from '@hark/protocol';
import { inQuietHours, localMinutes, ruleCoversSensor, severityOf } from '../../src/notify/rules.js';

describe('rules', () => {
  it('cover every sensor when empty, else listed ids or the whole label group', () => {
    const press = { id: 'press-1', labels: { site: 'plant-1', line: 'A' } };
    expect(ruleCoversSensor({ sensorIds: [], labels: {} }, press)).toBe(true);
    expect(ruleCoversSensor({ sensorIds: ['press-1'], labels: {} }, press)).toBe(true);
    expect(ruleCoversSensor({ sensorIds: ['press-2'], labels: {} }, press)).toBe(false);
    expect(ruleCoversSensor({ sensorIds: [], labels: { site: 'plant-1', line: 'A' } }, press)).toBe(true);
    expect(ruleCoversSensor({ sensorIds: [], labels: { site: 'plant-1', line: 'B' } }, press)).toBe(false);
    expect(ruleCoversSensor({ sensorIds: ['press-9'], labels: { line: 'A' } }, press)).toBe(true);
  });

  it('take an alert without a severity as a warning', () => {
    const a = { id: 1 } as Alert;
    expect(severityOf(a)).toBe('warning');
    expect(severityOf({ ...a, severity: 'critical' } as Alert)).toBe('critical');
    expect(severityOf({ ...a, severity: 'loud' } as Alert)).toBe('warning');
  });

  it('quiet hours are local times of the stated zone, over midnight, daylight saving included', () => {
    const night = { start: '22:00', end: '06:00', timeZone: 'Europe/Berlin' };
    // 2026-01-15 21:30 UTC is 22:30 in Berlin (CET, +1); 2026-07-15 04:30 UTC is 06:30 (CEST, +2).
    expect(localMinutes(Date.UTC(2026, 0, 15, 21, 30), 'Europe/Berlin')).toBe(22 * 60 + 30);
    expect(inQuietHours(night, Date.UTC(2026, 0, 15, 21, 30))).toBe(true);
    expect(inQuietHours(night, Date.UTC(2026, 0, 15, 20, 30))).toBe(false); // 21:30
    expect(inQuietHours(night, Date.UTC(2026, 6, 15, 3, 30))).toBe(true); // 05:30
    expect(inQuietHours(night, Date.UTC(2026, 6, 15, 4, 30))).toBe(false); // 06:30
    const lunch = { start: '12:00', end: '13:00', timeZone: 'Asia/Tokyo' };
    expect(inQuietHours(lunch, Date.UTC(2026, 0, 15, 3, 15))).toBe(true); // 12:15 JST
    expect(inQuietHours(lunch, Date.UTC(2026, 0, 15, 4, 0))).toBe(false); // 13:00 JST: end is open
    expect(inQuietHours({ ...lunch, end: '12:00' }, Date.UTC(2026, 0, 15, 3, 15))).toBe(false);
  });
});
