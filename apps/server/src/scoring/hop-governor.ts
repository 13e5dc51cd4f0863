/**
 * Graceful degradation past capacity (issue 16): when the sensors offer more windows than the scorer can score,
 * every sensor is scored at a wider hop, one window in `stride`, instead of losing windows wherever a queue
 * overflows. The stride is the same for every sensor, so none starves and all are scored at the same rate;
 * the windows in between are skipped, not dropped: their columns still reach the dashboards (unscored), so
 * every sensor stays live. The scheduler's queue bound and drop counting stay as the last resort.
 *
 * Once per period the governor compares what the streams offer with what the scorer can do:
 * - demand D, windows per second cut by the streams of sensors with a model (skipped ones included);
 * - capacity C, windows per second, by Little's law: `concurrency` slots each busy for the mean service time
 *   (start to end, wall clock) of the windows scored in the period. Jobs share the event loop and the cores with
 *   ingest, the dashboards and the rest of the machine, so C already counts what those take;
 * - the stride that keeps the scorer's utilisation at `UTILISATION`: ceil(D / (UTILISATION * C)).
 *
 * It widens only when the scorer is behind, and then at once, to the larger of one step more and the stride the
 * estimate asks for; a slow model on an idle machine is never thinned. Behind means a window was dropped in the
 * period, or windows waited on average longer than `queuePerSensor` hops: a real-time sensor's own queue would
 * have overflowed by then, but with many sensors taking turns no single queue overflows while all of them wait
 * longer and longer, so the wait is the signal that sees it. A dropped window ends the period early, once a
 * fifth of it has passed (`DROP_REACTION`): windows are being lost, and waiting out the period loses more
 * (measured: 430-520 windows dropped in the first 5 s after 64 sensors connected at once). A change of stride is
 * judged by the windows admitted after it: those admitted before it still wait in the queues, and are dropped,
 * whatever the new stride, so their waits and drops are not counted. Counted, each second of a queue draining
 * after a widening widened again (measured: a stride of 3 went to 17 in 6 s, where its capacity asked for 10).
 * It narrows once the narrower stride has fitted the estimate for `NARROW_PERIODS` periods in a row, and then
 * half the way to the estimate's stride (at least one step): the estimate comes from a lighter load than the
 * narrower stride will give, so a quick return would flap, while one step at a time left a sensor scored rarely
 * for minutes after the load had gone.
 *
 * A model's first windows are left out of the service-time mean (`served(ms, cold)`, `COLD_WINDOWS`): they carry
 * one-time costs (first searches of its memories, the context memory's projected copy being built, the search
 * chooser measuring both searches), so they say what a start costs, not what the scorer can do. Counted in,
 * they read as a scorer several times slower than it is: 64 sensors connecting at once widened the hop to 30
 * windows, from which the narrowing took about 100 s to come back.
 *
 * A window over the threshold is followed by its neighbour whatever the stride (`admit`'s `confirming`): the alert
 * rule opens an alert on `openWindows` consecutive windows over the threshold, and at the streams' hop two
 * consecutive windows overlap (1 s every 0.5 s), so a fault of a second or less lifts both. One in three, they are
 * 1.5 s apart and do not overlap: a short fault lifts one window of its sensor's turn at most, and the rule never
 * opened on it (an impact or a click under overload went unalerted). Scoring the next window when the rule waits
 * for it judges the run the rule was calibrated on. A score that comes back after the next window was cut
 * (latency over the hop) still decides: the scorer holds that window until then. And when the turn falls on the
 * second of the two windows that hold a short fault, the run began in the window before, which was skipped: a
 * window that begins a run over the threshold has that one scored too, in its own job, and handed on first
 * (`WindowScorer`, `ScoreSink.beginsRun`). Scored one in `stride`, a fault that lifts two windows is then alerted
 * on two turns in `stride` instead of one (`hark bench false-alarms --offline --stride`). Both cost a window for a
 * window over the threshold, rare on normal sound.
 *
 * Little's law sees the slots, not the cores: once sensors take turns (`admit`), a window rarely shares the
 * machine with a burst of others, so its service time, and the capacity read from it, is that of a lighter
 * load than a narrower stride gives (measured: the governor narrowed 32 sensors to every window and dropped).
 * So with `cpu` a narrower stride must also fit the CPU, projected from the last period: the process's CPU
 * grows by `stride / narrower` (the whole process's CPU, ingest included, stands for the scorer's, so the
 * projection errs on the side of the wider stride) and must stay under `UTILISATION` of the cores it may run
 * on (`cores`); and the machine's busy share (every CPU `os.cpus()` lists: a container's host, where other
 * work takes its share) plus that growth must stay under `UTILISATION` of the machine. Widening does not wait
 * for it.
 */
