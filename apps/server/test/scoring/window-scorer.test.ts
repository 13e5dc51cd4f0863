/**
 * Scoring with model leases, without Nest: the real scheduler, leases and metrics around a small detector
 * whose scoring the test releases window by window (the real detectors need a fitted model and a backbone).
 */
import { describe, expect, it } from 'vitest';
import type { Detector } from '@hark/detection';
import type { ReadyWindow } from '../../src/ingest/sensor-stream.js';
import { HarkMetrics } from '../../src/metrics/hark.metrics.js';
import { COLD_WINDOWS } from '../../src/scoring/hop-governor.js';
import { DetectorLeases } from '../../src/scoring/leases.js';
import {
  WindowScorer,
  type DetectorSource,
  type DropCause,
  type ScoreSink,
  type WindowResult,
} from '../../src/scoring/window-scorer.js';

/** A detector whose `scoreWindow` waits until the test finishes it, and which counts its releases. */
class GatedDetector {
  pending: { data: Float32Array; finish: (score: number) => void; fail: (e: Error) => void }[] = [];
  released = 0;
  scoreWindow(data: Float32Array) {
    return new Promise((resolve, reject) => {
      this.pending.push({
        data,
        finish: (score) =>
          resolve({
            normalised: score,
            windowScore: score * 3,
            map: new Float32Array([score]),
            localMap: new Float32Array([score]),
            embeddings: new Float32Array([1, 2]),
          }),
        fail: reject,
      });
    });
  }
  async release() {
    this.released++;
  }
  get asDetector(): Detector {
    return this as unknown as Detector;
  }
}

/** The registry's side of scoring: one current detector per sensor, leased through the real leases. */
class Models implements DetectorSource {
  readonly leases = new DetectorLeases();
  readonly current = new Map<string, Detector>();
  detector(id: string) {
    return this.current.get(id) ?? null;
  }
  acquire(id: string) {
    const d = this.current.get(id);
    return d ? this.leases.acquire(d) : null;
  }
  /** Swaps the sensor's model; the old one is retired through the leases. */
  async swap(id: string, next: Detector | null) {
    const old = this.current.get(id);
    if (next) this.current.set(id, next);
    else this.current.delete(id);
    if (old) await this.leases.retire(old);
  }
}

class Sink implements ScoreSink {
  confirming?: () => boolean;
  beginsRun?: (r: WindowResult) => boolean;
  scoredWindows: { index: number; r: WindowResult }[] = [];
  droppedWindows: { index: number; cause: DropCause }[] = [];
  scored(w: ReadyWindow, r: WindowResult) {
    this.scoredWindows.push({ index: w.index, r });
  }
  dropped(w: ReadyWindow, cause: DropCause) {
    this.droppedWindows.push({ index: w.index, cause });
  }
}

const win = (index: number): ReadyWindow => ({
  index,
  startFrame: index * 31,
  endFrame: index * 31 + 62,
  t0: index * 500,
  t1: index * 500 + 1000,
  data: new Float32Array([index]),
  arrivedAt: 0,
});

const settle = () => new Promise((r) => setTimeout(r, 5));

function setup(queuePerSensor = 2) {
  const models = new Models();
  const metrics = new HarkMetrics({ defaultMetrics: false });
  const logged: string[] = [];
  const scorer = new WindowScorer({
    concurrency: 1,
    queuePerSensor,
    models,
    metrics,
    log: (l) => logged.push(l),
  });
  return { models, metrics, logged, scorer, sink: new Sink() };
}

/**
 * A scorer on a fake clock (one slot, one waiting window per sensor, 0.5 s hop, the governor's period
 * `periodMs`), with a gated detector as pump-1's model.
 */
