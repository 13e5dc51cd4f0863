import { describe, expect, it } from 'vitest';
import {
  ENROL_MAX_SECONDS,
  ENROL_MIN_SECONDS,
  enrolSecondsProblem,
  isRole,
  labelsProblem,
  MAX_LABEL_VALUE_LENGTH,
  MAX_LABELS,
  MAX_NAME_LENGTH,
  roleAllows,
  ROLES,
} from '../src/index.js';

describe('label limits', () => {
  it('accepts labels within the limits', () => {
    expect(labelsProblem({})).toBeNull();
    expect(labelsProblem({ site: 'plant-1', line: 'A' })).toBeNull();
    const full = Object.fromEntries(
      Array.from({ length: MAX_LABELS }, (_, i) => [`k${i}`.padEnd(MAX_NAME_LENGTH, 'x'), 'v'.repeat(200)]),
    );
    expect(labelsProblem(full)).toBeNull();
  });

  it('names the first field over a limit, its value and the rule', () => {
    expect(labelsProblem([])).toMatchObject({ field: 'labels', rule: expect.stringContaining('object') });
    expect(labelsProblem('a')).toMatchObject({ field: 'labels', value: 'a' });
    const many = Object.fromEntries(Array.from({ length: MAX_LABELS + 1 }, (_, i) => [`k${i}`, 'v']));
    expect(labelsProblem(many)).toEqual({
      field: 'labels',
      value: `${MAX_LABELS + 1} keys`,
      rule: `must have at most ${MAX_LABELS}`,
    });
    expect(labelsProblem({ ['k'.repeat(MAX_NAME_LENGTH + 1)]: 'v' })).toMatchObject({ field: 'labels key' });
    expect(labelsProblem({ '': 'v' })).toMatchObject({ field: 'labels key', value: '' });
    expect(labelsProblem({ line: 3 })).toEqual({
      field: 'labels.line',
      value: 3,
      rule: `must be a string of at most ${MAX_LABEL_VALUE_LENGTH} characters`,
    });
    expect(labelsProblem({ line: 'x'.repeat(MAX_LABEL_VALUE_LENGTH + 1) })).toMatchObject({
      field: 'labels.line',
    });
  });
});

describe('enrolment length', () => {
  it('is 10 s to one hour, the message naming the value', () => {
    expect([ENROL_MIN_SECONDS, ENROL_MAX_SECONDS]).toEqual([10, 3600]);
    for (const s of [10, 60, 3600]) expect(enrolSecondsProblem(s)).toBeNull();
    for (const s of [9.9, 3600.5, Number.NaN, Infinity, '60', undefined])
      expect(enrolSecondsProblem(s)).toBe(`seconds must be a number from 10 to 3600 (got ${String(s)})`);
  });
});

describe('roles', () => {
  it('ranks admin > operator > sensor', () => {
    const allowed = ROLES.flatMap((have) =>
      ROLES.filter((need) => roleAllows(have, need)).map((n) => `${have}>=${n}`),
    );
    expect(allowed).toEqual([
      'sensor>=sensor',
      'operator>=sensor',
      'operator>=operator',
      'admin>=sensor',
      'admin>=operator',
      'admin>=admin',
    ]);
    expect(ROLES.every(isRole)).toBe(true);
    expect(isRole('root')).toBe(false);
    expect(isRole(1)).toBe(false);
  });
});
