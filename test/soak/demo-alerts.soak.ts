/**
 * The demo's alerts over ten minutes of its recordings (issue 14, `make soak`, not part of `make test`):
 * `scripts/demo.sh` as an operator starts it, with its three machines playing at 4x (`HARK_DEMO_SPEED`), so
 * ten minutes of sound take 2.5 minutes of wall time. Each machine has an anomaly every 60 s of recording.
 *
 * The server's lifecycle runs on its own (wall) clock, so the quiet time and the repeat window are given in
 * wall seconds, chosen so that both checks below see many alerts: at 4x a machine's anomalies come every
 * 15 s of wall time; a repeat window of 5 s (under 15) keeps separate anomalies separate alerts while the
 * flicker of one anomaly folds; a quiet time of 10 s (under 15) lets each alert resolve by itself before the
 * machine's next anomaly.
 *
 * Asserted:
 * - at most one alert per injected anomaly (so at most one open alert per anomaly), and at the end no more
 *   unresolved alerts than anomalies;
 * - at every poll (every 2 s) and at the end: no unresolved alert whose condition cleared more than the quiet
 *   time ago, give or take the lifecycle's one-second sweep and `LATE_MS` for a loaded machine.
 *
 * Alerts matching no injected anomaly (false alarms) and anomalies that raised no alert are detection
 * figures, not lifecycle ones: they are printed, with the rest, as one `demo alerts figures:` JSON line.
 * `HARK_DEMO_SOAK_SPEED` and `HARK_DEMO_SOAK_MINUTES` change the speed and the length.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alert, Page, SensorStatus } from '@hark/protocol';
import { apiCall, REPO, sleep } from '../support/server.js';

const SPEED = Number(process.env.HARK_DEMO_SOAK_SPEED ?? 4);
const STREAM_SECONDS = 60 * Number(process.env.HARK_DEMO_SOAK_MINUTES ?? 10);
const QUIET_SECONDS = 10;
const REPEAT_SECONDS = 5;
/** The demo's loop length and its sensors (scripts/demo.sh). */
const LOOP_SECONDS = 300;
const SENSORS = ['pump-1', 'fan-1', 'gearbox-1'];
/** An alert belongs to an anomaly when it starts from `BEFORE_S` before its onset to `AFTER_S` after its end. */
const BEFORE_S = 3;
const AFTER_S = 8;
/** Lateness allowed to the auto-resolve beyond the quiet time and its one-second sweep (a loaded machine). */
const LATE_MS = 3000;
/** The demo's directory: its sound and fitted detectors are reused between runs while the code is unchanged. */
const DEMO_DIR = join(REPO, 'test-results/demo-soak');

