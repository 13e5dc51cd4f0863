import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { HarkStore, type HarkStoreOptions } from '../../src/store/index.js';

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hark-store-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A store on a real file in a temporary directory, closed after the test. */
export function tempStore(options: HarkStoreOptions = {}): { store: HarkStore; dir: string } {
  const dir = tempDir();
  const store = new HarkStore(dir, options);
  afterEach(() => store.close());
  return { store, dir };
}
