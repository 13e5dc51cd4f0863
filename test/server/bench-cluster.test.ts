/**
 * `hark bench cluster` runs end to end (a short step, not written to BENCHMARKS.md): two instances on a
 * `redis-server` the bench starts itself, a dashboard on the second receiving what the first sends. Figures
 * are not asserted: speed is measured by the benchmark itself, on a quiet machine.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { redisOrWarn } from '../support/redis.js';
import { HARK_BIN } from '../support/server.js';

test.skipIf(!redisOrWarn('bench-cluster.test.ts'))(
  'hark bench cluster --no-write prints a row per step with the events sent and received',
  async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [HARK_BIN, 'bench', 'cluster', '--sensors', '4', '--seconds', '2', '--warmup', '1', '--no-write'],
      { timeout: 120_000 },
    );
    expect(stdout).toMatch(
      /\| sensors \| offered events\/s \| sent events\/s \(A\) \| received events\/s \(B\) \|/,
    );
    const row = /\n\| 4 \| 16 \| (\d+) \| (\d+) \|/.exec(stdout);
    expect(row, stdout).not.toBeNull();
    // 4 sensors: a columns and a score event each per 0.5 s.
    expect(Number(row![1])).toBeGreaterThan(10);
    expect(Number(row![2])).toBeGreaterThan(10);
  },
  120_000,
);
