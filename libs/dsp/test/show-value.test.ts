import { describe, expect, it } from 'vitest';
import { showValue } from '../src/index.js';

describe('showValue', () => {
  it('writes scalars as they are and quotes strings', () => {
    expect(showValue(0.5)).toBe('0.5');
    expect(showValue(Number.NaN)).toBe('NaN');
    expect(showValue(true)).toBe('true');
    expect(showValue(null)).toBe('null');
    expect(showValue(undefined)).toBe('undefined');
    expect(showValue('max')).toBe("'max'");
    expect(showValue(10n)).toBe('10');
  });

  it('writes objects and arrays as JSON, never [object Object]', () => {
    expect(showValue({})).toBe('{}');
    expect(showValue({ x: { y: [1, 'a'] } })).toBe('{"x":{"y":[1,"a"]}}');
    expect(showValue([{}, 1])).toBe('[{},1]');
    expect(showValue([Number.POSITIVE_INFINITY, 2n])).toBe('["Infinity","2"]');
  });

  it('cuts a long value with an ellipsis', () => {
    const s = showValue({ bank: Array.from({ length: 1000 }, (_, i) => i) }, 40);
    expect(s).toHaveLength(40);
    expect(s.startsWith('{"bank":[0,1,2,')).toBe(true);
    expect(s.endsWith('…')).toBe(true);
    expect(showValue('x'.repeat(200))).toHaveLength(80);
  });

  it('names a cyclic object or a function without throwing', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(showValue(a)).toBe('[object Object]');
    expect(showValue(function fit() {})).toBe('function fit');
  });
});
