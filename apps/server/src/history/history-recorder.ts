/**
 * Turns the quantised columns sent to dashboards (`ColumnsEvent`) into history blocks at several tiers: the
 * columns as they are (full resolution) and the max per mel band over each tier's reduce window. The max
 * keeps what an operator looks for far back, a short loud event or a hot anomaly patch, which a mean would
 * dilute. Blocks cut where the columns stop being consecutive (a gap, a new mel layout or byte scale); the
 * reduce windows are aligned to the epoch, so the reduced columns of two runs never overlap. Finished
 * blocks wait in memory until `take()`; the unfinished ones are readable with `partial()`.
 */
import type { ColumnsEvent } from '@hark/protocol';
import type { HistoryBlock, HistoryTier } from '../store/history.repository.js';

/** A reduced tier: the max per mel band over each `windowMs`, stored in blocks of `blockColumns`. */
export interface ReducedTier {
  tier: HistoryTier;
  windowMs: number;
  blockColumns: number;
}

export interface HistoryRecorderOptions {
  /** Length of a full-resolution block, ms. */
  fullBlockMs: number;
  /** The reduced tiers, finest first. */
  reduced: readonly ReducedTier[];
  /**
   * Finished blocks kept while writes fail; the oldest are dropped beyond it. Default 600: about 6 minutes
   * of 16 sensors' blocks, at most 100 MB (a full-resolution block is 160 KB at the default layout).
   */
  maxPending?: number;
}

/** Columns whose times differ from the expected one by more than this part of a hop start a new block. */
const GAP_TOLERANCE = 0.5;

/** A block being filled. */
class BlockBuilder {
  readonly spectrogram: Uint8Array;
  readonly anomaly: Uint8Array;
  n = 0;

  constructor(
    readonly sensorId: string,
    readonly tier: HistoryTier,
    readonly t0: number,
    readonly hopMs: number,
    readonly layout: Layout,
    readonly capacity: number,
  ) {
    this.spectrogram = new Uint8Array(capacity * layout.nMels);
    this.anomaly = new Uint8Array(capacity * layout.nMels);
  }

  /** Time the next column should have. */
  get next(): number {
    return this.t0 + this.n * this.hopMs;
  }

  push(spec: Uint8Array, anom: Uint8Array, at: number): void {
    const m = this.layout.nMels;
    this.spectrogram.set(spec.subarray(at * m, at * m + m), this.n * m);
    this.anomaly.set(anom.subarray(at * m, at * m + m), this.n * m);
    this.n++;
  }

  block(copy: boolean): HistoryBlock {
    const m = this.layout.nMels;
    const cut = (b: Uint8Array) => (copy ? b.slice(0, this.n * m) : b.subarray(0, this.n * m));
    return {
      sensorId: this.sensorId,
      tier: this.tier,
      t0: this.t0,
      hopMs: this.hopMs,
      nMels: m,
      nColumns: this.n,
      dbRange: this.layout.dbRange,
      anomalyScale: this.layout.anomalyScale,
      spectrogram: cut(this.spectrogram),
      anomaly: cut(this.anomaly),
    };
  }
}

interface Layout {
  nMels: number;
  dbRange: readonly [number, number];
  anomalyScale: number;
}

const sameLayout = (a: Layout, b: Layout): boolean =>
  a.nMels === b.nMels &&
  a.dbRange[0] === b.dbRange[0] &&
  a.dbRange[1] === b.dbRange[1] &&
  a.anomalyScale === b.anomalyScale;

/** One reduced tier of one sensor: the reduce window being maxed and the block being filled. */
class Reduction {
  block: BlockBuilder | null = null;
  /** Index (time / windowMs) of the window being maxed; -1: none. */
  bucket = -1;
  spec: Uint8Array;
  anom: Uint8Array;

  constructor(
    readonly tier: HistoryTier,
    readonly windowMs: number,
    readonly blockColumns: number,
    nMels: number,
  ) {
    this.spec = new Uint8Array(nMels);
    this.anom = new Uint8Array(nMels);
  }
}

/** One sensor's builders. */
class SensorHistory {
  full: BlockBuilder | null = null;
  reductions: Reduction[] = [];
  constructor(
    readonly sensorId: string,
    readonly layout: Layout,
  ) {}
}

export class HistoryRecorder {
  private readonly fullBlockMs: number;
  private readonly reduced: readonly ReducedTier[];
  private readonly maxPending: number;
  private readonly sensors = new Map<string, SensorHistory>();
  private pending: HistoryBlock[] = [];
  /** Finished blocks dropped because writes kept failing. */
  dropped = 0;

  constructor(options: HistoryRecorderOptions) {
    this.fullBlockMs = options.fullBlockMs;
    this.reduced = options.reduced;
    this.maxPending = options.maxPending ?? 600;
    if (!(this.fullBlockMs > 0)) throw new RangeError(`fullBlockMs (${this.fullBlockMs}) must be > 0`);
    for (const r of this.reduced) {
      if (!(r.windowMs > 0)) throw new RangeError(`reduce window (${r.windowMs} ms) must be > 0`);
      if (!(r.blockColumns >= 1)) throw new RangeError(`blockColumns (${r.blockColumns}) must be >= 1`);
    }
  }

