/**
 * One server per data directory: a second `hark serve` on the same `--data` stops before touching anything,
 * naming the first (pid, host); a lock left by a killed server is taken over at the next start.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createServer } from '@hark/server';
import { startServer, tempDir, type TestServer } from '../support/server.js';

describe('the data directory lock', () => {
  let s: TestServer | null = null;
  afterAll(() => s?.close());

  test('a second server on the same data directory is refused, naming the first; freed at close', async () => {
    const dataDir = tempDir('lock');
    s = await startServer({ dataDir });
    await expect(createServer({ port: 0, dataDir, log: () => {} })).rejects.toThrow(
      `the data directory ${dataDir} is in use by hark pid ${process.pid} on host ${hostname()}`,
    );
    // The first one is untouched.
    expect((await fetch(`${s.url}/api/health`)).status).toBe(200);
    await s.close();
    s = null;
    expect(existsSync(join(dataDir, 'hark.lock'))).toBe(false);
  });

  test('the lock of a server killed with SIGKILL is taken over at the next start', async () => {
    const dataDir = tempDir('lock-kill');
    const first = await startServer({ dataDir });
    const admin = first.admin;
    await first.close();
    // A process that held the lock and died without releasing it.
    const child = spawn(process.execPath, [
      '-e',
      `require('fs').symlinkSync(require('os').hostname() + ':' + process.pid + ':1', ${JSON.stringify(join(dataDir, 'hark.lock'))})`,
    ]);
    const pid = child.pid;
    await new Promise((r) => child.once('exit', r));
    s = await startServer({ dataDir }, admin);
    expect(s.logs.join('\n')).toContain(
      `took over the lock of ${dataDir} left by hark pid ${pid} on ${hostname()}, which is gone`,
    );
  });
});
