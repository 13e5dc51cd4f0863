/**
 * Temporary directories of an e2e test file. `tempDir` makes one under the system's temporary directory and
 * records it; `test/support/cleanup.ts` (a setup file of the e2e project) removes every recorded one after the
 * file's own `afterAll` hooks have stopped its servers and children. HARK_KEEP_TMP=1 keeps them, to look at
 * a failure's data directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `hark-${prefix}-`));
  made.add(dir);
  return dir;
}

/** Removes every directory `tempDir` made in this file so far. */
export function removeTempDirs(): void {
  if (process.env.HARK_KEEP_TMP === '1') return;
  for (const dir of made) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  made.clear();
}
