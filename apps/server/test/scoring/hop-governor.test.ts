import { describe, expect, it } from 'vitest';
import {
  COLD_WINDOWS,
  DROP_REACTION,
  HopGovernor,
  MAX_STRIDE,
  NARROW_PERIODS,
} from '../../src/scoring/hop-governor.js';

const streams = new WeakMap<HopGovernor, number[]>();

/**
 * A fleet of `sensors` streams cutting a window every hop (500 ms), run for `periods` periods of 5 s on a fake
 * clock; every admitted window waits `waitMs` and is served in `serviceMs`. Returns how many windows each sensor
 * had scored and the stride after each period.
 */
function run(
  g: HopGovernor,
  clock: { t: number },
  sensors: number,
  periods: number,
  serviceMs: number,
  waitMs = 0,
) {
  const scored = new Array<number>(sensors).fill(0);
  const strides: number[] = [];
  // The streams carry on from one call to the next on the same governor (their windows' running numbers).
  const index = streams.get(g) ?? new Array<number>(sensors).fill(0);
  streams.set(g, index);
  for (let p = 0; p < periods; p++) {
    for (let hop = 0; hop < 10; hop++) {
      for (let s = 0; s < sensors; s++) {
        if (g.admit(`s${s}`, index[s]++)) {
          g.started(waitMs);
          g.served(serviceMs);
          scored[s]++;
        }
      }
      clock.t += 500;
    }
    strides.push(g.stride);
  }
  return { scored, strides };
}

