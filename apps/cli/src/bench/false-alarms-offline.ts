/**
 * `hark bench false-alarms --offline`: the live bench's measurement without the live path. For every group
 * of a dataset with a `normal_stream.wav` (normal operation only) or a `stream.wav` with its `stream.json`
 * (known events), a detector is fitted on the group's `train/` as the live bench fits it, and **every** window
 * the server would cut from the recording (`windowFrames` columns every `hopFrames`, from column 0, no
 * last window aligned to the end) is scored and fed, in order, to the server's own alert rule
 * (`AlertTracker`: `openWindows` consecutive windows at or over 1 open an alert, `closeWindows` under it
 * close it). Nothing is dropped, so the counts are exact on a loaded machine, where the live server drops
 * windows and can only hide alerts.
 *
 * For a recording with events, an event is found when an alert lies within `NEAR_SECONDS` of it (the rule
 * of test/server/stream.test.ts), and each event reports the statistic the alert rule thresholds: the largest
 * minimum of two consecutive window scores among the windows near it. The same statistic over the windows
 * near no event is the recording's normal peak.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  copyWindow,
  fitDetector,
  listGroups,
  readClip,
  readGroup,
  type DetectorConfig,
} from '@hark/detection';
import type { GroundTruthEvent } from '@hark/dsp';
import { AlertTracker, onTurn } from '@hark/server';

/** Seconds of slack around a known event within which an alert counts as near it (test/server/stream.test.ts). */
export const NEAR_SECONDS = 2.5;

/** One scored window of a replayed recording: stream seconds (column stamps, as the server's `t0`/`t1`). */
export interface ReplayWindow {
  t0: number;
  t1: number;
  /** Normalised window score (1 = threshold). */
  score: number;
}

/** An alert of a replay, stream seconds. */
export interface ReplayAlert {
  start: number;
  end: number;
  peak: number;
  windows: number;
}

/** One known event of a recording and what the replay made of it. */
export interface ReplayEvent {
  label: string;
  onset: number;
  offset: number;
  found: boolean;
  /** Largest min(score[i], score[i + 1]) over consecutive windows near the event: >= 1 opens an alert. */
  pairScore: number;
}

export interface OfflineStreamResult {
  group: string;
  /** `normal_stream.wav` (every alert false) or `stream.wav` (known events). */
  recording: 'normal_stream.wav' | 'stream.wav';
  streamSeconds: number;
  windows: number;
  alerts: ReplayAlert[];
  /** Alerts near no known event (all of them on a normal stream). */
  falseAlerts: number;
  falseAlertsPerHour: number;
  falseAlertsPerDay: number;
  /** Largest window score near no event, and the largest two-window minimum there. */
  normalPeak: number;
  normalPairPeak: number;
  /** Known events (empty for a normal stream). */
  events: ReplayEvent[];
  /** With `--stride`: the alert rule at that scoring hop, each turn replayed. */
  atStride?: StrideReplay;
}

/**
 * A server past capacity scores one window in `stride` (hop-governor.ts): the sensor's turn `turn` (0 to stride - 1)
 * and, with `confirming` (the server's rule), the window after one over the threshold whatever its turn, and the
 * skipped window before one that begins a run over it.
 */
export interface ReplayStride {
  stride: number;
  turn: number;
  confirming: boolean;
}

/** What the alert rule made of a recording at a wider scoring hop, one entry per turn. */
export interface StrideReplay {
  stride: number;
  turns: { turn: number; alerts: number; falseAlerts: number; eventsFound: number }[];
  /** False alerts over every turn, per hour of sensor time (each turn is one sensor's hour). */
  falseAlertsPerHour: number;
}

const near = (a: { start: number; end: number }, e: { onset: number; offset: number }) =>
  a.start <= e.offset + NEAR_SECONDS && a.end >= e.onset - NEAR_SECONDS;