async function governed(periodMs: number) {
  const clock = { t: 0 };
  const models = new Models();
  const metrics = new HarkMetrics({ defaultMetrics: false });
  const scorer = new WindowScorer({
    concurrency: 1,
    queuePerSensor: 1,
    hopSeconds: 0.5,
    governorPeriodMs: periodMs,
    now: () => clock.t,
    models,
    metrics,
    log: () => {},
  });
  const det = new GatedDetector();
  await models.swap('pump-1', det.asDetector);
  return { clock, models, metrics, scorer, sink: new Sink(), det };
}

/**
 * Windows 1 and 2 at once on `governed(2000)`, scored in 1200 and 600 ms: the second waits 1200 ms, longer than the
 * queue's one hop, so when the period ends (the clock at 2000 ms: 1 window/s offered, 1.1/s served at most) the
 * governor scores one window in two from then on.
 */
async function oneInTwo(
  clock: { t: number },
  scorer: WindowScorer,
  sink: ScoreSink,
  det: GatedDetector,
): Promise<void> {
  scorer.submit('pump-1', win(1), sink);
  scorer.submit('pump-1', win(2), sink);
  await settle();
  clock.t = 1200;
  det.pending[0].finish(0.1);
  await settle();
  clock.t = 1800;
  det.pending[1].finish(0.2);
  await settle();
  clock.t = 2000;
}

