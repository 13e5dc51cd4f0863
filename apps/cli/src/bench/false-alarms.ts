/**
 * `hark bench false-alarms`: false alerts per sensor-hour, measured live. For every group of a dataset that
 * has a `normal_stream.wav` (normal operation only, DATASET.md), a detector is fitted on the group's `train/`
 * and placed in a fresh data directory; a real `hark serve` process is started on it, and each stream is
 * played through a real `hark sensor` process faster than real time, one sensor at a time (so the server
 * keeps up and drops no window). Every alert the server opens on these streams is false: their number over
 * the stream's duration is the false-alarm rate an operator would see, through the same alert rule
 * (consecutive windows over the threshold, hysteresis) as in the plant.
 *
 * The server and the sensors are driven as processes and over REST only, as an operator's script would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { fitDetector, listGroups, readClip, resolveDetectorConfig, saveModel } from '@hark/detection';
import { readWav } from '@hark/dsp';
import { configOverrides, positiveInt, positiveNumber } from '../options.js';
import { DETECTOR_HELP, detectorInput } from '../commands/detector-input.js';
import { markdownTable, writeBenchmarkSection } from './report.js';
import { NEAR_SECONDS, offlineTables, runOfflineFalseAlarmBench } from './false-alarms-offline.js';

const HARK_BIN = fileURLToPath(new URL('../../bin/hark.js', import.meta.url));
const SECONDS_PER_DAY = 86_400;

/** One group's stream, as the server saw it. */
export interface FalseAlarmResult {
  group: string;
  /** Duration of `normal_stream.wav` (sensor time), seconds. */
  streamSeconds: number;
  windowsScored: number;
  windowsDropped: number;
  /** Anomaly alerts opened on the stream: every one is false. */
  alerts: number;
  alertsPerHour: number;
  alertsPerDay: number;
  /** Peak normalised score of each alert. */
  alertPeaks: number[];
  /** Largest normalised window score over the stream, and the share of windows at or over 1. */
  maxScore: number;
  windowsOver: number;
}

export interface FalseAlarmBenchOptions {
  root: string;
  groups?: string[];
  /** Playback speed of `hark sensor --speed`. */
  speed: number;
  config?: Record<string, unknown>;
  log?: (line: string) => void;
}

/** The groups of `root` with a `normal_stream.wav`, or only those named. */
async function streamGroups(root: string, only?: string[]) {
  const all = await listGroups(root);
  const withStream = all.filter((g) => existsSync(join(g.dir, 'normal_stream.wav')));
  if (only?.length) {
    const bad = only.filter((n) => !withStream.some((g) => g.name === n));
    if (bad.length)
      throw new Error(
        `no normal_stream.wav in group ${bad.map((n) => `'${n}'`).join(', ')} of ${root}; groups with one: ${withStream.map((g) => g.name).join(', ') || 'none'}`,
      );
    return withStream.filter((g) => only.includes(g.name));
  }
  if (withStream.length === 0)
    throw new Error(`no group of ${root} has a normal_stream.wav (DATASET.md); nothing to stream`);
  return withStream;
}

/** A running `hark serve`: its URL and admin token, read from its first lines of output. */
interface ServeProcess {
  child: ChildProcess;
  url: string;
  admin: string;
  output: () => string;
}

async function startServe(dataDir: string): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [HARK_BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', dataDir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('hark serve did not start within 120 s')), 120_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(new Error(`${err.message}; its output:\n${out}`));
    };
    child.once('exit', (code) => fail(new Error(`hark serve exited with code ${code}`)));
    const poll = setInterval(() => {
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const admin = /admin token[^:]*: (hark_[A-Za-z0-9_-]+)/.exec(out)?.[1];
      if (!url || !admin) return;
      clearInterval(poll);
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ child, url, admin, output: () => out });
    }, 100);
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

async function api<T>(url: string, token: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Runs `hark sensor` on a WAV file to its end; resolves when it exits with 0, rejects with its output otherwise. */
function streamWav(url: string, token: string, sensorId: string, wav: string, speed: number) {
  const child = spawn(
    process.execPath,
    [HARK_BIN, 'sensor', '--server', url, '--id', sensorId, '--wav', wav, '--speed', String(speed)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HARK_TOKEN: token } },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise<void>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`hark sensor exited with ${code}:\n${out}`)),
    ),
  );
}

interface SensorView {
  windowsScored: number;
  windowsDropped: number;
  queueDepth: number;
}