/**
 * The server's alert rule over a replayed recording's windows, in order: the alerts it opens (each with its
 * span and peak). Uses the server's `AlertTracker` itself, so the rule cannot drift from the live one.
 */
export function replayAlerts(
  windows: readonly ReplayWindow[],
  mel: DetectorConfig['mel'],
  options: { openWindows?: number; closeWindows?: number } & Partial<ReplayStride> = {},
): ReplayAlert[] {
  const { stride = 1, turn = 0, confirming = true, ...rule } = options;
  const tracker = new AlertTracker({ mel, ...rule });
  const alerts: ReplayAlert[] = [];
  const record = (
    type: string,
    a: { start: number; end: number | null; peakScore: number; windows: number },
  ) => {
    const r = {
      start: a.start / 1000,
      end: (a.end ?? a.start) / 1000,
      peak: a.peakScore,
      windows: a.windows,
    };
    if (type === 'opened') alerts.push(r);
    else if (alerts.length) alerts[alerts.length - 1] = r;
  };
  const observe = (w: ReplayWindow) => {
    for (const ev of tracker.observe({ t0: w.t0 * 1000, t1: w.t1 * 1000, score: w.score }))
      record(ev.type, ev.alert);
  };
  // The index of the last window skipped (none yet).
  let skipped: number | null = null;
  for (const [i, w] of windows.entries()) {
    // The server's admission (`HopGovernor.admit`): the first window, the sensor's turns, and the window the
    // rule waits for; and a skipped window before one that begins a run (`WindowScorer`), scored first.
    if (i > 0 && !onTurn(i, turn, stride) && !(confirming && tracker.confirming)) {
      skipped = i;
      continue;
    }
    if (confirming && skipped !== null && skipped === i - 1 && tracker.wouldBegin(w.score))
      observe(windows[i - 1]);
    observe(w);
  }
  for (const ev of tracker.close()) record(ev.type, ev.alert);
  return alerts;
}

/**
 * The alert rule over a recording's windows as a server scoring one window in `stride` sees them (the
 * confirming window included, `ReplayStride`), once for each of the `stride` turns a sensor can have.
 */
export function replayAtStride(
  windows: readonly ReplayWindow[],
  mel: DetectorConfig['mel'],
  events: readonly GroundTruthEvent[],
  streamSeconds: number,
  stride: number,
  confirming = true,
): StrideReplay {
  if (!(Number.isInteger(stride) && stride >= 1))
    throw new RangeError(`stride (${stride}) must be a whole number >= 1`);
  const turns = Array.from({ length: stride }, (_, turn) => {
    const alerts = replayAlerts(windows, mel, { stride, turn, confirming });
    const judged = judgeReplay(windows, alerts, events, streamSeconds);
    return {
      turn,
      alerts: alerts.length,
      falseAlerts: judged.falseAlerts,
      eventsFound: judged.events.filter((e) => e.found).length,
    };
  });
  const falseAlerts = turns.reduce((n, t) => n + t.falseAlerts, 0);
  return { stride, turns, falseAlertsPerHour: (falseAlerts * 3600) / (streamSeconds * stride) };
}

/** Judges a replay: alerts, false alerts (near no event), each event's found flag and two-window score. */
export function judgeReplay(
  windows: readonly ReplayWindow[],
  alerts: readonly ReplayAlert[],
  events: readonly GroundTruthEvent[],
  streamSeconds: number,
): Pick<
  OfflineStreamResult,
  'falseAlerts' | 'falseAlertsPerHour' | 'falseAlertsPerDay' | 'normalPeak' | 'normalPairPeak' | 'events'
