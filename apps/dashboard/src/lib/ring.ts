/**
 * The live spectrogram's memory: a ring of the last `capacity` slots of quantised log-mel and anomaly bytes.
 * A slot holds `decimation` consecutive columns pooled by their maximum (so a short anomaly never vanishes
 * from a long window), which keeps a 300 s window at a few thousand pixels wide whatever the hop.
 *
 * Time is kept in columns: a gap in the stream (a reconnect) is filled with blank columns, and columns older
 * than the newest one already held (an overlapping backfill after a re-subscription) are skipped, so the
 * slot positions stay a linear function of wall-clock time.
 */
import type { ColumnsEvent } from './contracts';

/** The part of a `columns` event the ring keeps. */
export type ColumnBatch = Pick<
  ColumnsEvent,
  't0' | 'hopSeconds' | 'nMels' | 'nColumns' | 'spectrogram' | 'anomaly'
> & { scored?: boolean };

/** At most this many slots (pixels across) per ring, whatever the window. */
export const MAX_SLOTS = 4096;

export class ColumnRing {
  readonly spectrogram: Uint8Array;
  readonly anomaly: Uint8Array;
  /** Per slot: 0 when a column pooled into it was not scored (dropped under overload), else 1. */
  readonly scored: Uint8Array;
  /** Next slot to write. */
  head = 0;
  /** Complete slots held (up to `capacity`). */
  count = 0;
  /** Complete slots written since creation (monotonic: painters compare it with what they painted). */
  writes = 0;
  /** Columns received, including blank gap columns. */
  columns = 0;
  /** Expected start time (ms) of the next column, null before the first. */
  nextT: number | null = null;
  /** Columns already pooled into the slot at `head`. */
  private partial = 0;

  constructor(
    readonly capacity: number,
    readonly nMels: number,
    readonly hopSeconds: number,
    readonly decimation = 1,
  ) {
    if (!(capacity > 0 && Number.isInteger(capacity)))
      throw new Error(`capacity (${capacity}) must be an integer > 0`);
    if (!(nMels > 0 && Number.isInteger(nMels))) throw new Error(`nMels (${nMels}) must be an integer > 0`);
    if (!(hopSeconds > 0)) throw new Error(`hopSeconds (${hopSeconds}) must be > 0`);
    if (!(decimation >= 1 && Number.isInteger(decimation)))
      throw new Error(`decimation (${decimation}) must be an integer >= 1`);
    this.spectrogram = new Uint8Array(capacity * nMels);
    this.anomaly = new Uint8Array(capacity * nMels);
    this.scored = new Uint8Array(capacity).fill(1);
  }

  /** A ring covering `windowSeconds` of columns of `hopSeconds`, pooled so that it stays within `maxSlots`. */
  static forWindow(
    windowSeconds: number,
    hopSeconds: number,
    nMels: number,
    maxSlots = MAX_SLOTS,
  ): ColumnRing {
    const columns = Math.max(1, Math.ceil(windowSeconds / hopSeconds));
    const decimation = Math.max(1, Math.ceil(columns / maxSlots));
    return new ColumnRing(Math.ceil(columns / decimation), nMels, hopSeconds, decimation);
  }

  /** Seconds covered by one slot. */
  get slotSeconds(): number {
    return this.hopSeconds * this.decimation;
  }

  /** Seconds covered by the whole ring. */
  get windowSeconds(): number {
    return this.capacity * this.slotSeconds;
  }

  /** End time (ms) of the newest complete slot, null while empty. */
  get endT(): number | null {
    if (this.nextT === null) return null;
    return this.nextT - this.partial * this.hopSeconds * 1000;
  }

  /** Whether a batch fits this ring (same mel count and hop); otherwise make a new ring. */
  accepts(batch: Pick<ColumnBatch, 'nMels' | 'hopSeconds'>): boolean {
    return batch.nMels === this.nMels && Math.abs(batch.hopSeconds - this.hopSeconds) < 1e-9;
  }

