import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
    // The first look reads the folder before it syncs: wait for its sync (a loaded CI machine took more than
    // 20 ms once), then give a second look time to start wrongly: while the first is held, none may.
    await vi.waitFor(() => expect(calls).toBe(1), { timeout: 5_000, interval: 5 });
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

  describe('which folders to read again (mayHaveChanged)', () => {
    /** A watcher over `dir` whose sync records, per poll, the folders `mayHaveChanged` names. */
    const reads = (dir: string, fullLookMs: number) => {
      const polls: string[][] = [];
      let watcher: ModelWatcher;
      // eslint-disable-next-line prefer-const
      watcher = new ModelWatcher(
        dir,
        60_000,
        async (ids) => void polls.push(ids.filter((id) => watcher.mayHaveChanged(id)).sort()),
        () => {},
        async () => {},
        fullLookMs,
      );
      /** Polls until the folders read are `want` (a kernel report arrives on a later turn). */
      const expectRead = (want: string[]) =>
        vi.waitFor(
          async () => {
            await watcher.poll();
            expect(polls.at(-1)).toEqual(want);
          },
          { timeout: 5_000, interval: 20 },
        );
      return { watcher, polls, expectRead };
    };
    const model = (dir: string, id: string) => {
      mkdirSync(join(dir, id));
      writeFileSync(join(dir, id, 'model.json'), '{}');
    };

    it('reads every folder once, then only those whose files changed or that were swapped, placed or removed', async () => {
      const dir = tempDir();
      model(dir, 'pump-1');
      model(dir, 'fan-2');
      const { watcher, polls, expectRead } = reads(dir, 3_600_000);
      await watcher.start();
      expect(polls).toEqual([['fan-2', 'pump-1']]);
      expect(watcher.watched).toBe(2);
      await watcher.poll();
      expect(polls.at(-1)).toEqual([]);

      // A file written in place.
      writeFileSync(join(dir, 'pump-1', 'model.json'), '{"v":2}');
      await expectRead(['pump-1']);
      await watcher.poll();
      expect(polls.at(-1)).toEqual([]);

      // The database pull keeps its own reports: the registry's look above did not take them.
      expect(watcher.pullMayHaveChanged('pump-1')).toBe(true);
      expect(watcher.pullMayHaveChanged('pump-1')).toBe(false);
      expect(watcher.pullMayHaveChanged('fan-2')).toBe(true); // newly watched at the first poll
      expect(watcher.pullMayHaveChanged('fan-2')).toBe(false);

      // A folder swapped in by two renames, as the registry installs a model; the old one removed after.
      model(dir, '.staging-fan-2-1');
      renameSync(join(dir, 'fan-2'), join(dir, '.old-fan-2-1'));
      renameSync(join(dir, '.staging-fan-2-1'), join(dir, 'fan-2'));
      rmSync(join(dir, '.old-fan-2-1'), { recursive: true });
      await expectRead(['fan-2']);
      // Its new watch follows the new folder.
      writeFileSync(join(dir, 'fan-2', 'context.columns.f32'), 'x');
      await expectRead(['fan-2']);

      // A folder placed by hand is read (and watched); a removed one is no longer listed or watched.
      model(dir, 'gear-3');
      rmSync(join(dir, 'pump-1'), { recursive: true });
      await expectRead(['gear-3']);
      expect(watcher.watched).toBe(2);
      await watcher.stop();
      expect(watcher.watched).toBe(0);
    });

    it('reads every folder whole at least every fullLookMs, reported or not', async () => {
      const dir = tempDir();
      model(dir, 'pump-1');
      const { watcher, polls } = reads(dir, 0);
      await watcher.start();
      await watcher.poll();
      await watcher.poll();
      expect(polls).toEqual([['pump-1'], ['pump-1'], ['pump-1']]);
      await watcher.stop();
    });

    it('reads a folder at every poll when the system gives no watch of the models folder', async () => {
      const dir = tempDir();
      const polls: string[][] = [];
      const logged: string[] = [];
      const watcher: ModelWatcher = new ModelWatcher(
        join(dir, 'models'),
        60_000,
        async (ids) => void polls.push(ids.filter((id) => watcher.mayHaveChanged(id))),
        (l) => logged.push(l),
        async () => {},
        3_600_000,
      );
      // The models folder does not exist when the watcher starts, so no watch is given; it appears after.
      await watcher.start();
      expect(logged.some((l) => /changes in .*models are not reported by the system/.test(l))).toBe(true);
      model(dir, 'models');
      model(join(dir, 'models'), 'pump-1');
      await watcher.poll();
      await watcher.poll();
      expect(polls.slice(-2)).toEqual([['pump-1'], ['pump-1']]);
      expect(watcher.watched).toBe(0);
      await watcher.stop();
    });
  });
});
