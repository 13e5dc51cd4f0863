import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pathInside } from '../src/paths.js';
import { InvalidArgumentError } from '../src/store/errors.js';

describe('pathInside', () => {
  it('joins plain names under the parent', () => {
    expect(pathInside('/data/models', 'pump-1')).toBe('/data/models/pump-1');
    expect(pathInside('data', 'uploads', '.hidden', 'a..b')).toBe(
      join(resolve('data'), 'uploads/.hidden/a..b'),
    );
  });

  it('refuses every name that would leave the parent or name it, saying which', () => {
    for (const name of ['..', '.', '', '../x', 'a/../../b', '/etc', 'a\\..\\b', 'x\0y']) {
      expect(() => pathInside('/data/models', name), JSON.stringify(name)).toThrow(InvalidArgumentError);
      expect(() => pathInside('/data/models', name)).toThrow(
        `${JSON.stringify(name)} cannot name a file or folder inside /data/models`,
      );
    }
    expect(() => pathInside('/data', 'uploads', '..', 'stamp')).toThrow(/"\.\." cannot name/);
  });
});