  /** Appends a batch; returns the number of slots completed by it. */
  push(batch: ColumnBatch): number {
    if (!this.accepts(batch))
      throw new Error(
        `batch of ${batch.nMels} mels at ${batch.hopSeconds} s hop does not fit a ring of ${this.nMels} at ${this.hopSeconds} s`,
      );
    const { nMels, nColumns } = batch;
    if (batch.spectrogram.length < nColumns * nMels || batch.anomaly.length < nColumns * nMels)
      throw new Error(`batch of ${nColumns} columns x ${nMels} mels carries too few bytes`);
    const hopMs = this.hopSeconds * 1000;
    const before = this.writes;
    let skip = 0;
    if (this.nextT !== null) {
      const offset = Math.round((batch.t0 - this.nextT) / hopMs);
      const windowColumns = this.capacity * this.decimation;
      if (offset > 0) {
        const blanks = Math.min(offset, windowColumns + this.decimation);
        for (let i = 0; i < blanks; i++) this.pushColumn(null, null, 0, true);
        this.nextT = batch.t0;
      } else if (offset < 0) {
        if (-offset > windowColumns * 4) {
          // The stream's clock jumped back far (a new stream): start over.
          this.clear();
        } else {
          skip = Math.min(nColumns, -offset);
        }
      }
    }
    if (this.nextT === null) this.nextT = batch.t0;
    const scored = batch.scored !== false;
    for (let c = skip; c < nColumns; c++)
      this.pushColumn(batch.spectrogram, batch.anomaly, c * nMels, scored);
    this.nextT = (this.nextT as number) + (nColumns - skip) * hopMs;
    return this.writes - before;
  }

  /** Forgets every column. */
  clear(): void {
    this.spectrogram.fill(0);
    this.anomaly.fill(0);
    this.scored.fill(1);
    this.head = 0;
    this.count = 0;
    this.partial = 0;
    this.nextT = null;
  }

  /** Slot index of the `age`-th newest complete slot (0 = newest). */
  slotAt(age: number): number {
    return (((this.head - 1 - age) % this.capacity) + this.capacity) % this.capacity;
  }

  private pushColumn(
    spec: Uint8Array | null,
    anom: Uint8Array | null,
    offset: number,
    scored: boolean,
  ): void {
    const n = this.nMels;
    const base = this.head * n;
    if (this.partial === 0) this.scored[this.head] = scored ? 1 : 0;
    else if (!scored) this.scored[this.head] = 0;
    if (this.partial === 0) {
      for (let m = 0; m < n; m++) {
        this.spectrogram[base + m] = spec ? spec[offset + m] : 0;
        this.anomaly[base + m] = anom ? anom[offset + m] : 0;
      }
    } else if (spec && anom) {
      for (let m = 0; m < n; m++) {
        if (spec[offset + m] > this.spectrogram[base + m]) this.spectrogram[base + m] = spec[offset + m];
        if (anom[offset + m] > this.anomaly[base + m]) this.anomaly[base + m] = anom[offset + m];
      }
    }
    this.columns++;
    this.partial++;
    if (this.partial === this.decimation) {
      this.partial = 0;
      this.head = (this.head + 1) % this.capacity;
      if (this.count < this.capacity) this.count++;
      this.writes++;
    }
  }
}

/** A run of slots `[start, start + length)` of a ring. */
export interface SlotRun {
  start: number;
  length: number;
}

/** The runs holding the `n` newest slots, oldest first (at most two: the ring wraps once). */
export function newestRuns(head: number, capacity: number, n: number): SlotRun[] {
  const count = Math.min(n, capacity);
  if (count <= 0) return [];
  const start = (((head - count) % capacity) + capacity) % capacity;
  if (start + count <= capacity) return [{ start, length: count }];
  return [
    { start, length: capacity - start },
    { start: 0, length: count - (capacity - start) },
  ];
}

/**
 * How to draw the ring, oldest to newest, onto a strip of `capacity` positions: `[srcSlot, dstPos, length]`
 * triples (the newest slot lands at `capacity - 1`).
 */
export function chronologicalRuns(head: number, capacity: number): [number, number, number][] {
  if (head === 0) return [[0, 0, capacity]];
  return [
    [head, 0, capacity - head],
    [0, capacity - head, head],
  ];
}
