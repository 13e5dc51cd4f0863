/**
 * `hark bench pipeline` runs end to end (short steps, not written to BENCHMARKS.md): the real server, the
 * sensor clients and the dashboard in their child process, sensors at 16 and 48 kHz, with the stage profile,
 * the models fitted with a given detector configuration.
 * Figures are not asserted: speed is measured by the benchmark itself, on a quiet machine.
 */
import { execFile } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { requestedThreads } from '@hark/native';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { PROFILE_STAGES } from '../../apps/cli/src/bench/stage-profile.js';
import { HARK_BIN } from '../support/server.js';

test('hark bench pipeline --no-write --profile prints the steps per rate and a stage table', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      HARK_BIN,
      'bench',
      'pipeline',
      '--sensors',
      '2',
      '--rates',
      '16000,48000',
      '--seconds',
      '3',
      '--warmup',
      '2',
      '--profile',
      '--no-write',
      // The models fitted with a detector configuration (as `hark fit --config`): the capacity of another one.
      '--config',
      '{"impulseBands":0}',
    ],
    { timeout: 300_000 },
  );
  expect(stdout).toContain('fitting the configured model on each of 3 machines (pump, fan, gearbox)');
  // The server's own thread setting for its searches (scoring/search-threads.ts), said with the figures.
  const threads = requestedThreads() ?? Math.max(1, availableParallelism() - 1);
  expect(stdout).toContain(
    `the server's FAISS searches run on ${threads} thread(s) of ${cpus().length} cores`,
  );
  expect(stdout).toMatch(
    /\| sensors \| rate Hz \| windows scored \| dropped \| skipped \(wider hop\) \| scoring hop s, start \/ end \| p50 ms \| p95 ms \| p99 ms \| max ms \| alerts opened \| RSS MB \| server CPU, cores \| server's event loop busy \| sensors' CPU, cores \| sustained \|/,
  );
  // Both processes' CPU over the measured span, in cores: some, and at most the machine's (after the count
  // of alerts the step's sound opened, and the RSS); between them the server's event loop's busy share, 0-1.
  const cpuCells = [
    ...stdout.matchAll(
      /\n\| 2 \| \d+ \|(?: [^|]+ \|){8} \d+ \| \d+ \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| (?:yes|no) \|/g,
    ),
  ];
  expect(cpuCells, stdout).toHaveLength(2);
  for (const m of cpuCells) {
    for (const cores of [Number(m[1]), Number(m[3])]) {
      expect(cores, stdout).toBeGreaterThan(0);
      expect(cores, stdout).toBeLessThanOrEqual(cpus().length + 0.5);
    }
    expect(Number(m[2]), stdout).toBeGreaterThan(0);
    expect(Number(m[2]), stdout).toBeLessThanOrEqual(1);
  }
  for (const rate of [16000, 48000]) {
    const row = new RegExp(
      `\\n\\| 2 \\| ${rate} \\| (\\d+) \\| (\\d+) \\| (\\d+) \\| ([\\d.]+) \\/ ([\\d.]+) \\|`,
    ).exec(stdout);
    expect(row, stdout).not.toBeNull();
    // Windows scored, or skipped when the machine is too busy to score 2 sensors at the full rate (the server
    // then widens the hop instead of dropping): 2 sensors cut 12 windows in 3 s.
    expect(Number(row![1]), stdout).toBeGreaterThan(0);
    expect(Number(row![1]) + Number(row![3]), stdout).toBeGreaterThan(10);
  }
  // One row per stage, each with CPU ms per window for both steps, and the process total.
  expect(stdout).toMatch(
    /\| stage \(CPU ms per scored window\) \| 2 sensors, 16 kHz \| share \| 2 sensors, 48 kHz \| share \|/,
  );
  for (const stage of PROFILE_STAGES)
    expect(stdout).toMatch(
      new RegExp(`\\n\\| ${stage.replace(/[()]/g, '\\$&')} \\| \\d+\\.\\d\\d \\| \\d+ % \\|`),
    );
  expect(stdout).toMatch(/\n\| \*\*all threads\*\* \| \d+\.\d\d \| 100 % \|/);
  expect(stdout).not.toMatch(/written to/);
  // A field the detector does not have is refused before anything is fitted, naming the fields there are.
  const bad = await promisify(execFile)(
    process.execPath,
    [HARK_BIN, 'bench', 'pipeline', '--sensors', '1', '--config', '{"impulse":16}', '--no-write'],
    { timeout: 60_000 },
  ).catch((err: { code: number; stderr: string }) => err);
  expect((bad as { code: number }).code).not.toBe(0);
  expect((bad as { stderr: string }).stderr).toMatch(
    /--config: unknown field 'impulse'; fields: .*impulseBands/,
  );
}, 300_000);
