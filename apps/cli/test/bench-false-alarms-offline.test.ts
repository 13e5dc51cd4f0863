import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveDetectorConfig } from '@hark/detection';
import { resolveMelParams, writeSynthDataset, type GroundTruthEvent } from '@hark/dsp';
import {
  judgeReplay,
  offlineTables,
  replayAlerts,
  replayAtStride,
  runOfflineFalseAlarmBench,
  type ReplayWindow,
} from '../src/bench/false-alarms-offline.js';
import { tempDir } from '../../../test/support/temp.js';

const root = new URL('../../../', import.meta.url).pathname;
const bin = join(root, 'apps/cli/bin/hark.js');
const mel = resolveMelParams({});

/** Windows 0.5 s apart, 1 s long, with these scores. */
const series = (scores: number[]): ReplayWindow[] =>
  scores.map((score, i) => ({ t0: i * 0.5, t1: i * 0.5 + 1, score }));

describe('offline replay of the alert rule', () => {
  it('opens an alert at 2 consecutive windows >= 1 and closes it after 2 under (hysteresis)', () => {
    //                         0    1    2    3    4     5    6    7    8    9    10
    const w = series([1.2, 0.9, 1.1, 1.0, 0.95, 1.3, 1.2, 0.5, 0.5, 1.0, 1.0]);
    const alerts = replayAlerts(w, mel);
    // Window 0 alone opens nothing; 2-3 open one, one window under (4) does not close it, 7-8 do; 9-10 open
    // a second, closed at the end of the recording.
    expect(alerts).toEqual([
      { start: 1, end: 4, peak: 1.3, windows: 4 },
      { start: 4.5, end: 6, peak: 1, windows: 2 },
    ]);
    expect(replayAlerts(series([1.5, 0.9, 1.5, 0.9, 1.5]), mel)).toEqual([]);
  });

  it('finds an event when an alert lies within 2.5 s of it, and reports the two-window score near it', () => {
    const w = series([0.2, 0.3, 0.8, 0.9, 0.4, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 1.4, 1.1, 0.3, 0.2, 0.2]);
    const alerts = replayAlerts(w, mel);
    expect(alerts).toHaveLength(1);
    const event = (onset: number, label: string): GroundTruthEvent => ({
      onset,
      offset: onset + 0.1,
      lowHz: 100,
      highHz: 200,
      label,
    });
    // Alert 6-7.5 s. An event at 9.9 s is within 2.5 s of its end; one at 1.2 s is not (its nearby windows
    // reach 0.8 / 0.9: two-window score 0.8).
    const j = judgeReplay(w, alerts, [event(1.2, 'click'), event(9.9, 'knock')], 8);
    expect(j.events).toEqual([
      { label: 'click', onset: 1.2, offset: 1.3, found: false, pairScore: 0.8 },
      { label: 'knock', onset: 9.9, offset: 10, found: true, pairScore: 1.1 },
    ]);
    expect(j.falseAlerts).toBe(0);
    // Without events the same alert is false: 1 in 8 s is 450 an hour.
    const n = judgeReplay(w, alerts, [], 8);
    expect(n).toMatchObject({
      falseAlerts: 1,
      falseAlertsPerHour: 450,
      normalPeak: 1.4,
      normalPairPeak: 1.1,
    });
  });
});

describe('offline replay at a wider scoring hop', () => {
  // A short fault lifts windows 4 and 5, the two that overlap it.
  const w = series([0.2, 0.3, 0.2, 0.4, 1.5, 1.3, 0.3, 0.2, 0.2]);
  const fault: GroundTruthEvent = { onset: 2.6, offset: 2.9, lowHz: 100, highHz: 200, label: 'knock' };

  it("scores the first window, the sensor's turns, and the window the rule waits for", () => {
    // One window in 3, turn 2: windows 0, 1, 4, 7. Window 4 alone is over: without the window after it, no alert.
    expect(replayAlerts(w, mel, { stride: 3, turn: 2, confirming: false })).toEqual([]);
    // With it (the server's rule), window 5 is scored too and the alert opens on 4 and 5.
    expect(replayAlerts(w, mel, { stride: 3, turn: 2 })).toEqual([
      { start: 2, end: 3.5, peak: 1.5, windows: 2 },
    ]);
    // Turn 1 (windows 0, 2, 5, 8): 5 begins a run, so 4, skipped before it, is scored first: the alert opens on 4
    // and 5 as on turn 2. Without that, 6 (scored after 5) is under and nothing opens.
    expect(replayAlerts(w, mel, { stride: 3, turn: 1 })).toEqual([
      { start: 2, end: 3.5, peak: 1.5, windows: 2 },
    ]);
    expect(replayAlerts(w, mel, { stride: 3, turn: 1, confirming: false })).toEqual([]);
    // Turn 0 (windows 0, 3, 6): neither window of the fault.
    expect(replayAlerts(w, mel, { stride: 3, turn: 0 })).toEqual([]);
  });

  it('replays every turn and counts what each found', () => {
    const before = replayAtStride(w, mel, [fault], 5, 3, false);
    expect(before.turns.map((t) => t.eventsFound)).toEqual([0, 0, 0]);
    const after = replayAtStride(w, mel, [fault], 5, 3);
    expect(after.turns).toEqual([
      { turn: 0, alerts: 0, falseAlerts: 0, eventsFound: 0 },
      { turn: 1, alerts: 1, falseAlerts: 0, eventsFound: 1 },
      { turn: 2, alerts: 1, falseAlerts: 0, eventsFound: 1 },
    ]);
    // On a normal recording the same alerts are false: 2 in 3 turns of 5 s is 480 an hour.
    expect(replayAtStride(w, mel, [], 5, 3).falseAlertsPerHour).toBe(480);
    // Every window is every turn.
    expect(replayAtStride(w, mel, [fault], 5, 1).turns).toEqual([
      { turn: 0, alerts: 1, falseAlerts: 0, eventsFound: 1 },
    ]);
    expect(() => replayAtStride(w, mel, [], 5, 0)).toThrow(/stride \(0\) must be a whole number/);
  });
});