> {
  const span = (w: ReplayWindow) => ({ start: w.t0, end: w.t1 });
  const nearAny = (a: { start: number; end: number }) => events.some((e) => near(a, e));
  const falseAlerts = alerts.filter((a) => !nearAny(a)).length;
  let normalPeak = 0;
  let normalPairPeak = 0;
  const pairs = windows.slice(1).map((w, i) => ({
    start: windows[i].t0,
    end: w.t1,
    score: Math.min(windows[i].score, w.score),
  }));
  for (const w of windows) if (!nearAny(span(w))) normalPeak = Math.max(normalPeak, w.score);
  for (const p of pairs) if (!nearAny(p)) normalPairPeak = Math.max(normalPairPeak, p.score);
  return {
    falseAlerts,
    falseAlertsPerHour: (falseAlerts * 3600) / streamSeconds,
    falseAlertsPerDay: (falseAlerts * 86_400) / streamSeconds,
    normalPeak,
    normalPairPeak,
    events: events.map((e) => ({
      label: e.label || 'event',
      onset: e.onset,
      offset: e.offset,
      found: alerts.some((a) => near(a, e)),
      pairScore: Math.max(0, ...pairs.filter((p) => near(p, e)).map((p) => p.score)),
    })),
  };
}

/** The recordings of `root` to replay: every group's `normal_stream.wav` and `stream.wav` + `stream.json`. */
async function recordings(root: string, only?: string[]) {
  const all = await listGroups(root);
  const out: { group: string; dir: string; wav: string; recording: OfflineStreamResult['recording'] }[] = [];
  for (const g of all) {
    if (only?.length && !only.includes(g.name)) continue;
    if (existsSync(join(g.dir, 'normal_stream.wav')))
      out.push({
        group: g.name,
        dir: g.dir,
        wav: join(g.dir, 'normal_stream.wav'),
        recording: 'normal_stream.wav',
      });
    if (existsSync(join(g.dir, 'stream.wav')) && existsSync(join(g.dir, 'stream.json')))
      out.push({ group: g.name, dir: g.dir, wav: join(g.dir, 'stream.wav'), recording: 'stream.wav' });
  }
  const bad = (only ?? []).filter((n) => !out.some((r) => r.group === n));
  if (bad.length) {
    const withOne = only?.length ? [...new Set((await recordings(root)).map((r) => r.group))] : [];
    throw new Error(
      `no normal_stream.wav or stream.wav + stream.json in group ${bad.map((n) => `'${n}'`).join(', ')} of ${root}; ` +
        `groups with one: ${withOne.join(', ') || 'none'}`,
    );
  }
  if (out.length === 0)
    throw new Error(
      `no group of ${root} has a normal_stream.wav or a stream.wav + stream.json; nothing to replay`,
    );
  return out;
}