/** Waits until the server has scored every queued window of the sensor (the count stops moving). */
async function drained(url: string, token: string, sensorId: string): Promise<SensorView> {
  let last = -1;
  for (let i = 0; i < 600; i++) {
    const s = await api<SensorView>(url, token, `/api/sensors/${sensorId}`);
    if (s.queueDepth === 0 && s.windowsScored === last) return s;
    last = s.windowsScored;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`sensor ${sensorId}: the server was still scoring after 5 minutes`);
}

export async function runFalseAlarmBench(o: FalseAlarmBenchOptions): Promise<FalseAlarmResult[]> {
  const log = o.log ?? (() => {});
  const groups = await streamGroups(o.root, o.groups);
  const config = resolveDetectorConfig(detectorInput({ config: o.config }));
  const tmp = mkdtempSync(join(tmpdir(), 'hark-bench-false-alarms-'));
  try {
    const dataDir = join(tmp, 'data');
    mkdirSync(join(dataDir, 'models'), { recursive: true });
    for (const g of groups) {
      log(`${g.name}: fitting on train/...`);
      const dir = join(g.dir, 'train');
      const files = readdirSync(dir)
        .filter((f) => /\.wav$/i.test(f))
        .sort();
      const clips = await Promise.all(files.map((f) => readClip(join(dir, f), config.mel.sampleRate)));
      const detector = await fitDetector(clips, config);
      try {
        await saveModel(detector, join(dataDir, 'models', g.name));
      } finally {
        await detector.release();
      }
    }
    log('starting hark serve...');
    const server = await startServe(dataDir);
    try {
      const { token } = await api<{ token: string }>(server.url, server.admin, '/api/tokens', {
        method: 'POST',
        // A sensor token is bound to the ids it streams as (the first it uses unless told): one token for
        // every group's stream.
        body: JSON.stringify({
          role: 'sensor',
          name: 'bench false-alarms',
          sensors: groups.map((g) => g.name),
        }),
      });
      const results: FalseAlarmResult[] = [];
      for (const g of groups) {
        const wav = join(g.dir, 'normal_stream.wav');
        const { samples, sampleRate } = await readWav(wav);
        const streamSeconds = samples.length / sampleRate;
        log(
          `${g.name}: streaming ${(streamSeconds / 60).toFixed(1)} min at ${o.speed}x through hark sensor...`,
        );
        await streamWav(server.url, token, g.name, wav, o.speed);
        const status = await drained(server.url, server.admin, g.name);
        const page = await api<{
          items: { peakScore: number; count?: number; occurrences?: { peakScore: number }[] }[];
          total: number;
        }>(server.url, server.admin, `/api/alerts?sensorId=${g.name}&kind=anomaly&limit=100`);
        // A false alarm is an alert opening: repeats the server folded into one alert count one each.
        const occurrences = page.items.flatMap((a) => a.occurrences ?? [a]);
        const alerts = { total: page.total - page.items.length + occurrences.length, occurrences };
        const scores = await api<{ score: number }[]>(
          server.url,
          server.admin,
          `/api/sensors/${g.name}/scores?limit=20000`,
        );
        const r: FalseAlarmResult = {
          group: g.name,
          streamSeconds,
          windowsScored: status.windowsScored,
          windowsDropped: status.windowsDropped,
          alerts: alerts.total,
          alertsPerHour: (alerts.total * 3600) / streamSeconds,
          alertsPerDay: (alerts.total * SECONDS_PER_DAY) / streamSeconds,
          alertPeaks: alerts.occurrences.map((a) => a.peakScore),
          maxScore: Math.max(...scores.map((s) => s.score)),
          windowsOver: scores.filter((s) => s.score >= 1).length / Math.max(1, scores.length),
        };
        log(
          `${g.name}: ${r.alerts} alerts in ${r.windowsScored} windows (${r.windowsDropped} dropped), peak window ${r.maxScore.toFixed(2)}`,
        );
        results.push(r);
      }
      return results;
    } finally {
      await stopProcess(server.child);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The Markdown table of a run, with a row of all streams together. */
export function falseAlarmTable(results: readonly FalseAlarmResult[]): string {
  const seconds = results.reduce((s, r) => s + r.streamSeconds, 0);
  const alerts = results.reduce((s, r) => s + r.alerts, 0);
  const f2 = (v: number) => v.toFixed(2);
  const rows = results.map((r) => [
    r.group,
    (r.streamSeconds / 60).toFixed(1),
    r.windowsScored,
    r.windowsDropped,
    r.alerts,
    r.alertsPerHour.toFixed(1),
    r.alertsPerDay.toFixed(0),
    f2(r.maxScore),
    `${(100 * r.windowsOver).toFixed(1)}%`,
    r.alertPeaks.length ? r.alertPeaks.map(f2).join(', ') : '-',
  ]);
  rows.push([
    'all',
    (seconds / 60).toFixed(1),
    results.reduce((s, r) => s + r.windowsScored, 0),
    results.reduce((s, r) => s + r.windowsDropped, 0),
    alerts,
    ((alerts * 3600) / seconds).toFixed(1),
    ((alerts * SECONDS_PER_DAY) / seconds).toFixed(0),
    f2(Math.max(...results.map((r) => r.maxScore))),
    '',
    '',
  ]);
  return markdownTable(
    [
      'group',
      'minutes',
      'windows',
      'dropped',
      'alerts',
      'per sensor-hour',
      'per sensor-day',
      'peak window',
      'windows >= 1',
      'alert peaks',
    ],
    rows,
  );
}

export function registerBenchFalseAlarms(bench: Command): void {
  bench
    .command('false-alarms')
    .description(
      'false alerts per sensor-hour: fit on train/, stream each normal_stream.wav live through hark serve and hark sensor',
    )
    .argument('<root>', 'dataset root (DATASET.md) whose groups may have a normal_stream.wav')
    .option(
      '--groups <names>',
      'only these groups, comma-separated (default: every group with a normal_stream.wav)',
    )
    .option('--speed <x>', 'playback speed of hark sensor', positiveNumber, 8)
    .option(
      '--offline',
      'no server: score every window of each normal_stream.wav (and stream.wav with its stream.json events) and apply the alert rule of hark serve; exact on a loaded machine',
    )
    .option(
      '--stride <n>',
      'with --offline: also replay the rule as hark serve past capacity scores one window in n (every turn; as the server does, the window after one over the threshold and the skipped one before the first of a run are scored too; default: none, every window only)',
      positiveInt,
    )
    .option('--config <json>', DETECTOR_HELP.config, configOverrides)
    .option('--json <out.json>', 'write the per-group results as JSON')
    .option('--no-write', 'print the table without updating BENCHMARKS.md')
    .action(
      async (
        root: string,
        o: {
          groups?: string;
          speed: number;
          config?: Record<string, unknown>;
          json?: string;
          write: boolean;
          offline?: boolean;
          stride?: number;
        },
      ) => {
        const groups = o.groups
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (o.stride !== undefined && !o.offline)
          throw new Error('--stride replays the alert rule offline: give --offline too');
        if (o.offline) {
          const results = await runOfflineFalseAlarmBench({
            root,
            groups,
            stride: o.stride,
            config: resolveDetectorConfig(detectorInput({ config: o.config })),
            log: (l) => console.log(l),
          });
          const tables = offlineTables(results);
          console.log(`\n${tables}`);
          if (o.json) writeFileSync(o.json, `${JSON.stringify(results, null, 1)}\n`);
          if (o.write) {
            const body =
              `${tables}\n\n` +
              'Offline replay (`hark bench false-alarms --offline`): each group fitted on `train/` (default configuration ' +
              'unless `--config`); every 0.5 s window of `normal_stream.wav` (every alert false) and of `stream.wav` ' +
              '(events from `stream.json`) scored, none dropped, and fed to the alert rule of `hark serve` ' +
              '(2 consecutive windows >= 1 open an alert, 2 under close it). An event is found when an alert lies ' +
              `within ${NEAR_SECONDS} s of it; "two-window score": the largest minimum of two consecutive window ` +
              'scores near it (>= 1 opens an alert). "normal peak": the same away from every event.';
            console.log(
              `written to ${writeBenchmarkSection('false-alarms-offline', 'False alerts on normal streams, offline replay', body)}`,
            );
          }
          return;
        }
        const results = await runFalseAlarmBench({
          root,
          groups,
          speed: o.speed,
          config: o.config,
          log: (l) => console.log(l),
        });
        const table = falseAlarmTable(results);
        console.log(`\n${table}`);
        if (o.json) writeFileSync(o.json, `${JSON.stringify(results, null, 1)}\n`);
        if (o.write) {
          const body =
            `${table}\n\n` +
            'Each group: a detector fitted on `train/` (default configuration unless `--config`), placed in a fresh data ' +
            'directory of a real `hark serve`; `normal_stream.wav` (normal operation only) played through a real ' +
            `\`hark sensor\` at ${o.speed}x, one sensor at a time; alerts counted over REST. Every alert is false. ` +
            'Rates are per hour and per day of sensor time (the stream, not the wall clock). "peak window": largest ' +
            'normalised window score; "windows >= 1": share of windows at or over the threshold.';
          console.log(
            `written to ${writeBenchmarkSection('false-alarms', 'False alerts per sensor-hour on normal streams', body)}`,
          );
        }
      },
    );
}
