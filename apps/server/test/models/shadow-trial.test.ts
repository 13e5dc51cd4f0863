/**
 * Shadow trials without a backbone: the real alert rule replayed on both models' scores of the same
 * windows, and the real scheduler deciding when a shadow window may run (only in the scheduler's slack).
 */
import { describe, expect, it } from 'vitest';
import { resolveDetectorConfig, windowFrames, type Detector } from '@hark/detection';
import type { ReadyWindow } from '../../src/ingest/sensor-stream.js';
import { ShadowTrial } from '../../src/models/shadow-trial.js';
import { DetectorLeases } from '../../src/scoring/leases.js';
import { ScoringScheduler } from '../../src/scoring/scheduler.js';
import { ShadowScorer, shadowKey } from '../../src/scoring/shadow-scorer.js';
import type { WindowResult } from '../../src/scoring/window-scorer.js';

const config = resolveDetectorConfig({});
const cells = config.mel.nMels * windowFrames(config);
const scores = (s: number) => ({ normalised: s, map: new Float32Array(cells).fill(s) });
const win = (i: number) => ({ t0: 1000 + i * 500, t1: 2000 + i * 500 });
const trial = () => new ShadowTrial(2, { mel: config.mel, openWindows: 2, closeWindows: 2, now: 5 });

describe('a shadow trial', () => {
  it("records the shadow's would-be alerts and the active model's on the same windows", () => {
    const t = trial();
    const shadow = [0.5, 1.2, 1.5, 1.3, 0.4, 0.3, 0.2];
    const active = [0.5, 0.6, 1.1, 0.7, 0.4, 0.3, 0.2];
    shadow.forEach((s, i) => t.observe(win(i), scores(s), scores(active[i])));
    t.skipped();
    const j = t.toJSON();
    expect(j).toMatchObject({
      since: 5,
      until: null,
      outcome: 'running',
      endedBy: null,
      windows: 7,
      skipped: 1,
      shadowOver: 3,
      activeOver: 1,
      shadowAlertCount: 1,
      // One window over the threshold is not an alert under the 2-window rule.
      activeAlertCount: 0,
    });
    expect(j.shadowMean).toBeCloseTo(shadow.reduce((a, b) => a + b) / 7, 9);
    expect(j.wouldBeAlerts).toHaveLength(1);
    expect(j.wouldBeAlerts[0]).toMatchObject({
      start: win(1).t0,
      end: win(3).t1,
      peakScore: 1.5,
      windows: 3,
    });
    expect(j.wouldBeAlerts[0].boxes.length).toBeGreaterThan(0);
  });

  it('ends once: an open would-be alert closes, later windows are not counted', () => {
    const t = trial();
    t.observe(win(0), scores(2), scores(0.5));
    t.observe(win(1), scores(2), scores(0.5));
    expect(t.toJSON().wouldBeAlerts[0].end).toBe(win(1).t1);
    const ended = t.end('promoted', 'admin', 99);
    expect(ended).toMatchObject({ outcome: 'promoted', endedBy: 'admin', until: 99, windows: 2 });
    t.observe(win(2), scores(2), scores(0.5));
    t.skipped();
    expect(t.end('discarded', 'someone else')).toEqual(ended);
  });
});

/** A detector whose scoring the test finishes by hand. */
class Gated {
  pending: (() => void)[] = [];
  scoreWindow() {
    return new Promise((resolve) =>
      this.pending.push(() => resolve({ normalised: 3, windowScore: 3, map: new Float32Array(cells) })),
    );
  }
  async release() {}
}

describe('shadow scoring', () => {
  const w = (i: number): ReadyWindow =>
    ({ ...win(i), data: new Float32Array(cells) }) as unknown as ReadyWindow;
  const active = {
    normalised: 0.5,
    raw: 1,
    map: new Float32Array(cells),
    embeddings: new Float32Array(0),
  } as WindowResult;

  it('scores in the slack only: a window is skipped while a live job waits or the shadow is still busy', async () => {
    const scheduler = new ScoringScheduler({ concurrency: 1, queuePerSensor: 2 });
    const leases = new DetectorLeases();
    const shadow = new Gated();
    const t = trial();
    const scorer = new ShadowScorer(
      scheduler,
      { acquireShadow: () => ({ lease: leases.acquire(shadow as unknown as Detector), trial: t }) },
      () => {},
    );
    // A live job holds the only slot: the shadow skips.
    let finishLive = () => {};
    scheduler.submit('pump-1', () => new Promise<void>((r) => (finishLive = r)));
    await new Promise((r) => setImmediate(r));
    scorer.offer('pump-1', w(0), active);
    await new Promise((r) => setImmediate(r));
    expect(t.toJSON()).toMatchObject({ windows: 0, skipped: 1 });
    finishLive();
    await scheduler.idle();
    // Free: the shadow scores; a second offer while it runs is skipped.
    scorer.offer('pump-1', w(1), active);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(scheduler.stats(shadowKey('pump-1')).running).toBe(1);
    scorer.offer('pump-1', w(2), active);
    await new Promise((r) => setImmediate(r));
    expect(t.toJSON().skipped).toBe(2);
    shadow.pending.shift()!();
    await scheduler.idle();
    expect(t.toJSON()).toMatchObject({ windows: 1, skipped: 2, shadowOver: 1, activeOver: 0 });
    expect(leases.users(shadow as unknown as Detector)).toBe(0);
  });

  it("runs right after the active model's window, even with one scoring slot", async () => {
    const scheduler = new ScoringScheduler({ concurrency: 1, queuePerSensor: 2 });
    const leases = new DetectorLeases();
    const shadow = new Gated();
    const t = trial();
    const scorer = new ShadowScorer(
      scheduler,
      { acquireShadow: () => ({ lease: leases.acquire(shadow as unknown as Detector), trial: t }) },
      () => {},
    );
    // As the window scorer does: the shadow is offered from the live job's outcome.
    scheduler.submit('pump-1', async () => active, { onDone: (r) => scorer.offer('pump-1', w(0), r) });
    await scheduler.idle();
    // The offer's turn, then the shadow job's start.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(shadow.pending).toHaveLength(1);
    shadow.pending.shift()!();
    await scheduler.idle();
    expect(t.toJSON()).toMatchObject({ windows: 1, skipped: 0 });
  });
});
