/**
 * One sensor's data path without Nest: audio through ingest, scoring (real scheduler and leases), the live
 * hub and the alerts, with the real store and media. The detector is a stand-in that scores what the test
 * says (a real one needs a fitted model and a backbone; the e2e tests run those).
 */
import { describe, expect, it } from 'vitest';
import type { Detector } from '@hark/detection';
import type { Alert, ColumnsEvent, ScoreEvent } from '@hark/protocol';
import { AlertMediaStore } from '../../src/alerts/alert-media.js';
import { AlertService } from '../../src/alerts/alert.service.js';
import { resolveServerConfig } from '../../src/config.js';
import { HarkEvents } from '../../src/events.js';
import { LiveHub, type LiveSocket } from '../../src/live/live-hub.js';
import { HarkMetrics } from '../../src/metrics/hark.metrics.js';
import { DetectorLeases } from '../../src/scoring/leases.js';
import { WindowScorer, type DetectorSource, type WindowResult } from '../../src/scoring/window-scorer.js';
import { SensorLine } from '../../src/sensors/sensor-line.js';
import { f32Bytes, sine } from '../ingest/helpers.js';
import { tempStore } from '../store/helpers.js';

class Dashboard implements LiveSocket {
  sent: { event: string; payload: unknown }[] = [];
  constructor(readonly id: string) {}
  emit(event: string, payload: unknown) {
    this.sent.push({ event, payload });
    return true;
  }
  backlog() {
    return 0;
  }
  onDrain() {}
  of<T>(event: string): T[] {
    return this.sent.filter((m) => m.event === event).map((m) => m.payload as T);
  }
}

/** Scores each window by `scoreAt(window end)`, with a flat anomaly map of the window's shape. */
class ScriptedDetector {
  constructor(
    private readonly shape: () => { nMels: number; frames: number },
    private readonly scoreAt: (data: Float32Array) => number,
  ) {}
  async scoreWindow(data: Float32Array) {
    const { nMels, frames } = this.shape();
    const score = this.scoreAt(data);
    return {
      normalised: score,
      windowScore: score * 2,
      map: new Float32Array(nMels * frames).fill(score),
      embeddings: new Float32Array(4).fill(score),
    };
  }
  async release() {}
}

function setup(score: (n: number) => number) {
  const { store, dir } = tempStore();
  const config = resolveServerConfig({ dataDir: dir, log: () => {} }, {});
  const media = new AlertMediaStore(dir, store);
  const events = new HarkEvents();
  const hub = new LiveHub();
  const dashboard = new Dashboard('d1');
  hub.add(dashboard);
  hub.subscribe('d1', 'pump-1');
  const metrics = new HarkMetrics({ defaultMetrics: false });
  const alerts = new AlertService({ store, media, events, hub, metrics, log: () => {} });
  let line: SensorLine | null = null;
  let windows = 0;
  const detector = new ScriptedDetector(
    () => ({ nMels: line!.stream.mel.nMels, frames: line!.stream.windowFrames }),
    () => score(windows++),
  ) as unknown as Detector;
  const leases = new DetectorLeases();
  const models: DetectorSource = { detector: () => detector, acquire: () => leases.acquire(detector) };
  const scorer = new WindowScorer({ concurrency: 1, queuePerSensor: 100, models, metrics, log: () => {} });
  const changes: boolean[] = [];
  line = new SensorLine('pump-1', {
    config,
    store,
    scorer,
    alerts,
    hub,
    metrics,
    onChange: (_l, now) => changes.push(now),
    log: () => {},
  });
  return { store, line, scorer, dashboard, changes };
}

/** Streams `seconds` of a 440 Hz tone in 0.5 s chunks from `t0`, as a connected sensor would. */
function stream(line: SensorLine, seconds: number, t0 = 1_700_000_000_000) {
  line.ingest.connect('sock-1', () => {}, 'box');
  const hello = line.ingest.hello(
    'sock-1',
    { sampleRate: 16000, channels: 1, format: 'f32le', streamId: 's' },
    t0,
  );
  expect(hello.ack).toMatchObject({ ok: true, nextSeq: 0 });
  for (let seq = 0; seq < seconds * 2; seq++) {
    const data = f32Bytes(sine(8000, 16000, 440, 0.3));
    const ack = line.ingest.audio('sock-1', { seq, data, t: t0 + seq * 500 }, t0 + seq * 500);
    expect(ack).toEqual({ ok: true, seq });
  }
}

