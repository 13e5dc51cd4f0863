import { describe, expect, it } from 'vitest';
import { pageTitle, timeZoneLabel } from '../src/lib/page-title';

describe('page title', () => {
  it('names the view and counts the alerts that wait for a person', () => {
    expect(pageTitle({ name: 'overview' }, 0)).toBe('Overview · hark');
    expect(pageTitle({ name: 'alerts', query: {} }, 3)).toBe('(3) Alerts · hark');
    expect(pageTitle({ name: 'alert', alertId: 17 }, 1)).toBe('(1) Alert #17 · hark');
    expect(pageTitle({ name: 'sensor', sensorId: 'pump-7' }, 0, 'Pump 7')).toBe('Pump 7 · hark');
    expect(pageTitle({ name: 'sensor', sensorId: 'pump-7' }, 0)).toBe('pump-7 · hark');
    expect(pageTitle({ name: 'models', sensorId: 'pump-7' }, 0, 'Pump 7')).toBe('Models · Pump 7 · hark');
    expect(pageTitle({ name: 'notifications' }, 0)).toBe('Notifications · hark');
    expect(pageTitle({ name: 'not-found', path: '/x' }, 0)).toBe('Not found · hark');
  });
});

describe('time zone label', () => {
  it("gives the zone and the date's offset from UTC", () => {
    const d = new Date('2026-07-01T12:00:00Z');
    const minutes = -d.getTimezoneOffset() || 0;
    const label = timeZoneLabel(d, 'Somewhere/City');
    expect(label.startsWith('Somewhere/City (UTC')).toBe(true);
    const m = /UTC([+-])(\d\d):(\d\d)\)$/.exec(label)!;
    expect((m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]))).toBe(minutes);
    expect(timeZoneLabel(d, 'UTC')).toMatch(/^UTC[+-]\d\d:\d\d$/);
  });
});
