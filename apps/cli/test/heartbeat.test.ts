import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHeartbeat } from '../src/heartbeat.js';
import { tempDir } from '../../../test/support/temp.js';

// The watchdog speaks for a step that blocks the main thread and reports nothing (the native coreset).

const dir = tempDir('heartbeat');
const gate = new Int32Array(new SharedArrayBuffer(4));
/** Blocks this thread (and its event loop) for `ms`, as a synchronous native call does. */
const block = (ms: number) => Atomics.wait(gate, 0, 0, ms);

function withLog(name: string, run: (fd: number) => void): string[] {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  try {
    run(fd);
  } finally {
    closeSync(fd);
  }
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}

describe('progress heartbeat', () => {
  it('writes a line while the main thread is blocked and quiet', () => {
    const lines = withLog('blocked.log', (fd) => {
      const heart = startHeartbeat(fd, { quietSeconds: 0.3, checkMs: 20 });
      block(1500);
      heart.stop();
    });
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).toMatch(/^still working: \d+ s since the last progress report$/);
  });

  it('stays quiet while reports come, and after stop', () => {
    const lines = withLog('busy.log', (fd) => {
      const heart = startHeartbeat(fd, { quietSeconds: 1, checkMs: 20 });
      for (let i = 0; i < 30; i++) {
        block(50);
        heart.beat();
      }
      heart.stop();
      block(1500);
    });
    expect(lines).toEqual([]);
  });
});