describe('hark bench false-alarms --offline', () => {
  const tmp = tempDir('bench-fa-offline');
  const data = join(tmp, 'data');

  beforeAll(() => {
    if (!existsSync(join(root, 'apps/cli/dist/main.js')))
      throw new Error('build the CLI first: npm run build');
    writeSynthDataset(data, {
      machines: ['pump'],
      trainClips: 8,
      testClips: 1,
      clipSeconds: 4,
      streamSeconds: 30,
      seed: 5,
    });
    copyFileSync(
      join(data, 'synth_pump', 'test', 'normal_0000.wav'),
      join(data, 'synth_pump', 'normal_stream.wav'),
    );
  });

  it('scores every window of each recording and judges its events with the server alert rule', async () => {
    const lines: string[] = [];
    const results = await runOfflineFalseAlarmBench({
      root: data,
      config: resolveDetectorConfig({}),
      stride: 2,
      log: (l) => lines.push(l),
    });
    expect(results.map((r) => r.recording)).toEqual(['normal_stream.wav', 'stream.wav']);
    const [normal, stream] = results;
    // 4 s = 247 columns: windows of 63 every 31 start at 0 .. 155 (6 windows), none aligned to the end.
    expect(normal.windows).toBe(6);
    expect(normal.falseAlerts).toBe(normal.alerts.length);
    // 30 s = 1872 columns: starts 0 .. 1798, 59 windows.
    expect(stream.windows).toBe(59);
    const truth = (
      JSON.parse(readFileSync(join(data, 'synth_pump', 'stream.json'), 'utf8')) as {
        events: GroundTruthEvent[];
      }
    ).events;
    expect(stream.events.map((e) => e.onset)).toEqual(truth.map((e) => e.onset));
    // The synthetic stream's anomalies are strong: each opens an alert, and found agrees with the score.
    for (const e of stream.events) {
      expect(e.found, `${e.label} at ${e.onset} s`).toBe(true);
      expect(e.pairScore).toBeGreaterThanOrEqual(1);
    }
    expect(stream.normalPairPeak).toBeLessThan(1);
    // One window in two, each turn: the strong synthetic events are found on both.
    expect(stream.atStride?.turns.map((t) => t.eventsFound)).toEqual([truth.length, truth.length]);
    expect(normal.atStride?.stride).toBe(2);
    const tables = offlineTables(results);
    expect(tables).toMatch(
      new RegExp(
        `\\| synth_pump \\| stream\\.wav \\| 2 \\| \\d+ / \\d+ \\| \\d+ / \\d+ \\| [\\d.]+ \\| ${truth.length} / ${truth.length} of ${truth.length} \\|`,
      ),
    );
    expect(tables).toContain('| synth_pump | stream.wav | 0.5 | 59 |');
    expect(tables).toMatch(/\| synth_pump \| \w+ \| 12\.0 \| yes \| \d+\.\d\d \|/);
    expect(lines.some((l) => /synth_pump stream\.wav: \d+ alerts \(\d+ false\) in 59 windows/.test(l))).toBe(
      true,
    );
  }, 300_000);

  it('refuses --stride without --offline, and a stride that is not a whole number', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [bin, 'bench', 'false-alarms', data, '--no-write', ...args], {
        encoding: 'utf8',
      });
    const live = run('--stride', '3');
    expect(live.status).not.toBe(0);
    expect(live.stderr).toMatch(/--stride replays the alert rule offline: give --offline too/);
    const bad = run('--offline', '--stride', '1.5');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/1\.5/);
  });

  it('names the groups that have a recording when asked for one without', () => {
    const r = spawnSync(
      process.execPath,
      [bin, 'bench', 'false-alarms', data, '--offline', '--no-write', '--groups', 'synth_fan'],
      { encoding: 'utf8' },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /no normal_stream\.wav or stream\.wav \+ stream\.json in group 'synth_fan' .*groups with one: synth_pump/,
    );
  });
});
