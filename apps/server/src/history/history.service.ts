/**
 * The stored spectrogram history: records the live columns (through a {@link HistoryRecorder}), writes the
 * finished blocks once a second in one transaction, enforces each tier's retention and the disk budget, and
 * answers range reads from the tier that fits the range.
 */
import type { ColumnsEvent, HistoryAlertMark, SensorHistory } from '@hark/protocol';
import type { HarkMetrics } from '../metrics/hark.metrics.js';
import { HISTORY_TIERS, type HistoryRepository, type HistoryTier } from '../store/history.repository.js';
import type { HarkStore } from '../store/store.js';
import { bytesToBase64 } from '../live/quantise.js';
import { downsample } from './downsample.js';
import { HistoryRecorder } from './history-recorder.js';

export interface HistoryConfig {
  /** Full-resolution columns are kept this long, s. */
  fullSeconds: number;
  /** Reduced and coarse columns are kept this long, s. */
  reducedSeconds: number;
  /** The reduce window (the reduced tier's column spacing), s. */
  reduceSeconds: number;
  /** Largest number of stored bytes (every tier); the oldest blocks go first beyond it. */
  budgetBytes: number;
}

/**
 * Blocks of 10 s (full) and 120 reduce windows (60 s at 0.5 s): short enough that a crash loses little and a
 * range read decodes little outside the range, long enough that a day is a few thousand rows.
 */
export const FULL_BLOCK_MS = 10_000;
export const REDUCED_BLOCK_COLUMNS = 120;
/**
 * The coarse tier's window is this many reduce windows (30 s at 0.5 s), so a range read touches at most about
 * 60x fewer bytes than the tier below it: a 24 h range of 1500 columns (58 s each) reads 2880 coarse
 * columns instead of 172 800 reduced ones. Its blocks of 20 windows (10 min) bound what a crash loses of it.
 */
export const COARSE_FACTOR = 60;
export const COARSE_BLOCK_COLUMNS = 20;
/** Retention and the budget are enforced this often, ms. */
const PRUNE_EVERY_MS = 60_000;

const TIER_NAMES = ['full', 'reduced', 'coarse'] as const;

export interface HistoryServiceDeps {
  store: HarkStore;
  metrics: HarkMetrics;
  config: HistoryConfig;
}

export class HistoryService {
  readonly recorder: HistoryRecorder;
  readonly config: HistoryConfig;
  private readonly repo: HistoryRepository;
  private flushTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;

  constructor(private readonly d: HistoryServiceDeps) {
    this.config = d.config;
    this.repo = d.store.history;
    const reduceMs = d.config.reduceSeconds * 1000;
    this.recorder = new HistoryRecorder({
      fullBlockMs: FULL_BLOCK_MS,
      reduced: [
        { tier: 1, windowMs: reduceMs, blockColumns: REDUCED_BLOCK_COLUMNS },
        { tier: 2, windowMs: reduceMs * COARSE_FACTOR, blockColumns: COARSE_BLOCK_COLUMNS },
      ],
    });
    d.metrics.historyBudget.set(d.config.budgetBytes);
    this.#publish();
  }

  /** Records the columns sent to dashboards. */
  columns(ev: ColumnsEvent): void {
    this.recorder.columns(ev);
  }

  start(): void {
    this.flushTimer = setInterval(() => void this.flush(), 1000);
    this.flushTimer.unref();
    this.pruneTimer = setInterval(() => void this.prune(Date.now()), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
    void this.prune(Date.now());
  }

  /** Writes what is recorded, the unfinished blocks too (at shutdown). */
  async stop(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.flushTimer = this.pruneTimer = null;
    this.recorder.finishAll();
    await this.flush();
  }

  /** A sensor deleted with its data (`?purge=true`): what it had not written yet is dropped. */
  forget(sensorId: string): void {
    this.recorder.forget(sensorId);
  }

  /** Writes the finished blocks in one transaction; returns how many. Kept for the next try when it fails. */
  async flush(): Promise<number> {
    const blocks = this.recorder.take();
    if (blocks.length === 0) return 0;
    const ok = await this.d.store.health.attempt('history', async () => {
      await this.repo.insert(blocks);
      return true;
    });
    if (!ok) {
      this.recorder.giveBack(blocks);
      this.#countDropped();
      return 0;
    }
    this.#publish();
    return blocks.length;
  }

  #droppedCounted = 0;

  /** Blocks the recorder dropped from its full queue since the last count go to `hark_write_queue_dropped_total`. */
  #countDropped(): void {
    const n = this.recorder.dropped - this.#droppedCounted;
    if (n <= 0) return;
    this.#droppedCounted = this.recorder.dropped;
    this.d.metrics.writeQueueDropped.inc({ queue: 'history' }, n);
  }

