/**
 * Runs window-scoring jobs without blocking the socket handlers: at most `concurrency` jobs run at once over
 * all sensors, each sensor has a bounded queue of waiting jobs, and sensors take turns (round-robin over the
 * sensors with waiting jobs). When a sensor's queue is full the **oldest waiting** job of that sensor is
 * dropped (never a running one) so the freshest audio is scored; every drop is counted and reported to the
 * job's `onDrop`. A job that throws is counted as failed and reported; the scheduler keeps going.
 *
 * `submit` returns at once; a started job's `run` is called from `setImmediate`, after the current handler.
 */

export interface SchedulerOptions {
  /** Jobs running at once over all sensors. Default 2. */
  concurrency?: number;
  /** Waiting (not running) jobs kept per sensor. Default 2. */
  queuePerSensor?: number;
  /** Span of the drop rate, ms. Default 60 000. */
  rateWindowMs?: number;
  /** Latency samples kept per sensor. Default 120. */
  latencySamples?: number;
  /** Clock (ms). Default `Date.now`. */
  now?: () => number;
  /** Called for every job that throws (after its own `onError`). */
  onError?: (sensorId: string, error: unknown) => void;
  /** Called for every dropped job (after its own `onDrop`), e.g. for a metrics counter. */
  onDrop?: (sensorId: string, reason: DropReason) => void;
  /** Called for every job that completes, with its submit-to-done latency (ms). */
  onDone?: (sensorId: string, latencyMs: number) => void;
}

/** Why a job never ran: its sensor's queue overflowed, or the sensor was removed. */
export type DropReason = 'overflow' | 'removed';

/** Callbacks of one job. */
export interface JobHandlers<T> {
  onDone?: (value: T, latencyMs: number) => void;
  onDrop?: (reason: DropReason) => void;
  onError?: (error: unknown) => void;
}

/** Counters of one sensor. */
export interface SensorSchedulerStats {
  scored: number;
  dropped: number;
  failed: number;
  /** Jobs waiting (not running). */
  queueDepth: number;
  running: number;
  /** dropped / (scored + dropped) over the last `rateWindowMs` (0 when nothing happened). */
  dropRate: number;
  /** The most recent submit-to-done latencies (ms), oldest first. */
  latencyMs: number[];
}

interface Job {
  sensorId: string;
  run: () => Promise<unknown>;
  handlers: JobHandlers<unknown>;
  submittedAt: number;
}

interface SensorQueue {
  waiting: Job[];
  running: number;
  scored: number;
  dropped: number;
  failed: number;
  /** Times of recent outcomes (ms), for the drop rate. */
  recentScored: number[];
  recentDropped: number[];
  latency: number[];
}

