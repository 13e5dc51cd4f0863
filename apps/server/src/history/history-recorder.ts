/**
 * Turns the quantised columns sent to dashboards (`ColumnsEvent`) into history blocks at two tiers: the
 * columns as they are (full resolution) and the max per mel band over each reduce window (reduced). The max
 * keeps what an operator looks for far back, a short loud event or a hot anomaly patch, which a mean would
 * dilute. Blocks cut where the columns stop being consecutive (a gap, a new mel layout or byte scale); the
 * reduce windows are aligned to the epoch, so the reduced columns of two runs never overlap. Finished
 * blocks wait in memory until `take()`; the unfinished ones are readable with `partial()`.
 */
import type { ColumnsEvent } from '@hark/protocol';
import type { HistoryBlock, HistoryTier } from '../store/history.repository.js';

export interface HistoryRecorderOptions {
  /** Reduce window, ms (the reduced tier's column spacing). */
  reduceMs: number;
  /** Length of a full-resolution block, ms. */
  fullBlockMs: number;
  /** Columns of a reduced block. */
  reducedBlockColumns: number;
  /** Finished blocks kept while writes fail; the oldest are dropped beyond it. */
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

/** One sensor's builders. */
class SensorHistory {
  constructor(readonly sensorId: string) {}
  full: BlockBuilder | null = null;
  reduced: BlockBuilder | null = null;
  /** The reduce window being maxed: its index (time / reduceMs) and running maxima. */
  bucket = -1;
  bucketSpec: Uint8Array = new Uint8Array(0);
  bucketAnom: Uint8Array = new Uint8Array(0);
  layout: Layout | null = null;
}

export class HistoryRecorder {
  readonly reduceMs: number;
  private readonly fullBlockMs: number;
  private readonly reducedBlockColumns: number;
  private readonly maxPending: number;
  private readonly sensors = new Map<string, SensorHistory>();
  private pending: HistoryBlock[] = [];
  /** Finished blocks dropped because writes kept failing. */
  dropped = 0;

  constructor(options: HistoryRecorderOptions) {
    this.reduceMs = options.reduceMs;
    this.fullBlockMs = options.fullBlockMs;
    this.reducedBlockColumns = options.reducedBlockColumns;
    this.maxPending = options.maxPending ?? 10_000;
    if (!(this.reduceMs > 0)) throw new RangeError(`reduceMs (${this.reduceMs}) must be > 0`);
    if (!(this.fullBlockMs > 0)) throw new RangeError(`fullBlockMs (${this.fullBlockMs}) must be > 0`);
    if (!(this.reducedBlockColumns >= 1))
      throw new RangeError(`reducedBlockColumns (${this.reducedBlockColumns}) must be >= 1`);
  }

  /** Records the columns of one event (the columns a dashboard is sent, in time order). */
  columns(ev: ColumnsEvent): void {
    let s = this.sensors.get(ev.sensorId);
    if (!s) this.sensors.set(ev.sensorId, (s = new SensorHistory(ev.sensorId)));
    const layout: Layout = { nMels: ev.nMels, dbRange: ev.dbRange, anomalyScale: ev.anomalyScale };
    if (!s.layout || !sameLayout(s.layout, layout)) {
      this.#close(s, true);
      s.layout = layout;
      s.bucketSpec = new Uint8Array(layout.nMels);
      s.bucketAnom = new Uint8Array(layout.nMels);
    }
    const hopMs = ev.hopSeconds * 1000;
    const m = ev.nMels;
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
      f.push(ev.spectrogram, ev.anomaly, i);
      // Reduced: max per mel band over the reduce window holding t.
      const k = Math.floor(t / this.reduceMs);
      if (k !== s.bucket) {
        if (s.bucket >= 0) this.#endBucket(s);
        s.bucket = k;
        s.bucketSpec.fill(0);
        s.bucketAnom.fill(0);
      }
      const o = i * m;
      for (let j = 0; j < m; j++) {
        if (ev.spectrogram[o + j] > s.bucketSpec[j]) s.bucketSpec[j] = ev.spectrogram[o + j];
        if (ev.anomaly[o + j] > s.bucketAnom[j]) s.bucketAnom[j] = ev.anomaly[o + j];
      }
    }
    this.#bound();
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

  /** Finishes every sensor's blocks (at shutdown), the current reduce window included. */
  finishAll(): void {
    for (const s of this.sensors.values()) this.#close(s, true);
  }

  /** Copies of the sensor's unfinished block of `tier` (the current reduce window included), for reads. */
  partial(sensorId: string, tier: HistoryTier): HistoryBlock[] {
    const s = this.sensors.get(sensorId);
    if (!s?.layout) return [];
    const out: HistoryBlock[] = [];
    const b = tier === 0 ? s.full : s.reduced;
    if (b && b.n > 0) out.push(b.block(true));
    if (tier === 1 && s.bucket >= 0) {
      out.push({
        sensorId,
        tier: 1,
        t0: s.bucket * this.reduceMs,
        hopMs: this.reduceMs,
        nMels: s.layout.nMels,
        nColumns: 1,
        dbRange: s.layout.dbRange,
        anomalyScale: s.layout.anomalyScale,
        spectrogram: s.bucketSpec.slice(),
        anomaly: s.bucketAnom.slice(),
      });
    }
    return out;
  }

  /** The current reduce window goes into the sensor's reduced block. */
  #endBucket(s: SensorHistory): void {
    const t = s.bucket * this.reduceMs;
    let r = s.reduced;
    if (r && (Math.abs(t - r.next) > GAP_TOLERANCE * this.reduceMs || r.n === r.capacity)) {
      this.pending.push(r.block(false));
      r = s.reduced = null;
    }
    if (!r) {
      r = s.reduced = new BlockBuilder(s.sensorId, 1, t, this.reduceMs, s.layout!, this.reducedBlockColumns);
    }
    r.push(s.bucketSpec, s.bucketAnom, 0);
  }

  #close(s: SensorHistory, withBucket: boolean): void {
    if (withBucket && s.bucket >= 0 && s.layout) this.#endBucket(s);
    s.bucket = -1;
    for (const b of [s.full, s.reduced]) if (b && b.n > 0) this.pending.push(b.block(false));
    s.full = s.reduced = null;
  }

  #bound(): void {
    if (this.pending.length <= this.maxPending) return;
    this.dropped += this.pending.length - this.maxPending;
    this.pending = this.pending.slice(-this.maxPending);
  }
}