import { cpus } from 'node:os';

/**
 * Target utilisation of the scorer's slots. Queueing delay grows without bound as utilisation nears 1, and the
 * load varies (garbage collection, bursts of chunks, other processes on the machine); 0.8 keeps a fifth of the
 * slots' time for that.
 */
export const UTILISATION = 0.8;
/**
 * Windows of each model (each detector instance) that count as cold, left out of the service-time mean. Their
 * costs, measured with 64 sensors connecting at once to a server with 64 models (`hark bench pipeline
 * --dataset`, median service time of each sensor's k-th window): 175, 49, 40, 23 ms for k = 1 to 4, then 19 ms.
 * The context memory's search chooser (native/src/addon/bound_search.h) measures each of its two searches on
 * the memory's first two batches, and the first bounded one builds the projected memory: four windows.
 * `loadModel` now scores one window (`Detector.warmUp`), which takes the largest of these costs out of the live
 * path (first live window 68 ms, median, in the same bench); the chooser still measures on the next ones.
 */
export const COLD_WINDOWS = 4;
/**
 * Share of a period after which a dropped window ends it (the header): a fifth of the default 5 s, two hops, still
 * enough windows from every sensor for a mean.
 */
export const DROP_REACTION = 0.2;
/** Periods in a row the narrower stride must fit before the hop narrows. */
export const NARROW_PERIODS = 3;
/**
 * Widest stride: one window in 120, a score a minute at the default 0.5 s hop; a sensor scored more rarely is
 * not watched in any useful sense, and the scheduler's drops and wait times take over and say so. A lower cap
 * would leave the scorer behind while every sensor's queue still holds its few windows: nothing is dropped, but
 * all the queues together wait longer and longer (measured: 64 sensors on a 2-core machine at load 22 with a cap
 * of 20 scored 2.4 windows/s against the 6.4/s the cap let in, and a score reached the dashboard 21 s late).
 */
export const MAX_STRIDE = 120;

/**
 * Whether window `index` (a stream's running number) is on the turn `turn` of a sensor scored one window in
 * `stride` (`HopGovernor.admit`; the offline replay of `hark bench false-alarms --stride` uses it too).
 */
export function onTurn(index: number, turn: number, stride: number): boolean {
  return (index + turn) % stride === 0;
}

/** Whether `HopGovernor.admit` scores a window: on the sensor's turn, off it for the alert rule, or not. */
export type Admission = 'turn' | 'confirming' | false;

export interface HopGovernorOptions {
  /** Jobs the scheduler runs at once. */
  concurrency: number;
  /** The streams' hop between windows, ms. */
  hopMs: number;
  /** Waiting windows the scheduler keeps per sensor (default 2, the server's default). */
  queuePerSensor?: number;
  /** Length of a period, ms. Default 5000: ten hops, enough windows from every sensor for a mean. */
  periodMs?: number;
  /** Clock (ms). Default `Date.now`. */
  now?: () => number;
  /**
   * For the narrowing's CPU check (the header; none: no check): the cores this process may run on
   * (`os.availableParallelism()`) and the CPU times.
   */
  cpu?: { cores: number; times: () => CpuTimes };
}

/**
 * CPU time used so far, seconds: by every CPU of the machine (busy, not idle), of which there are `cpus`, and
 * by this process.
 */
export interface CpuTimes {
  machine: number;
  cpus: number;
  process: number;
}

/** This machine's `CpuTimes` (`os.cpus()` and `process.cpuUsage()`). */
export function cpuTimes(): CpuTimes {
  let busy = 0;
  const all = cpus();
  for (const { times: t } of all) busy += t.user + t.nice + t.sys + t.irq;
  const u = process.cpuUsage();
  return { machine: busy / 1000, cpus: all.length, process: (u.user + u.system) / 1e6 };
}

