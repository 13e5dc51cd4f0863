import { describe, expect, it } from 'vitest';
import { ScoringScheduler, type DropReason } from '../../src/scoring/scheduler.js';

/** A job that finishes when `release()` is called. */
function gate<T>(value: T) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { run: async () => (await done, value), release: () => release() };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('ScoringScheduler', () => {
  it('runs at most `concurrency` jobs at once and starts them after the current handler', async () => {
    const s = new ScoringScheduler({ concurrency: 2, queuePerSensor: 5 });
    let running = 0;
    let most = 0;
    const started: number[] = [];
    for (let i = 0; i < 6; i++) {
      s.submit('a', async () => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await tick();
        running--;
      });
    }
    expect(started).toEqual([]); // nothing ran synchronously inside submit
    expect(s.active).toBe(2);
    await s.idle();
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.stats('a')).toMatchObject({ scored: 6, dropped: 0, failed: 0, queueDepth: 0, running: 0 });
  });

  it("drops a sensor's oldest waiting job when its queue is full, never a running one", async () => {
    const drops: [string, DropReason][] = [];
    const s = new ScoringScheduler({
      concurrency: 1,
      queuePerSensor: 2,
      onDrop: (id, r) => drops.push([id, r]),
    });
    const first = gate('w0');
    const done: string[] = [];
    const dropped: string[] = [];
    s.submit('a', first.run, { onDone: (v) => done.push(v) });
    for (const w of ['w1', 'w2', 'w3', 'w4']) {
      s.submit('a', async () => w, { onDone: (v) => done.push(v), onDrop: () => dropped.push(w) });
    }
    expect(dropped).toEqual(['w1', 'w2']);
    expect(s.stats('a')).toMatchObject({ queueDepth: 2, running: 1, dropped: 2 });
    first.release();
    await s.idle();
    expect(done).toEqual(['w0', 'w3', 'w4']);
    expect(drops).toEqual([
      ['a', 'overflow'],
      ['a', 'overflow'],
    ]);
    const st = s.stats('a');
    expect([st.scored, st.dropped, st.dropRate]).toEqual([3, 2, 2 / 5]);
  });

  it('takes turns between sensors with waiting jobs', async () => {
    const s = new ScoringScheduler({ concurrency: 1, queuePerSensor: 4 });
    const order: string[] = [];
    const blocker = gate(null);
    s.submit('x', blocker.run);
    for (let i = 0; i < 3; i++) s.submit('a', async () => void order.push(`a${i}`));
    for (let i = 0; i < 2; i++) s.submit('b', async () => void order.push(`b${i}`));
    s.submit('c', async () => void order.push('c0'));
    blocker.release();
    await s.idle();
    expect(order).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'a2']);
  });

  it('counts and reports a failing job and keeps going', async () => {
    const errors: string[] = [];
    const s = new ScoringScheduler({ onError: (id, e) => errors.push(`${id}: ${(e as Error).message}`) });
    const own: unknown[] = [];
    s.submit(
      'a',
      async () => {
        throw new Error('model exploded');
      },
      { onError: (e) => own.push(e), onDone: () => own.push('done?') },
    );
    s.submit('a', async () => 1);
    await s.idle();
    expect(errors).toEqual(['a: model exploded']);
    expect(own).toHaveLength(1);
    expect(s.stats('a')).toMatchObject({ scored: 1, failed: 1, dropped: 0 });
  });

  it('reports a throwing callback to onError without losing the slot', async () => {
    const errors: unknown[] = [];
    const s = new ScoringScheduler({ concurrency: 1, onError: (_id, e) => errors.push(e) });
    s.submit('a', async () => 1, {
      onDone: () => {
        throw new Error('listener bug');
      },
    });
    s.submit('a', async () => 2);
    await s.idle();
    expect((errors[0] as Error).message).toBe('listener bug');
    expect(s.stats('a').scored).toBe(2);
  });

  it('measures latency from submit to done and the drop rate over the window', async () => {
    let now = 1000;
    const s = new ScoringScheduler({
      concurrency: 1,
      queuePerSensor: 1,
      now: () => now,
      rateWindowMs: 60_000,
    });
    const g = gate(0);
    s.submit('a', g.run);
    s.submit('a', async () => 0, {});
    s.submit('a', async () => 0, {}); // drops the previous one
    now = 1250;
    g.release();
    await s.idle();
    expect(s.stats('a').latencyMs).toEqual([250, 250]);
    expect(s.stats('a').dropRate).toBeCloseTo(1 / 3, 9);
    now = 1000 + 61_000; // everything is older than a minute
    expect(s.stats('a')).toMatchObject({ dropRate: 0, scored: 2, dropped: 1 });
  });

  it('removeSensor drops its waiting jobs (counted) and lets running ones finish', async () => {
    const s = new ScoringScheduler({ concurrency: 1, queuePerSensor: 3 });
    const g = gate('running');
    const done: string[] = [];
    const reasons: DropReason[] = [];
    s.submit('a', g.run, { onDone: (v) => done.push(v) });
    s.submit('a', async () => 'w1', { onDrop: (r) => reasons.push(r) });
    s.submit('a', async () => 'w2', { onDrop: (r) => reasons.push(r) });
    s.submit('b', async () => 'b', { onDone: (v) => done.push(v) });
    s.removeSensor('a');
    expect(reasons).toEqual(['removed', 'removed']);
    g.release();
    await s.idle();
    expect(done).toEqual(['running', 'b']);
    expect(s.stats('a')).toMatchObject({ scored: 1, dropped: 2, queueDepth: 0 });
  });

  it('idle() resolves at once when nothing is queued', async () => {
    const s = new ScoringScheduler();
    await expect(s.idle()).resolves.toBeUndefined();
    expect(s.stats('nobody')).toEqual({
      scored: 0,
      dropped: 0,
      failed: 0,
      queueDepth: 0,
      running: 0,
      dropRate: 0,
      latencyMs: [],
    });
    expect(() => new ScoringScheduler({ concurrency: 0 })).toThrow(
      'concurrency (0) must be a whole number >= 1',
    );
  });
});