describe('WindowScorer', () => {
  it("scores a window with the sensor's model and hands the result on, counting it", async () => {
    const s = setup();
    const det = new GatedDetector();
    await s.models.swap('pump-1', det.asDetector);
    s.scorer.submit('pump-1', win(0), s.sink);
    await settle();
    expect(det.pending.map((p) => p.data)).toEqual([new Float32Array([0])]);
    det.pending[0].finish(0.5);
    await s.scorer.scheduler.idle();
    expect(s.sink.scoredWindows).toEqual([
      {
        index: 0,
        r: {
          normalised: 0.5,
          raw: 1.5,
          map: new Float32Array([0.5]),
          localMap: new Float32Array([0.5]),
          embeddings: new Float32Array([1, 2]),
        },
      },
    ]);
    expect((await s.metrics.text()).body).toMatch(/hark_windows_scored_total\{sensor="pump-1"\} 1/);
    expect(s.scorer.stats('pump-1')).toMatchObject({ scored: 1, dropped: 0 });
  });

  it('drops a window of a sensor without a model at once, and one whose model went away meanwhile', async () => {
    const s = setup();
    s.scorer.submit('fan-2', win(0), s.sink);
    expect(s.sink.droppedWindows).toEqual([{ index: 0, cause: 'no-model' }]);
    const det = new GatedDetector();
    await s.models.swap('fan-2', det.asDetector);
    s.scorer.submit('fan-2', win(1), s.sink); // running
    s.scorer.submit('fan-2', win(2), s.sink); // waiting
    await settle();
    await s.models.swap('fan-2', null);
    det.pending[0].finish(2);
    await s.scorer.scheduler.idle();
    expect(s.sink.scoredWindows.map((x) => x.index)).toEqual([1]);
    expect(s.sink.droppedWindows).toEqual([
      { index: 0, cause: 'no-model' },
      { index: 2, cause: 'no-model' },
    ]);
  });

  it('keeps a swapped-out model until the score using it is done, then frees it once', async () => {
    const s = setup();
    const old = new GatedDetector();
    const next = new GatedDetector();
    await s.models.swap('pump-1', old.asDetector);
    s.scorer.submit('pump-1', win(0), s.sink);
    await settle();
    await s.models.swap('pump-1', next.asDetector);
    expect(old.released).toBe(0); // still scoring window 0
    s.scorer.submit('pump-1', win(1), s.sink);
    old.pending[0].finish(0.1);
    await settle();
    expect(old.released).toBe(1);
    expect(next.pending).toHaveLength(1); // window 1 took the new model
    next.pending[0].finish(0.2);
    await s.scorer.scheduler.idle();
    expect(s.sink.scoredWindows.map((x) => [x.index, x.r.normalised])).toEqual([
      [0, 0.1],
      [1, 0.2],
    ]);
    await s.models.swap('pump-1', null);
    expect([old.released, next.released]).toEqual([1, 1]);
  });

  it('drops the oldest waiting window when a sensor falls behind, and reports failures', async () => {
    const s = setup(1);
    const det = new GatedDetector();
    await s.models.swap('pump-1', det.asDetector);
    for (let i = 0; i < 3; i++) s.scorer.submit('pump-1', win(i), s.sink);
    await settle();
    expect(s.sink.droppedWindows).toEqual([{ index: 1, cause: 'overload' }]);
    det.pending[0].fail(new Error('backbone exploded'));
    await settle();
    det.pending[1].finish(0.3);
    await s.scorer.scheduler.idle();
    expect(s.sink.droppedWindows).toEqual([
      { index: 1, cause: 'overload' },
      { index: 0, cause: 'failed' },
    ]);
    expect(s.sink.scoredWindows.map((x) => x.index)).toEqual([2]);
    expect(s.logged).toEqual(['sensor pump-1: scoring a window failed: backbone exploded']);
    expect((await s.metrics.text()).body).toMatch(/hark_windows_dropped_total\{sensor="pump-1"\} 2/);
  });

  it('past capacity skips windows at a wider hop, handing each on after the windows before it', async () => {
    const { clock, metrics, scorer, sink, det } = await governed(2000);
    const order: string[] = [];
    sink.scored = (w) => void order.push(`scored ${w.index}`);
    sink.dropped = (w, cause) => void order.push(`${cause} ${w.index} to ${w.endFrame}`);
    await oneInTwo(clock, scorer, sink, det);
    // The sensor's turn (the first sensor's: even windows) skips window 3, nothing in flight: handed on at once,
    // up to where window 4 (scored) starts (frame 124 of 93-155).
    scorer.submit('pump-1', win(3), sink);
    expect(order).toEqual(['scored 1', 'scored 2', 'skipped 3 to 124']);
    scorer.submit('pump-1', win(4), sink);
    scorer.submit('pump-1', win(5), sink); // skipped while 4 is scored: held until 4 is done
    await settle();
    expect(order).toEqual(['scored 1', 'scored 2', 'skipped 3 to 124']);
    det.pending[2].finish(0.3);
    await scorer.scheduler.idle();
    expect(order).toEqual(['scored 1', 'scored 2', 'skipped 3 to 124', 'scored 4', 'skipped 5 to 186']);
    expect(scorer.stats('pump-1')).toMatchObject({ scored: 3, dropped: 0, skipped: 2, scoringHopSeconds: 1 });
    const text = (await metrics.text()).body;
    expect(text).toMatch(/hark_windows_skipped_total\{sensor="pump-1"\} 2/);
    expect(text).toMatch(/hark_scoring_hop_seconds\{sensor="pump-1"\} 1/);
    // Windows 1, 2 and 4 are the model's first (cold, COLD_WINDOWS): no capacity is read from them (the gauge
    // stays 0), and the hop widened by one step, as the waits asked.
    expect(text).toMatch(/^hark_scoring_capacity_windows_per_second 0$/m);
    // A deleted sensor's skipped count goes (the scheduler keeps its own counters); the hop stays the fleet's.
    scorer.forget('pump-1');
    expect(scorer.stats('pump-1')).toMatchObject({ scored: 3, skipped: 0, scoringHopSeconds: 1 });
  });

  it('past capacity scores the window after one over the threshold whatever its turn, while the alert rule waits for it', async () => {
    const { clock, metrics, scorer, sink, det } = await governed(2000);
    const order: string[] = [];
    // The sink's alert rule: it waits for the next window while the last scored one was over the threshold.
    let waiting = false;
    sink.confirming = () => waiting;
    sink.scored = (w, r) => {
      order.push(`scored ${w.index}`);
      waiting = r.normalised >= 1;
    };
    sink.dropped = (w, cause) => void order.push(`${cause} ${w.index}`);
    await oneInTwo(clock, scorer, sink, det); // the sensor's turn: even windows
    scorer.submit('pump-1', win(3), sink); // off its turn, the rule waits for nothing: skipped
    scorer.submit('pump-1', win(4), sink);
    await settle();
    det.pending[2].finish(1.4); // over the threshold: the rule waits for window 5
    await settle();
    scorer.submit('pump-1', win(5), sink); // off its turn, scored
    await settle();
    det.pending[3].finish(1.2);
    await settle();
    scorer.submit('pump-1', win(6), sink); // its turn
    await settle();
    det.pending[4].finish(0.4);
    await settle();
    scorer.submit('pump-1', win(7), sink); // off its turn, the rule waits for nothing again: skipped
    await scorer.scheduler.idle();
    expect(order).toEqual([
      'scored 1',
      'scored 2',
      'skipped 3',
      'scored 4',
      'scored 5',
      'scored 6',
      'skipped 7',
    ]);
    expect(scorer.stats('pump-1')).toMatchObject({ scored: 5, skipped: 2, scoringHopSeconds: 1 });
    const text = (await metrics.text()).body;
    expect(text).toMatch(/hark_windows_confirming_total\{sensor="pump-1"\} 1/);
    expect(text).toMatch(/hark_windows_skipped_total\{sensor="pump-1"\} 2/);
  });

  it('past capacity, decides on the window after one in flight when its score comes back', async () => {
    const { clock, metrics, scorer, sink, det } = await governed(2000);
    const order: string[] = [];
    let waiting = false;
    sink.confirming = () => waiting;
    sink.scored = (w, r) => {
      order.push(`scored ${w.index}`);
      waiting = r.normalised >= 1;
    };
    sink.dropped = (w, cause) => void order.push(`${cause} ${w.index}`);
    await oneInTwo(clock, scorer, sink, det); // the sensor's turn: even windows
    // Window 5 is cut while 4 is still scored: it waits for 4's score, which is over the threshold.
    scorer.submit('pump-1', win(4), sink);
    scorer.submit('pump-1', win(5), sink);
    await settle();
    expect(order).toEqual(['scored 1', 'scored 2']);
    det.pending[2].finish(1.5);
    await settle();
    expect(det.pending).toHaveLength(4); // window 5 is being scored
    // Window 7 is cut while 6 is scored and 6 comes back under: 7 is skipped then.
    scorer.submit('pump-1', win(6), sink);
    det.pending[3].finish(0.3);
    await settle();
    scorer.submit('pump-1', win(7), sink);
    await settle();
    det.pending[4].finish(0.2);
    await settle();
    // Window 9 waits for 8, but window 10 is cut first: 9 would come after it, so it is skipped.
    scorer.submit('pump-1', win(8), sink);
    scorer.submit('pump-1', win(9), sink);
    scorer.submit('pump-1', win(10), sink);
    await settle();
    det.pending[5].finish(1.2);
    await settle();
    det.pending[6].finish(0.1);
    await scorer.scheduler.idle();
    expect(order).toEqual([
      'scored 1',
      'scored 2',
      'scored 4',
      'scored 5',
      'scored 6',
      'skipped 7',
      'scored 8',
      'scored 10',
      'skipped 9', // its columns go out once nothing of the sensor is in flight
    ]);
    expect(scorer.stats('pump-1')).toMatchObject({ scored: 7, skipped: 2 });
    const text = (await metrics.text()).body;
    expect(text).toMatch(/hark_windows_confirming_total\{sensor="pump-1"\} 1/);
    expect(text).toMatch(/hark_windows_skipped_total\{sensor="pump-1"\} 2/);
  });

  it('past capacity, scores the skipped window before one that begins a run over the threshold, and hands it on first', async () => {
    const { clock, metrics, scorer, sink, det } = await governed(2000);
    const order: string[] = [];
    let run = 0; // windows over the threshold in a row, as the sink's alert rule counts them
    sink.confirming = () => run === 1;
    sink.beginsRun = (r) => r.normalised >= 1 && run === 0;
    sink.scored = (w, r) => {
      order.push(`scored ${w.index}`);
      run = r.normalised >= 1 ? run + 1 : 0;
    };
    sink.dropped = (w, cause) => void order.push(`${cause} ${w.index}`);
    await oneInTwo(clock, scorer, sink, det); // the sensor's turn: even windows
    scorer.submit('pump-1', win(3), sink); // skipped
    scorer.submit('pump-1', win(4), sink);
    await settle();
    det.pending[2].finish(1.3); // begins a run: window 3 is scored in the same job
    await settle();
    expect(det.pending).toHaveLength(4);
    expect(det.pending[3].data).toEqual(new Float32Array([3]));
    expect(order).toEqual(['scored 1', 'scored 2', 'skipped 3']);
    det.pending[3].finish(1.1);
    await settle();
    // 3 before 4, so the rule sees the run in order and opens on it; nothing waits for 5.
    expect(order).toEqual(['scored 1', 'scored 2', 'skipped 3', 'scored 3', 'scored 4']);
    scorer.submit('pump-1', win(5), sink); // skipped: the run is 2 long, the rule waits for nothing
    scorer.submit('pump-1', win(6), sink);
    await settle();
    det.pending[4].finish(1.2); // over, but no run begins (one is under way): no window before it is scored
    await scorer.scheduler.idle();
    expect(det.pending).toHaveLength(5);
    expect(order.slice(5)).toEqual(['skipped 5', 'scored 6']);
    // Window 3 counts as scored, not skipped.
    expect(scorer.stats('pump-1')).toMatchObject({ scored: 5, skipped: 1 });
    const text = (await metrics.text()).body;
    expect(text).toMatch(/hark_windows_confirming_total\{sensor="pump-1"\} 1/);
    expect(text).toMatch(/hark_windows_scored_total\{sensor="pump-1"\} 5/);
  });

  it("reads the capacity from each model's windows after its first COLD_WINDOWS", async () => {
    const { clock, models, scorer, sink, det } = await governed(10_000);
    // One window at a time: the model's first COLD_WINDOWS take 1 s each, the next two 100 ms.
    for (let i = 0; i < COLD_WINDOWS + 2; i++) {
      scorer.submit('pump-1', win(i), sink);
      await settle();
      clock.t += i < COLD_WINDOWS ? 1000 : 100;
      det.pending[i].finish(0.1);
      await scorer.scheduler.idle();
    }
    clock.t = 10_000;
    scorer.submit('pump-1', win(COLD_WINDOWS + 2), sink);
    // One slot busy 100 ms per window: 10 windows/s (with the cold ones counted in, 4.4 s / 6: 1.4/s).
    expect(scorer.governor.reading.capacity).toBeCloseTo(10, 9);
    // A new model (a swap) starts cold again.
    const next = new GatedDetector();
    await models.swap('pump-1', next.asDetector);
    await settle();
    clock.t += 2000;
    next.pending[0].finish(0.1);
    await scorer.scheduler.idle();
    clock.t = 20_000;
    scorer.submit('pump-1', win(COLD_WINDOWS + 3), sink);
    expect(scorer.governor.reading.capacity).toBeCloseTo(10, 9);
    expect(sink.scoredWindows.length).toBe(COLD_WINDOWS + 3);
  });

  it('hands nothing on after close, and waits for the running score', async () => {
    const s = setup();
    const det = new GatedDetector();
    await s.models.swap('pump-1', det.asDetector);
    s.scorer.submit('pump-1', win(0), s.sink);
    s.scorer.submit('pump-1', win(1), s.sink);
    await settle();
    let closed = false;
    const closing = s.scorer.close(['pump-1']).then(() => (closed = true));
    await settle();
    expect(closed).toBe(false);
    expect(s.sink.droppedWindows).toEqual([{ index: 1, cause: 'overload' }]); // the waiting one
    det.pending[0].finish(0.4);
    await closing;
    expect(s.sink.scoredWindows).toEqual([]);
  });
});