export class ScoringScheduler {
  readonly concurrency: number;
  readonly queuePerSensor: number;
  private readonly rateWindowMs: number;
  private readonly latencySamples: number;
  private readonly now: () => number;
  private readonly hooks: Pick<SchedulerOptions, 'onError' | 'onDrop' | 'onDone'>;
  private readonly sensors = new Map<string, SensorQueue>();
  /** Sensors with waiting jobs, in turn order. */
  private readonly turn: string[] = [];
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: SchedulerOptions = {}) {
    this.concurrency = options.concurrency ?? 2;
    this.queuePerSensor = options.queuePerSensor ?? 2;
    this.rateWindowMs = options.rateWindowMs ?? 60_000;
    this.latencySamples = options.latencySamples ?? 120;
    this.now = options.now ?? Date.now;
    this.hooks = { onError: options.onError, onDrop: options.onDrop, onDone: options.onDone };
    if (!(Number.isInteger(this.concurrency) && this.concurrency >= 1))
      throw new RangeError(`concurrency (${this.concurrency}) must be a whole number >= 1`);
    if (!(Number.isInteger(this.queuePerSensor) && this.queuePerSensor >= 1))
      throw new RangeError(`queuePerSensor (${this.queuePerSensor}) must be a whole number >= 1`);
  }

  /**
   * Queues `run` for `sensorId`. If a slot is free it starts now (its `run` is called on the next
   * `setImmediate`); otherwise it waits, and when the sensor already has `queuePerSensor` waiting jobs the
   * oldest of them is dropped.
   */
  submit<T>(sensorId: string, run: () => Promise<T>, handlers: JobHandlers<T> = {}): void {
    const q = this.queue(sensorId);
    q.waiting.push({ sensorId, run, handlers: handlers as JobHandlers<unknown>, submittedAt: this.now() });
    if (q.waiting.length === 1) this.turn.push(sensorId);
    this.pump();
    if (q.waiting.length > this.queuePerSensor) this.drop(q, q.waiting.shift()!, 'overflow');
  }

  /** Drops every waiting job of `sensorId` (reason `'removed'`, counted); running jobs finish. Counters stay. */
  removeSensor(sensorId: string): void {
    const q = this.sensors.get(sensorId);
    if (!q) return;
    const jobs = q.waiting.splice(0);
    const i = this.turn.indexOf(sensorId);
    if (i >= 0) this.turn.splice(i, 1);
    for (const job of jobs) this.drop(q, job, 'removed');
    this.checkIdle();
  }

  /** Counters of `sensorId` (zeros for an unknown sensor). */
  stats(sensorId: string): SensorSchedulerStats {
    const q = this.sensors.get(sensorId);
    if (!q)
      return { scored: 0, dropped: 0, failed: 0, queueDepth: 0, running: 0, dropRate: 0, latencyMs: [] };
    this.prune(q);
    const recent = q.recentScored.length + q.recentDropped.length;
    return {
      scored: q.scored,
      dropped: q.dropped,
      failed: q.failed,
      queueDepth: q.waiting.length,
      running: q.running,
      dropRate: recent ? q.recentDropped.length / recent : 0,
      latencyMs: [...q.latency],
    };
  }

  /** Jobs running over all sensors. */
  get active(): number {
    return this.running;
  }

  /** Every slot is running, or some job waits: optional work (a shadow model's windows) should not start. */
  get behind(): boolean {
    return this.running >= this.concurrency || this.turn.length > 0;
  }

  /** Resolves when no job is running or waiting. */
  idle(): Promise<void> {
    if (this.running === 0 && this.turn.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private queue(sensorId: string): SensorQueue {
    let q = this.sensors.get(sensorId);
    if (!q) {
      q = {
        waiting: [],
        running: 0,
        scored: 0,
        dropped: 0,
        failed: 0,
        recentScored: [],
        recentDropped: [],
        latency: [],
      };
      this.sensors.set(sensorId, q);
    }
    return q;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.turn.length > 0) {
      const sensorId = this.turn.shift()!;
      const q = this.sensors.get(sensorId)!;
      const job = q.waiting.shift()!;
      if (q.waiting.length > 0) this.turn.push(sensorId);
      this.running++;
      q.running++;
      setImmediate(() => void this.execute(q, job));
    }
  }

  private async execute(q: SensorQueue, job: Job): Promise<void> {
    try {
      const value = await job.run();
      const latency = this.now() - job.submittedAt;
      q.scored++;
      q.recentScored.push(this.now());
      q.latency.push(latency);
      if (q.latency.length > this.latencySamples) q.latency.shift();
      this.safely(() => job.handlers.onDone?.(value, latency), job.sensorId);
      this.safely(() => this.hooks.onDone?.(job.sensorId, latency), job.sensorId);
    } catch (error) {
      q.failed++;
      this.safely(() => job.handlers.onError?.(error), job.sensorId);
      this.safely(() => this.hooks.onError?.(job.sensorId, error), job.sensorId);
    } finally {
      this.running--;
      q.running--;
      this.prune(q);
      this.pump();
      this.checkIdle();
    }
  }

  private drop(q: SensorQueue, job: Job, reason: DropReason): void {
    q.dropped++;
    q.recentDropped.push(this.now());
    this.prune(q);
    this.safely(() => job.handlers.onDrop?.(reason), job.sensorId);
    this.safely(() => this.hooks.onDrop?.(job.sensorId, reason), job.sensorId);
  }

  /** Runs a callback; an exception in it is reported to the `onError` hook, never to the scheduler. */
  private safely(fn: () => void, sensorId: string): void {
    try {
      fn();
    } catch (error) {
      try {
        this.hooks.onError?.(sensorId, error);
      } catch {
        // A throwing error hook has nowhere left to report to.
      }
    }
  }

  private prune(q: SensorQueue): void {
    const since = this.now() - this.rateWindowMs;
    for (const times of [q.recentScored, q.recentDropped]) {
      let k = 0;
      while (k < times.length && times[k] <= since) k++;
      if (k > 0) times.splice(0, k);
    }
  }

  private checkIdle(): void {
    if (this.running > 0 || this.turn.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
