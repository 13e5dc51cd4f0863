/**
 * `hark bench pipeline` runs end to end (a short step, not written to BENCHMARKS.md): the real server, the
 * sensor clients and the dashboard in its worker thread. Figures are not asserted: speed is measured by the
 * benchmark itself, on a quiet machine.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { HARK_BIN } from '../support/server.js';

test('hark bench pipeline --no-write prints a table of steps', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [HARK_BIN, 'bench', 'pipeline', '--sensors', '2', '--seconds', '3', '--warmup', '2', '--no-write'],
    { timeout: 300_000 },
  );
  expect(stdout).toMatch(
    /\| sensors \| windows scored \| dropped \| p50 ms \| p95 ms \| p99 ms \| max ms \| sustained \|/,
  );
  const row = /\n\| 2 \| (\d+) \| (\d+) \|/.exec(stdout);
  expect(row, stdout).not.toBeNull();
  expect(Number(row![1])).toBeGreaterThan(10);
  expect(stdout).not.toMatch(/written to/);
}, 300_000);