  /** Reduce window of a reduced tier, ms. */
  windowMs(tier: HistoryTier): number | null {
    return this.reduced.find((r) => r.tier === tier)?.windowMs ?? null;
  }

  /** Records the columns of one event (the columns a dashboard is sent, in time order). */
  columns(ev: ColumnsEvent): void {
    let s = this.sensors.get(ev.sensorId);
    const layout: Layout = { nMels: ev.nMels, dbRange: ev.dbRange, anomalyScale: ev.anomalyScale };
    if (!s || !sameLayout(s.layout, layout)) {
      if (s) this.#close(s);
      s = new SensorHistory(ev.sensorId, layout);
      s.reductions = this.reduced.map((r) => new Reduction(r.tier, r.windowMs, r.blockColumns, ev.nMels));
      this.sensors.set(ev.sensorId, s);
    }
    const hopMs = ev.hopSeconds * 1000;
    const m = ev.nMels;
    const spec = ev.spectrogram;
    const anom = ev.anomaly;
    for (let i = 0; i < ev.nColumns; i++) {
      const t = ev.t0 + i * hopMs;
      // Full resolution.
      let f = s.full;
      if (f && (f.hopMs !== hopMs || Math.abs(t - f.next) > GAP_TOLERANCE * hopMs || f.n === f.capacity)) {
        this.pending.push(f.block(false));
        f = s.full = null;
      }
      if (!f) {
        const capacity = Math.max(1, Math.round(this.fullBlockMs / hopMs));
        f = s.full = new BlockBuilder(ev.sensorId, 0, t, hopMs, layout, capacity);
      }
      f.push(spec, anom, i);
      // Reduced: max per mel band over the reduce window holding t.
      const o = i * m;
      for (const r of s.reductions) {
        const k = Math.floor(t / r.windowMs);
        if (k !== r.bucket) {
          if (r.bucket >= 0) this.#endBucket(s, r);
          r.bucket = k;
          r.spec.fill(0);
          r.anom.fill(0);
        }
        const rs = r.spec;
        const ra = r.anom;
        for (let j = 0; j < m; j++) {
          if (spec[o + j] > rs[j]) rs[j] = spec[o + j];
          if (anom[o + j] > ra[j]) ra[j] = anom[o + j];
        }
      }
    }
    this.#bound();
  }

  /** Finished blocks waiting to be written. */
  get waiting(): number {
    return this.pending.length;
  }

  /** The finished blocks, handed over once. */
  take(): HistoryBlock[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** Gives back blocks whose write failed (kept for the next try, the newest `maxPending` at most). */
  giveBack(blocks: HistoryBlock[]): void {
    this.pending = [...blocks, ...this.pending];
    this.#bound();
  }

  /** Drops a sensor's unfinished and unwritten blocks (it was deleted with its data). */
  forget(sensorId: string): void {
    this.sensors.delete(sensorId);
    this.pending = this.pending.filter((b) => b.sensorId !== sensorId);
  }

  /** Finishes every sensor's blocks (at shutdown), the current reduce windows included. */
  finishAll(): void {
    for (const s of this.sensors.values()) this.#close(s);
    this.sensors.clear();
  }

  /** Copies of the sensor's unfinished block of `tier` (the current reduce window included), for reads. */
  partial(sensorId: string, tier: HistoryTier): HistoryBlock[] {
    const s = this.sensors.get(sensorId);
    if (!s) return [];
    if (tier === 0) return s.full && s.full.n > 0 ? [s.full.block(true)] : [];
    const r = s.reductions.find((x) => x.tier === tier);
    if (!r) return [];
    const out: HistoryBlock[] = [];
    if (r.block && r.block.n > 0) out.push(r.block.block(true));
    if (r.bucket >= 0) {
      out.push({
        sensorId,
        tier,
        t0: r.bucket * r.windowMs,
        hopMs: r.windowMs,
        nMels: s.layout.nMels,
        nColumns: 1,
        dbRange: s.layout.dbRange,
        anomalyScale: s.layout.anomalyScale,
        spectrogram: r.spec.slice(),
        anomaly: r.anom.slice(),
      });
    }
    return out;
  }

  /** The current reduce window goes into its tier's block. */
  #endBucket(s: SensorHistory, r: Reduction): void {
    const t = r.bucket * r.windowMs;
    let b = r.block;
    if (b && (Math.abs(t - b.next) > GAP_TOLERANCE * r.windowMs || b.n === b.capacity)) {
      this.pending.push(b.block(false));
      b = r.block = null;
    }
    if (!b) b = r.block = new BlockBuilder(s.sensorId, r.tier, t, r.windowMs, s.layout, r.blockColumns);
    b.push(r.spec, r.anom, 0);
  }

  #close(s: SensorHistory): void {
    if (s.full && s.full.n > 0) this.pending.push(s.full.block(false));
    s.full = null;
    for (const r of s.reductions) {
      if (r.bucket >= 0) this.#endBucket(s, r);
      r.bucket = -1;
      if (r.block && r.block.n > 0) this.pending.push(r.block.block(false));
      r.block = null;
    }
  }

  #bound(): void {
    if (this.pending.length <= this.maxPending) return;
    this.dropped += this.pending.length - this.maxPending;
    this.pending = this.pending.slice(-this.maxPending);
  }
}