describe('HopGovernor', () => {
  it('scores every window while the scorer keeps up, however slow a window is', () => {
    const clock = { t: 0 };
    const g = new HopGovernor({ concurrency: 2, hopMs: 500, now: () => clock.t });
    // 4 sensors, 8 windows/s offered, 400 ms each: Little's law says 5 windows/s, but nothing waits long.
    const { scored, strides } = run(g, clock, 4, 4, 400, 900);
    expect(strides).toEqual([1, 1, 1, 1]);
    expect(scored).toEqual([40, 40, 40, 40]);
  });

  it('widens the hop for every sensor alike when windows wait, to what the measured capacity holds', () => {
    const clock = { t: 0 };
    const g = new HopGovernor({ concurrency: 2, hopMs: 500, now: () => clock.t });
    // 64 sensors offer 128 windows/s; 2 slots at 40 ms serve 50/s: at 80 % utilisation one window in 4.
    const first = run(g, clock, 64, 1, 40, 1200);
    expect(first.strides).toEqual([4]);
    expect(g.reading.demand).toBeCloseTo(128, 0);
    expect(g.reading.capacity).toBeCloseTo(50, 6);
    const { scored } = run(g, clock, 64, 2, 40, 0);
    // Fair: every sensor is scored at the same rate (one window in 4 of its 20 in two periods).
    expect(new Set(scored)).toEqual(new Set([5]));
  });

  it('spreads the scored windows of sensors that started together over the stride: as many at every hop', () => {
    const clock = { t: 0 };
    const g = new HopGovernor({ concurrency: 2, hopMs: 500, now: () => clock.t });
    run(g, clock, 64, 1, 40, 1200);
    expect(g.stride).toBe(4);
    // 64 streams cutting window i at the same moment: 16 of them scored at each hop, each sensor every 4th.
    const perHop: number[] = [];
    const gaps = new Set<number>();
    const last = new Map<number, number>();
    for (let i = 10; i < 30; i++) {
      let n = 0;
      for (let s = 0; s < 64; s++)
        if (g.admit(`s${s}`, i)) {
          n++;
          if (last.has(s)) gaps.add(i - last.get(s)!);
          last.set(s, i);
        }
      perHop.push(n);
    }
    expect(new Set(perHop)).toEqual(new Set([16]));
    expect(gaps).toEqual(new Set([4]));
  });

  it('narrows one step at a time near the fitting stride, only after it has fitted for several periods', () => {
    const clock = { t: 0 };
    const g = new HopGovernor({ concurrency: 2, hopMs: 500, now: () => clock.t });
    run(g, clock, 64, 1, 40, 1200);
    expect(g.stride).toBe(4);
    // Windows got cheap (10 ms: 200/s): stride 1 fits; it comes down by one per NARROW_PERIODS periods.
    const { strides } = run(g, clock, 64, 3 * NARROW_PERIODS + 1, 10, 0);
    expect(NARROW_PERIODS).toBe(3);
    expect(strides).toEqual([4, 4, 3, 3, 3, 2, 2, 2, 1, 1]);
  });

  it('narrows half the way to the fitting stride from a wide one, never below it', () => {
    const clock = { t: 0 };
    const g = new HopGovernor({ concurrency: 2, hopMs: 500, now: () => clock.t });
    // 64 sensors, 2 slots at 250 ms (8/s): at 80 % utilisation one window in 20.
    run(g, clock, 64, 1, 250, 1200);
    expect(g.stride).toBe(20);
    // Windows got cheaper (50 ms: 40/s, one in 4 fits): 20 -> 12 -> 8 -> 6 -> 5 -> 4, one change per
    // NARROW_PERIODS periods, each half the gap (at least one step); one step at a time would take 16 changes.
    const { strides } = run(g, clock, 64, 6 * NARROW_PERIODS, 50, 0);
    const changes = strides.filter((s, i) => s !== (i === 0 ? 20 : strides[i - 1]));
    expect(changes).toEqual([12, 8, 6, 5, 4]);
    expect(strides.at(-1)).toBe(4);
    expect(Math.min(...strides)).toBe(4);
  });

  it("narrows only as far as the machine's CPU holds the extra windows", () => {
    const clock = { t: 0 };
    // 2 cores; the machine busy 1.2 cores, this process 1.0 of them, whatever the stride (a fake clock).
    const times = () => ({ machine: (1.2 * clock.t) / 1000, cpus: 2, process: (1.0 * clock.t) / 1000 });
    const g = new HopGovernor({ concurrency: 2, hopMs: 500, now: () => clock.t, cpu: { cores: 2, times } });
    run(g, clock, 64, 1, 40, 1200);
    expect(g.stride).toBe(4);
    // Windows got cheap (10 ms): Little's law says every window fits. The CPU says 4 -> 3 fits (1.2 + 1.0 x 1/3
    // = 1.53 cores <= 0.8 x 2) and 3 -> 2 does not (1.2 + 1.0 x 1/2 = 1.7).
    const { strides } = run(g, clock, 64, 4 * NARROW_PERIODS, 10, 0);
    expect(strides.slice(0, NARROW_PERIODS + 1)).toEqual([4, 4, 3, 3]);
    expect(new Set(strides.slice(NARROW_PERIODS))).toEqual(new Set([3]));
    expect(g.reading.machineCores).toBeCloseTo(1.2, 9);
    expect(g.reading.processCores).toBeCloseTo(1.0, 9);
    // In a container of 2 cores on a host of 64 CPUs (others busy: 20 of them), the process's own cores decide.
    const c3 = { t: 0 };
    const host = () => ({ machine: (20 * c3.t) / 1000, cpus: 64, process: (1.0 * c3.t) / 1000 });
    const boxed = new HopGovernor({
      concurrency: 2,
      hopMs: 500,
      now: () => c3.t,
      cpu: { cores: 2, times: host },
    });
    run(boxed, c3, 64, 1, 40, 1200);
    // 4 -> 3: 1.33 cores; 3 -> 2: 1.5 cores (<= 1.6); 2 -> 1: 2 cores, no.
    expect(run(boxed, c3, 64, 6 * NARROW_PERIODS, 10, 0).strides.at(-1)).toBe(2);
    // Without the CPU check the same run goes down to every window.
    const c2 = { t: 0 };
    const free = new HopGovernor({ concurrency: 2, hopMs: 500, now: () => c2.t });
    run(free, c2, 64, 1, 40, 1200);
    expect(run(free, c2, 64, 4 * NARROW_PERIODS, 10, 0).strides.at(-1)).toBe(1);
    expect(free.reading.machineCores).toBeNull();
  });

  it("leaves each model's cold first windows out of the capacity", () => {
    // 64 sensors connect at once: each model's first COLD_WINDOWS windows take 400 ms (one-time costs), the
    // rest 20 ms. Windows wait 1.2 s in the first period: the scorer is behind.
    const fleet = (flagged: boolean) => {
      const clock = { t: 0 };
      const g = new HopGovernor({ concurrency: 2, hopMs: 500, now: () => clock.t });
      const served = new Array<number>(64).fill(0);
      const strides: number[] = [];
      for (let p = 0, i = 0; p < 2; p++) {
        for (let hop = 0; hop < 10; hop++, i++, clock.t += 500)
          for (let s = 0; s < 64; s++) {
            if (!g.admit(`s${s}`, i)) continue;
            const cold = served[s]++ < COLD_WINDOWS;
            g.started(p === 0 ? 1200 : 0);
            g.served(cold ? 400 : 20, flagged && cold);
          }
        strides.push(g.stride);
      }
      return { g, strides };
    };
    // Counted in, the first period's mean is 172 ms (4 windows of 10 at 400 ms): 11.6 windows/s, and the hop
    // widens to one window in 14 at once.
    const counted = fleet(false);
    expect(counted.strides[0]).toBe(14);
    // Left out, the warm windows give 100 windows/s: one window in 2 holds the 128/s offered, and stays.
    const { g, strides } = fleet(true);
    expect(strides).toEqual([2, 2]);
    expect(g.reading.capacity).toBeCloseTo(100, 6);
    expect(COLD_WINDOWS).toBe(4);
  });

  it('widens at least one step when windows are dropped, up to the widest stride', () => {
    const clock = { t: 0 };
    const g = new HopGovernor({ concurrency: 1, hopMs: 500, now: () => clock.t });
    for (let p = 0; p < MAX_STRIDE + 5; p++) {
      g.admit('a', p);
      g.dropped();
      clock.t += 5000;
    }
    g.admit('a', 1000);
    expect(g.stride).toBe(MAX_STRIDE);
  });

  it('widens as soon as a fifth of the period has passed when windows are dropped, not at its end', () => {
    const clock = { t: 0 };
    const g = new HopGovernor({ concurrency: 2, hopMs: 500, now: () => clock.t });
    // 64 sensors, 2 slots at 40 ms (50/s): windows start dropping at once.
    const hop = (i: number, drops: boolean) => {
      for (let s = 0; s < 64; s++) {
        if (!g.admit(`s${s}`, i)) continue;
        g.started(0);
        g.served(40);
        if (drops && s % 2 === 0) g.dropped();
      }
      clock.t += 500;
    };
    hop(0, true);
    expect(g.stride).toBe(1); // 0.5 s: under a fifth of the period
    hop(1, true);
    expect(DROP_REACTION * g.periodMs).toBe(1000);
    expect(g.stride).toBe(4); // 1 s: the reading, as at a period's end (50/s serve one window in 4)
    expect(g.reading.capacity).toBeCloseTo(50, 6);
    // The queues drain: for a period the windows that start or are dropped are ones admitted before the change
    // (at 1 s). They say nothing of the new stride, and the hop stays.
    for (let i = 2; i < 12; i++) {
      for (let s = 0; s < 64; s++) {
        if (!g.admit(`s${s}`, i)) continue;
        g.started(clock.t - 500);
        g.served(40);
        g.dropped(500);
      }
      clock.t += 500;
    }
    expect([clock.t, g.stride]).toEqual([6000, 4]);
    // A window admitted after it and dropped is counted: the new stride is not enough.
    for (let i = 12; i < 15; i++) {
      for (let s = 0; s < 64; s++) if (g.admit(`s${s}`, i)) g.dropped(clock.t);
      clock.t += 500;
    }
    expect(g.stride).toBe(5);
    // Without drops a period runs its full length, however long the waits.
    const quiet = new HopGovernor({ concurrency: 2, hopMs: 500, now: () => clock.t });
    const start = clock.t;
    const quietHop = (i: number) => {
      for (let s = 0; s < 64; s++)
        if (quiet.admit(`s${s}`, i)) {
          quiet.started(1200);
          quiet.served(40);
        }
      clock.t += 500;
    };
    for (let i = 0; i < 9; i++) quietHop(i);
    expect([clock.t - start, quiet.stride]).toEqual([4500, 1]);
    quietHop(9);
    expect(quiet.stride).toBe(4); // the period's end: 128 windows/s offered
  });

  it('admits the first window of a stream that started again, and rejects bad options', () => {
    const clock = { t: 0 };
    const g = new HopGovernor({ concurrency: 2, hopMs: 500, now: () => clock.t });
    run(g, clock, 64, 1, 40, 1200);
    expect(g.stride).toBeGreaterThan(3); // so that 1002 and 1003 are off s0's turn (1000)
    expect(g.admit('s0', 1000)).toBe('turn');
    expect(g.admit('s0', 1001)).toBe(false);
    // The alert rule waits for the window after one over the threshold: scored off its turn, and the turns go on.
    expect(g.admit('s0', 1002, true)).toBe('confirming');
    expect(g.admit('s0', 1003)).toBe(false);
    expect(g.admit('s0', 1000 + g.stride)).toBe('turn');
    expect(g.admit('s0', 1001 + g.stride, true)).toBe('confirming');
    expect(g.admit('s0', 3)).toBe('turn'); // lower number: the stream started over
    expect(() => new HopGovernor({ concurrency: 0, hopMs: 500 })).toThrow(/concurrency \(0\)/);
    expect(() => new HopGovernor({ concurrency: 1, hopMs: 0 })).toThrow(/hopMs \(0\)/);
  });
});
