import { describe, expect, it } from 'vitest';
import { isSensorId, SENSOR_ID_RULE, sensorIdProblem } from '../src/index.js';

describe('the sensor-id rule', () => {
  it('accepts 1-64 characters of A-Z a-z 0-9 . _ -', () => {
    for (const id of ['a', 'pump-3', 'line_A.mic.2', 'x'.repeat(64), '.hidden', 'a..b', '-'])
      expect(isSensorId(id), id).toBe(true);
  });

  it('refuses other characters, empty and over-long ids, and non-strings, naming the rule', () => {
    for (const id of ['', 'a b', 'a/b', 'pump$', 'é', 'x'.repeat(65), '%2e%2e', 3, null, undefined]) {
      expect(isSensorId(id), String(id)).toBe(false);
      expect(sensorIdProblem(id)).toBe(SENSOR_ID_RULE);
    }
  });

  it("refuses ids of dots only ('.' and '..' are folders, and a sensor id names its model folder)", () => {
    for (const id of ['.', '..', '...']) {
      expect(isSensorId(id), id).toBe(false);
      expect(sensorIdProblem(id)).toBe(`${SENSOR_ID_RULE}, not only dots ('.' and '..' name folders)`);
    }
  });
});