/** Fits each group on its `train/` once and replays its recordings through the server's alert rule. */
export async function runOfflineFalseAlarmBench(o: {
  root: string;
  groups?: string[];
  config: DetectorConfig;
  /** Also replay the rule as a server past capacity scoring one window in `stride` (each turn). */
  stride?: number;
  log?: (line: string) => void;
}): Promise<OfflineStreamResult[]> {
  const log = o.log ?? (() => {});
  const recs = await recordings(o.root, o.groups);
  const { config } = o;
  const { mel } = config;
  const results: OfflineStreamResult[] = [];
  for (const group of [...new Set(recs.map((r) => r.group))]) {
    const dir = recs.find((r) => r.group === group)!.dir;
    log(`${group}: fitting on train/...`);
    const { train } = await readGroup({ name: group, dir });
    const clips = await Promise.all(train.map((p) => readClip(p, mel.sampleRate)));
    const detector = await fitDetector(clips, config);
    try {
      for (const r of recs.filter((x) => x.group === group)) {
        const samples = await readClip(r.wav, mel.sampleRate);
        const streamSeconds = samples.length / mel.sampleRate;
        const spec = detector.spectrogram(samples);
        const { windowFrames: wf, hopFrames: hf } = detector;
        // The server's windows: from column 0 every hopFrames while a whole window fits (SensorStream).
        const starts: number[] = [];
        for (let s = 0; s + wf <= spec.nFrames; s += hf) starts.push(s);
        const stamp = (k: number) => (k * mel.hopLength + mel.nFft / 2) / mel.sampleRate;
        const windows: ReplayWindow[] = [];
        for (let i = 0; i < starts.length; i += 32) {
          const batch = starts
            .slice(i, i + 32)
            .map((s) => copyWindow(spec.data, mel.nMels, spec.nFrames, s, wf));
          const scored = await detector.scoreWindows(batch);
          scored.forEach((w, j) =>
            windows.push({ t0: stamp(starts[i + j]), t1: stamp(starts[i + j] + wf), score: w.normalised }),
          );
        }
        const events =
          r.recording === 'stream.wav'
            ? (JSON.parse(readFileSync(join(dir, 'stream.json'), 'utf8')) as { events: GroundTruthEvent[] })
                .events
            : [];
        const alerts = replayAlerts(windows, mel);
        const result: OfflineStreamResult = {
          group,
          recording: r.recording,
          streamSeconds,
          windows: windows.length,
          alerts,
          ...judgeReplay(windows, alerts, events, streamSeconds),
          ...(o.stride !== undefined &&
            o.stride > 1 && { atStride: replayAtStride(windows, mel, events, streamSeconds, o.stride) }),
        };
        log(
          `${group} ${r.recording}: ${alerts.length} alerts (${result.falseAlerts} false) in ${windows.length} windows, ` +
            `normal peak ${result.normalPeak.toFixed(2)} (two-window ${result.normalPairPeak.toFixed(2)})` +
            (events.length
              ? `; events found ${result.events.filter((e) => e.found).length} of ${events.length}`
              : ''),
        );
        results.push(result);
      }
    } finally {
      await detector.release();
    }
  }
  return results;
}

/** Markdown tables of an offline run: one row per recording, and one per known event. */
export function offlineTables(results: readonly OfflineStreamResult[]): string {
  const f2 = (v: number) => v.toFixed(2);
  const head = [
    '| group | recording | minutes | windows | alerts | false alerts | per sensor-hour | normal peak (window / two-window) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const rows = results.map(
    (r) =>
      `| ${r.group} | ${r.recording} | ${(r.streamSeconds / 60).toFixed(1)} | ${r.windows} | ${r.alerts.length} | ` +
      `${r.falseAlerts} | ${r.falseAlertsPerHour.toFixed(1)} | ${f2(r.normalPeak)} / ${f2(r.normalPairPeak)} |`,
  );
  const events = results.flatMap((r) => r.events.map((e) => ({ group: r.group, ...e })));
  const strided = results.filter((r) => r.atStride);
  const strides = strided.length
    ? [
        '',
        `| group | recording | scoring hop: one window in | alerts, each turn | false alerts, each turn | per sensor-hour | events found, each turn |`,
        '| --- | --- | --- | --- | --- | --- | --- |',
        ...strided.map((r) => {
          const s = r.atStride!;
          const each = (k: 'alerts' | 'falseAlerts' | 'eventsFound') => s.turns.map((t) => t[k]).join(' / ');
          return (
            `| ${r.group} | ${r.recording} | ${s.stride} | ${each('alerts')} | ${each('falseAlerts')} | ` +
            `${s.falseAlertsPerHour.toFixed(1)} | ${r.events.length ? `${each('eventsFound')} of ${r.events.length}` : '-'} |`
          );
        }),
      ]
    : [];
  if (events.length === 0) return [...head, ...rows, ...strides].join('\n');
  return [
    ...head,
    ...rows,
    ...strides,
    '',
    '| group | event | onset s | found | two-window score |',
    '| --- | --- | --- | --- | --- |',
    ...events.map(
      (e) =>
        `| ${e.group} | ${e.label} | ${e.onset.toFixed(1)} | ${e.found ? 'yes' : 'no'} | ${f2(e.pairScore)} |`,
    ),
  ].join('\n');
}