  /** Deletes blocks past each tier's retention, then the oldest beyond the budget; returns the bytes freed. */
  async prune(now: number): Promise<number> {
    await this.flush();
    const freed =
      (await this.d.store.health.attempt('history', async () => {
        const { fullSeconds, reducedSeconds, budgetBytes } = this.config;
        return (
          (await this.repo.deleteEndedBefore(0, now - fullSeconds * 1000)) +
          (await this.repo.deleteEndedBefore(1, now - reducedSeconds * 1000)) +
          (await this.repo.deleteEndedBefore(2, now - reducedSeconds * 1000)) +
          (await this.repo.trimTo(budgetBytes))
        );
      })) ?? 0;
    this.#publish();
    return freed;
  }

  /**
   * The sensor's history over `[from, to)` in at most `maxColumns` columns, from the coarsest tier whose
   * windows are no wider than the columns asked for: a column's max over the windows of a coarser tier equals
   * its max over the finer tier's columns (up to where a window straddles two columns: it counts in the one it
   * starts in), read for a fraction of the bytes. A tier that does not reach back as far into the range as the
   * next coarser one (full resolution older than its retention, a tier added since) gives way to it.
   */
  async query(
    sensorId: string,
    from: number,
    to: number,
    maxColumns: number,
    alerts: HistoryAlertMark[],
    /** The sensor's band centres (Hz), given with the answer when they match its band count. */
    melHz: readonly number[] | null = null,
  ): Promise<SensorHistory> {
    // Finished blocks waiting for the next write are written first, so the answer has no hole where they are.
    await this.flush();
    const since = await Promise.all(HISTORY_TIERS.map((t) => this.#oldest(sensorId, t)));
    const width = (to - from) / maxColumns;
    let tier: HistoryTier = 0;
    for (const t of [2, 1] as const) {
      if ((this.recorder.windowMs(t) as number) <= width) {
        tier = t;
        break;
      }
    }
    while (tier < 2) {
      const s = since[tier];
      const next = since[tier + 1];
      // The next tier's first window starts at or before the first column it holds: a finer tier starting
      // inside that window reaches back as far as the coarser one can show.
      const reach =
        next === null ? -Infinity : next + (this.recorder.windowMs((tier + 1) as HistoryTier) as number);
      if (s !== null && s <= Math.max(from, reach)) break;
      tier = (tier + 1) as HistoryTier;
    }
    const blocks = [
      ...(await this.repo.range(sensorId, tier, from, to)),
      ...this.recorder.partial(sensorId, tier).filter((b) => b.t0 < to && b.t0 + b.nColumns * b.hopMs > from),
    ];
    const d = downsample(blocks, from, to, maxColumns);
    const tierHopMs = this.recorder.windowMs(tier) ?? blocks.at(-1)?.hopMs ?? 0;
    return {
      sensorId,
      from,
      to,
      tier: TIER_NAMES[tier],
      tierHopMs,
      columnMs: d?.columnMs ?? tierHopMs,
      times: d?.times ?? [],
      nMels: d?.nMels ?? 0,
      melHz: d && melHz?.length === d.nMels ? [...melHz] : [],
      dbRange: d?.dbRange ?? [0, 1],
      anomalyScale: d?.anomalyScale ?? 1,
      spectrogram: d ? bytesToBase64(d.spectrogram) : '',
      anomaly: d ? bytesToBase64(d.anomaly) : '',
      fullSince: since[0],
      reducedSince: since[1],
      coarseSince: since[2],
      alerts,
    };
  }

  /** The oldest column of a tier: stored, or recorded and not yet written. */
  async #oldest(sensorId: string, tier: HistoryTier): Promise<number | null> {
    return (await this.repo.oldest(sensorId, tier)) ?? this.recorder.partial(sensorId, tier)[0]?.t0 ?? null;
  }

  #publish(): void {
    for (const tier of HISTORY_TIERS)
      this.d.metrics.historyBytes.set({ tier: TIER_NAMES[tier] }, this.repo.bytes(tier));
  }
}