describe('SensorLine', () => {
  it('hands each window from ingest to scoring, then its columns and score to the dashboards', async () => {
    const s = setup(() => 0.25);
    stream(s.line, 4);
    await s.scorer.scheduler.idle();
    const scores = s.dashboard.of<ScoreEvent>('score');
    expect(scores.length).toBeGreaterThanOrEqual(5);
    expect(scores[0]).toMatchObject({ sensorId: 'pump-1', score: 0.25, rawScore: 0.5, threshold: 1 });
    expect(scores.map((e) => e.t)).toEqual([...scores.map((e) => e.t)].sort((a, b) => a - b));
    const columns = s.dashboard.of<ColumnsEvent>('columns');
    expect(columns.length).toBeGreaterThan(0);
    expect(columns.every((c) => c.sensorId === 'pump-1' && c.melHz?.length === c.nMels)).toBe(true);
    expect(columns.some((c) => c.scored)).toBe(true);
    expect(s.line.lastScore).toBe(0.25);
    expect(s.line.live.backfill(30).length).toBeGreaterThan(0);
    expect(s.dashboard.of<Alert>('alert')).toEqual([]);
    await s.store.scores.flush();
    expect((await s.store.scores.range('pump-1', {})).length).toBe(scores.length);
  });

  it('opens an alert after the windows over the threshold, keeps it on disconnect, then closes it', async () => {
    const s = setup((n) => (n >= 2 ? 3 : 0.1));
    stream(s.line, 4);
    await s.scorer.scheduler.idle();
    await s.line.alerts.settled();
    const opened = s.dashboard.of<Alert>('alert');
    expect(opened).toMatchObject([{ sensorId: 'pump-1', kind: 'anomaly', active: true, state: 'open' }]);
    expect(s.line.alerts.activeAlertId).toBe(opened[0].id);
    expect(s.changes).toContain(true);
    expect(s.line.ingest.disconnect('sock-other')).toBe(false);
    expect(s.line.ingest.disconnect('sock-1')).toBe(true);
    s.line.alerts.disconnected();
    await s.line.alerts.settled();
    await s.line.alerts.flushClips(true);
    const closed = await s.store.alerts.require(opened[0].id);
    expect(closed).toMatchObject({ active: false, peakScore: 3 });
    expect(closed.end).not.toBeNull();
    expect(s.line.alerts.activeAlertId).toBeNull();
    expect(s.dashboard.of<Alert>('alert:update').at(-1)).toMatchObject({ id: opened[0].id, active: false });
  });

  it('tells the scorer that its alert rule waits for the next window after one over the threshold', async () => {
    const dry = setup(() => 0.1);
    stream(dry.line, 4);
    await dry.scorer.scheduler.idle();
    const n = dry.dashboard.of<ScoreEvent>('score').length;
    expect(dry.line.confirming()).toBe(false);
    const result = (normalised: number) => ({ normalised }) as WindowResult;
    // A window over the threshold would begin a run: the window before it may belong to it.
    expect(dry.line.beginsRun(result(1.2))).toBe(true);
    expect(dry.line.beginsRun(result(0.9))).toBe(false);
    // The last window over the threshold: one of the two the rule needs.
    const s = setup((k) => (k === n - 1 ? 3 : 0.1));
    stream(s.line, 4);
    await s.scorer.scheduler.idle();
    expect(s.line.confirming()).toBe(true);
    expect(s.line.beginsRun(result(3))).toBe(false); // a run is under way
    // The last two over: the alert opened, the rule waits for nothing.
    const t = setup((k) => (k >= n - 2 ? 3 : 0.1));
    stream(t.line, 4);
    await t.scorer.scheduler.idle();
    await t.line.alerts.settled();
    expect(t.dashboard.of<Alert>('alert')).toHaveLength(1);
    expect(t.line.confirming()).toBe(false);
  });

  it('lets a second connection stream only when its hello takes over; the first is then closed and answered as replaced', () => {
    const s = setup(() => 0);
    const f = { sampleRate: 16000, channels: 1, format: 'f32le' };
    let kicked = '';
    s.line.ingest.connect('old', (why) => (kicked = why), 'box');
    expect(s.line.ingest.hello('old', f, 1).ack).toMatchObject({ ok: true });
    s.line.ingest.connect('new', () => {}, 'box');
    const busy = s.line.ingest.hello('new', f, 2).ack;
    expect(busy).toMatchObject({ ok: false, code: 'SENSOR_BUSY' });
    expect((busy as { error: string }).error).toMatch(
      /streams on another connection \(token 'box', since 1970/,
    );
    expect(s.line.ingest.audio('new', { seq: 0, data: new Uint8Array(4) }, 3)).toMatchObject({
      ok: false,
      code: 'NO_HELLO',
    });
    expect(kicked).toBe('');
    expect(s.line.ingest.socketId).toBe('old');

    const taken = s.line.ingest.hello('new', { ...f, takeover: true }, 4);
    expect(taken.ack).toMatchObject({ ok: true });
    expect(taken.tookOver).toBe("connection new (token 'box') took over from connection old (token 'box')");
    expect(kicked).toBe('taken over by another connection of the same sensor (takeover)');
    expect(s.line.ingest.socketId).toBe('new');
    expect(s.line.ingest.hello('old', f).ack).toEqual({
      ok: false,
      code: 'BAD_MESSAGE',
      error: 'this connection was replaced',
    });
    expect(s.line.ingest.audio('old', { seq: 0, data: new Uint8Array(4) }, 5)).toMatchObject({ ok: false });
  });
});