interface Anomaly {
  sensorId: string;
  /** Stream seconds from the sensor's first sample. */
  onset: number;
  offset: number;
  label: string;
  alerts: number[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('the demo at 4x: alerts that do not pile up', () => {
  let demo: ChildProcess;
  let output = '';
  let url = '';
  let token = '';
  const api = <T>(path: string) => apiCall<T>(url, token, path);
  async function allAlerts(): Promise<Alert[]> {
    const out: Alert[] = [];
    for (;;) {
      const page = await api<Page<Alert>>(`/api/alerts?limit=500&offset=${out.length}&sort=id&order=asc`);
      out.push(...page.items);
      if (out.length >= page.total || page.items.length === 0) return out;
    }
  }

  beforeAll(async () => {
    const port = await freePort();
    demo = spawn('bash', ['scripts/demo.sh'], {
      cwd: REPO,
      env: {
        ...process.env,
        HARK_PORT: String(port),
        HARK_DEMO_DIR: DEMO_DIR,
        HARK_DEMO_SPEED: String(SPEED),
        HARK_ALERT_QUIET_SECONDS: String(QUIET_SECONDS),
        HARK_ALERT_REPEAT_SECONDS: String(REPEAT_SECONDS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    demo.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    // Synthesis and fitting (first run, or after a change of the detection code) take minutes on 2 cores.
    for (const until = Date.now() + 900_000; !url; await sleep(500)) {
      const m = /Dashboard:\s+(http:\/\/[^/\s]+)\/\?token=(\S+)/.exec(output);
      if (m) [, url, token] = m;
      if (demo.exitCode !== null) throw new Error(`scripts/demo.sh ended early:\n${output}`);
      if (Date.now() > until) throw new Error(`scripts/demo.sh was not ready in 15 min:\n${output}`);
    }
  }, 960_000);

  afterAll(async () => {
    if (demo && demo.exitCode === null) {
      // A background job of a non-interactive shell ignores SIGINT: SIGTERM runs the script's clean stop.
      demo.kill('SIGTERM');
      await new Promise((r) => demo.once('exit', r));
    }
  });

  test(`${STREAM_SECONDS / 60} minutes of the recordings at ${SPEED}x`, async () => {
    // Where each sensor's stream began (stream ms of its first sample): anomalies are placed from there.
    const started = new Map<string, number>();
    for (const until = Date.now() + 60_000; started.size < SENSORS.length; await sleep(250)) {
      for (const s of await api<SensorStatus[]>('/api/sensors'))
        if (SENSORS.includes(s.id) && s.streamStartedAt !== null) started.set(s.id, s.streamStartedAt);
      if (Date.now() > until) throw new Error(`sensors not streaming after 60 s:\n${output}`);
    }
    const wallStart = Date.now();
    const stale: string[] = [];
    let maxUnresolved = 0;
    /** Unresolved alerts whose condition cleared longer ago than the quiet time allows. */
    const check = (alerts: Alert[], now: number) => {
      const unresolved = alerts.filter((a) => a.state !== 'resolved');
      maxUnresolved = Math.max(maxUnresolved, unresolved.length);
      for (const a of unresolved) {
        if (a.active || a.clearedAt === null) continue;
        const late = now - a.clearedAt - (QUIET_SECONDS + 1) * 1000;
        if (late > LATE_MS)
          stale.push(`alert ${a.id} (${a.sensorId}) ${a.state} ${Math.round(late)} ms after its quiet time`);
      }
    };
    let alerts: Alert[] = [];
    while (Date.now() - wallStart < (STREAM_SECONDS / SPEED) * 1000) {
      await sleep(2000);
      const now = Date.now();
      alerts = await allAlerts();
      check(alerts, now);
      expect(demo.exitCode, `scripts/demo.sh ended:\n${output}`).toBeNull();
    }
    // The last anomaly's alert has the quiet time to resolve, then the final check.
    await sleep((QUIET_SECONDS + 2) * 1000);
    const statuses = await api<SensorStatus[]>('/api/sensors');
    const end = Date.now();
    alerts = await allAlerts();
    check(alerts, end);

    // The anomalies injected while the run streamed, from the demo's ground truth (its loop of 300 s).
    const anomalies: Anomaly[] = [];
    for (const id of SENSORS) {
      const streamed = ((end - wallStart) / 1000) * SPEED;
      const truth = JSON.parse(readFileSync(join(DEMO_DIR, 'sound', `${id}.json`), 'utf8')) as {
        events: { onset: number; offset: number; label: string }[];
      };
      for (let loop = 0; loop * LOOP_SECONDS < streamed; loop++)
        for (const e of truth.events) {
          const onset = e.onset + loop * LOOP_SECONDS;
          if (onset < streamed)
            anomalies.push({
              sensorId: id,
              onset,
              offset: e.offset + loop * LOOP_SECONDS,
              label: e.label,
              alerts: [],
            });
        }
    }
    const falseAlerts: Alert[] = [];
    for (const a of alerts.filter((x) => SENSORS.includes(x.sensorId) && x.kind === 'anomaly')) {
      const at = (a.start - (started.get(a.sensorId) as number)) / 1000;
      const hit = anomalies.find(
        (n) => n.sensorId === a.sensorId && at >= n.onset - BEFORE_S && at <= n.offset + AFTER_S,
      );
      if (hit) hit.alerts.push(a.id);
      else falseAlerts.push(a);
    }
    const unresolved = alerts.filter((a) => a.state !== 'resolved');
    const figures = {
      speed: SPEED,
      streamSeconds: Math.round(((end - wallStart) / 1000) * SPEED),
      quietSeconds: QUIET_SECONDS,
      repeatSeconds: REPEAT_SECONDS,
      anomaliesInjected: anomalies.length,
      anomaliesAlerted: anomalies.filter((n) => n.alerts.length > 0).length,
      anomaliesWithSeveralAlerts: anomalies.filter((n) => n.alerts.length > 1).length,
      alerts: alerts.length,
      silenceAlerts: alerts.filter((a) => a.kind === 'silence').length,
      falseAlerts: falseAlerts.length,
      falseAlertsAt: falseAlerts.map(
        (a) => `${a.sensorId}@${Math.round((a.start - (started.get(a.sensorId) as number)) / 1000)}s`,
      ),
      foldedOccurrences: alerts.reduce((n, a) => n + a.count - 1, 0),
      autoResolved: alerts.filter((a) => a.autoResolved).length,
      unresolvedAtEnd: unresolved.length,
      maxUnresolvedAtOnce: maxUnresolved,
      staleOpen: stale.length,
      windowsScored: statuses.reduce((n, s) => n + s.windowsScored, 0),
      windowsDropped: statuses.reduce((n, s) => n + s.windowsDropped, 0),
    };
    console.log(`demo alerts figures: ${JSON.stringify(figures)}`);

    for (const n of anomalies)
      expect(
        n.alerts.length,
        `${n.sensorId} ${n.label} at ${n.onset} s: alerts ${n.alerts.join(', ')}`,
      ).toBeLessThanOrEqual(1);
    expect(unresolved.length).toBeLessThanOrEqual(anomalies.length);
    expect(stale, 'unresolved alerts past their quiet time').toEqual([]);
    // The run saw the lifecycle work: alerts were raised and resolved by themselves.
    expect(figures.anomaliesAlerted).toBeGreaterThan(0);
    expect(figures.autoResolved).toBeGreaterThan(0);
  });
});
