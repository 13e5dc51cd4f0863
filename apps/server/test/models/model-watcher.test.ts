import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ModelWatcher } from '../../src/models/model-watcher.js';
import { tempDir } from '../store/helpers.js';

describe('ModelWatcher', () => {
  it('hands on the model folders named by a sensor id, not hidden swaps, files or other names', async () => {
    const dir = tempDir();
    for (const name of ['pump-1', 'fan.2', '.staging-pump-1-1-abc', '.old-fan.2-1', 'a b', '...'])
      mkdirSync(join(dir, name));
    writeFileSync(join(dir, 'notes.txt'), '');
    const seen: string[][] = [];
    const watcher = new ModelWatcher(
      dir,
      60_000,
      async (ids) => void seen.push(ids.sort()),
      () => {},
    );
    await watcher.start();
    expect(seen).toEqual([['fan.2', 'pump-1']]);
    await watcher.stop();
  });

  it('asked during a poll, runs one more after it (shared by all who ask meanwhile), and logs an unreadable folder', async () => {
    const dir = tempDir();
    let release: () => void = () => {};
    let calls = 0;
    const logged: string[] = [];
    const watcher = new ModelWatcher(
      dir,
      60_000,
      () => {
        calls++;
        return new Promise<void>((r) => (release = r));
      },
      (l) => logged.push(l),
    );
    const a = watcher.poll();
    const b = watcher.poll();
    const c = watcher.poll();
    expect(b).not.toBe(a);
    expect(c).toBe(b);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(1);
    release();
    await a;
    // The second look, for what was asked during the first: it starts on a later turn, so wait for it
    // rather than for a fixed 20 ms (a loaded CI machine took longer once).
    await vi.waitFor(() => expect(calls).toBe(2), { timeout: 5_000, interval: 5 });
    release();
    await b;
    expect(calls).toBe(2);
    const missing = new ModelWatcher(
      join(dir, 'none'),
      60_000,
      async () => void calls++,
      (l) => logged.push(l),
    );
    await missing.poll();
    expect(calls).toBe(2);
    expect(logged).toEqual([expect.stringMatching(/^models: cannot read .*none: ENOENT/)]);
  });
});