/** What the governor measured over its last full period. */
export interface GovernorReading {
  /** One window in `stride` is scored. */
  stride: number;
  /** Windows per second the streams offer (0 before the first period). */
  demand: number;
  /**
   * Windows per second the scorer can score, by Little's law, from the windows served in the period that were
   * not cold (the last period's figure when all were; null before any such window).
   */
  capacity: number | null;
  /** CPUs busy on the machine, and used by this process, over the period (null without `cpu`). */
  machineCores: number | null;
  processCores: number | null;
}

export class HopGovernor {
  readonly concurrency: number;
  readonly hopMs: number;
  readonly periodMs: number;
  /** Mean wait (ms) beyond which the scorer is behind. */
  readonly behindWaitMs: number;
  #stride = 1;
  #now: () => number;
  /** The last admitted window index of each sensor. */
  readonly #last = new Map<string, number>();
  /** Each sensor's turn (`admit`), and the next one to give. */
  readonly #turn = new Map<string, number>();
  #turns = 0;
  #periodStart: number;
  #offered = 0;
  #served = 0;
  #serviceMs = 0;
  #waited = 0;
  #waitMs = 0;
  #dropped = 0;
  #fitted = 0;
  /** When the stride last changed (the clock's ms). */
  #changedAt = -Infinity;
  #reading: GovernorReading = {
    stride: 1,
    demand: 0,
    capacity: null,
    machineCores: null,
    processCores: null,
  };
  readonly #cpu: HopGovernorOptions['cpu'];
  #cpuAt: CpuTimes | null = null;

  constructor(o: HopGovernorOptions) {
    this.concurrency = o.concurrency;
    this.hopMs = o.hopMs;
    this.periodMs = o.periodMs ?? 5000;
    this.behindWaitMs = (o.queuePerSensor ?? 2) * o.hopMs;
    this.#now = o.now ?? Date.now;
    this.#periodStart = this.#now();
    this.#cpu = o.cpu;
    this.#cpuAt = o.cpu?.times() ?? null;
    if (!(Number.isInteger(o.concurrency) && o.concurrency >= 1))
      throw new RangeError(`concurrency (${o.concurrency}) must be a whole number >= 1`);
    if (!(o.hopMs > 0)) throw new RangeError(`hopMs (${o.hopMs}) must be > 0`);
    if (!(this.periodMs > 0)) throw new RangeError(`periodMs (${this.periodMs}) must be > 0`);
  }

  /** One window in `stride` is scored (1: every window). */
  get stride(): number {
    this.#tick();
    return this.#stride;
  }

  /** The hop between scored windows, ms. */
  get scoringHopMs(): number {
    return this.stride * this.hopMs;
  }

  get reading(): GovernorReading {
    this.#tick();
    return this.#reading;
  }

  /**
   * Whether window `index` (the stream's running number) of `sensorId` is scored: the first window, then the
   * windows of the sensor's turn, `(index + turn) % stride === 0`. A lower number (the stream started again)
   * starts over. Turns are given in the order sensors are first seen, so sensors whose streams started
   * together (a bench, every sensor reconnecting after a restart) take turns: one in `stride` of them is
   * scored at each hop, instead of all of them at the same hop and none at the others, which made the windows
   * queue behind each other (latency) and read as a slow scorer (a wider stride than the load needed).
   * `confirming`: the sensor's alert rule waits for this window to decide (a window over the threshold has just
   * been scored), so it is scored whatever its turn (`WindowScorer`).
   */
  admit(sensorId: string, index: number, confirming = false): Admission {
    this.#tick();
    this.#offered++;
    let turn = this.#turn.get(sensorId);
    if (turn === undefined) this.#turn.set(sensorId, (turn = this.#turns++));
    const last = this.#last.get(sensorId);
    const mine = last === undefined || index <= last || onTurn(index, turn, this.#stride);
    if (!mine && !confirming) return false;
    this.#last.set(sensorId, index);
    return mine ? 'turn' : 'confirming';
  }

  /** The running number of the sensor's next window after `index` that `admit` scores (present stride). */
  nextAdmitted(sensorId: string, index: number): number {
    const turn = this.#turn.get(sensorId) ?? 0;
    const n = index + 1;
    return n + ((this.#stride - ((n + turn) % this.#stride)) % this.#stride);
  }

  /**
   * An admitted window started after waiting `waitMs` in the queue. A window admitted before the stride last
   * changed is not counted: a change is judged by the windows admitted after it (the header).
   */
  started(waitMs: number): void {
    this.#tick();
    if (this.#now() - waitMs < this.#changedAt) return;
    this.#waited++;
    this.#waitMs += waitMs;
  }

  /**
   * A window was scored in `serviceMs` (start to end). A `cold` one (one of its model's first `COLD_WINDOWS`) is
   * left out of the capacity (the header).
   */
  served(serviceMs: number, cold = false): void {
    this.#tick();
    if (cold) return;
    this.#served++;
    this.#serviceMs += serviceMs;
  }

  /**
   * An admitted window was dropped (its sensor's queue overflowed; the scheduler drops the oldest). `admittedAt`
   * (the clock's ms; default now): a window admitted before the stride last changed is not counted (the header).
   */
  dropped(admittedAt?: number): void {
    this.#tick();
    if ((admittedAt ?? this.#now()) < this.#changedAt) return;
    this.#dropped++;
  }

  /** Forgets a removed sensor. */
  forget(sensorId: string): void {
    this.#last.delete(sensorId);
    this.#turn.delete(sensorId);
  }

  #tick(): void {
    const now = this.#now();
    const elapsed = now - this.#periodStart;
    if (elapsed < this.periodMs && !(this.#dropped > 0 && elapsed >= DROP_REACTION * this.periodMs)) return;
    const demand = (this.#offered * 1000) / elapsed;
    const capacity =
      this.#served > 0
        ? (this.concurrency * 1000) / (this.#serviceMs / this.#served)
        : this.#reading.capacity;
    const want = capacity ? Math.max(1, Math.ceil(demand / (UTILISATION * capacity))) : this.#stride;
    let machineCores: number | null = null;
    let processCores: number | null = null;
    let machineCpus = 1;
    if (this.#cpu && this.#cpuAt) {
      const t = this.#cpu.times();
      machineCores = (t.machine - this.#cpuAt.machine) / (elapsed / 1000);
      processCores = (t.process - this.#cpuAt.process) / (elapsed / 1000);
      machineCpus = Math.max(1, t.cpus);
      this.#cpuAt = t;
    }
    // Whether scoring one window in `narrower` keeps the CPU under UTILISATION (the header above).
    const cpuFits = (narrower: number) => {
      if (machineCores === null || processCores === null) return true;
      const grown = processCores * (this.#stride / narrower - 1);
      return (
        processCores + grown <= UTILISATION * this.#cpu!.cores &&
        machineCores + grown <= UTILISATION * machineCpus
      );
    };
    const behind = this.#dropped > 0 || (this.#waited > 0 && this.#waitMs / this.#waited > this.behindWaitMs);
    if (behind) {
      const wider = Math.min(MAX_STRIDE, Math.max(this.#stride + 1, want));
      if (wider !== this.#stride) this.#changedAt = now;
      this.#stride = wider;
      this.#fitted = 0;
    } else if (want < this.#stride) {
      if (++this.#fitted >= NARROW_PERIODS) {
        // Half the way to the estimate's stride, at least one step (why: the header above), as far as the CPU
        // allows; not at all if one step does not fit, and tried again next period.
        let next = this.#stride - Math.max(1, Math.floor((this.#stride - want) / 2));
        while (next < this.#stride && !cpuFits(next)) next++;
        if (next < this.#stride) {
          this.#stride = next;
          this.#changedAt = now;
          this.#fitted = 0;
        }
      }
    } else this.#fitted = 0;
    this.#reading = { stride: this.#stride, demand, capacity, machineCores, processCores };
    this.#periodStart = now;
    this.#offered = this.#served = this.#waited = this.#dropped = 0;
    this.#serviceMs = this.#waitMs = 0;
  }
}
