import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthDataset } from '@hark/dsp';
import { falseAlarmTable, runFalseAlarmBench, type FalseAlarmResult } from '../src/bench/false-alarms.js';
import { tempDir } from '../../../test/support/temp.js';

const root = new URL('../../../', import.meta.url).pathname;
const bin = join(root, 'apps/cli/bin/hark.js');
const tmp = tempDir('bench-fa');
const data = join(tmp, 'data');

describe('bench false-alarms', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'apps/cli/dist/main.js')))
      throw new Error('build the CLI first: npm run build');
    writeSynthDataset(data, {
      machines: ['fan', 'pump'],
      trainClips: 7,
      testClips: 1,
      clipSeconds: 3,
      streamSeconds: 3,
      seed: 3,
    });
    // The pump gets a normal stream (a normal test clip); the fan has none.
    copyFileSync(
      join(data, 'synth_pump', 'test', 'normal_0000.wav'),
      join(data, 'synth_pump', 'normal_stream.wav'),
    );
  });

  it('streams each normal_stream.wav through hark serve and hark sensor and counts the alerts', async () => {
    const lines: string[] = [];
    const [r] = await runFalseAlarmBench({ root: data, speed: 4, log: (l) => lines.push(l) });
    expect(r).toMatchObject({ group: 'synth_pump', streamSeconds: 3 });
    // 3 s is 184 log-mel frames; 63-frame windows every 31 frames start at 0, 31, 62 and 93 (the server
    // does not add a last window aligned to the end, as a clip does).
    expect(r.windowsScored + r.windowsDropped).toBe(4);
    expect(r.alerts).toBe(r.alertPeaks.length);
    expect(r.alertsPerHour).toBeCloseTo(r.alerts * 1200, 10);
    expect(r.alertsPerDay).toBeCloseTo(r.alertsPerHour * 24, 10);
    expect(r.maxScore).toBeGreaterThan(0);
    expect(lines.some((l) => /synth_pump: streaming 0\.1 min at 4x through hark sensor/.test(l))).toBe(true);
  }, 300_000);

  it('names the groups that have a normal stream when asked for one without', async () => {
    await expect(runFalseAlarmBench({ root: data, speed: 8, groups: ['synth_fan'] })).rejects.toThrow(
      /no normal_stream\.wav in group 'synth_fan' of .*; groups with one: synth_pump/,
    );
    const r = spawnSync(process.execPath, [bin, 'bench', 'false-alarms', join(data, 'synth_fan')], {
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
  });

  it('tabulates alerts per sensor-hour and per sensor-day, with a row for all streams', () => {
    const row = (group: string, alerts: number): FalseAlarmResult => ({
      group,
      streamSeconds: 300,
      windowsScored: 599,
      windowsDropped: 0,
      alerts,
      alertsPerHour: alerts * 12,
      alertsPerDay: alerts * 288,
      alertPeaks: Array.from({ length: alerts }, () => 1.05),
      maxScore: 1.2,
      windowsOver: 0.01,
    });
    const lines = falseAlarmTable([row('a', 2), row('b', 0)]).split('\n');
    expect(lines[0]).toBe(
      '| group | minutes | windows | dropped | alerts | per sensor-hour | per sensor-day | peak window | windows >= 1 | alert peaks |',
    );
    expect(lines[2]).toBe('| a | 5.0 | 599 | 0 | 2 | 24.0 | 576 | 1.20 | 1.0% | 1.05, 1.05 |');
    expect(lines[3]).toBe('| b | 5.0 | 599 | 0 | 0 | 0.0 | 0 | 1.20 | 1.0% | - |');
    expect(lines[4]).toBe('| all | 10.0 | 1198 | 0 | 2 | 12.0 | 288 | 1.20 |  |  |');
  });
});
