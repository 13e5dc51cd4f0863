/**
 * Fixed-capacity rings indexed by absolute position (sample or frame number since the sensor's stream object
 * was created): the recent audio at the analysis rate and the recent log-mel columns with their anomaly.
 * Reads clamp to what is still held. Storage is allocated by the first push, not by the constructor (a sensor
 * that is only known, never heard, costs nothing), and {@link AudioRing.free} / {@link ColumnRing.free} give
 * it back: the ring then holds nothing, its positions carry on, and the next push allocates again.
 */
import { S16_SCALE, toS16 } from '@hark/dsp';
import { anomalyByte, dbByte, DEFAULT_ANOMALY_SCALE, DEFAULT_DB_RANGE } from '../live/quantise.js';

/**
 * Ring storage, left uninitialised: no slot is read before a push wrote it (reads clamp to what was pushed).
 * A zeroed array would be worse: memory the allocator recycles (another sensor's freed rings) is zeroed, and so
 * made resident, whole, at once; uninitialised, it becomes resident as pushes write it.
 */
function uninitialised<T>(
  Kind: { new (buffer: ArrayBuffer, offset: number, length: number): T; BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Kind(Buffer.allocUnsafeSlow(length * Kind.BYTES_PER_ELEMENT).buffer as ArrayBuffer, 0, length);
}

/**
 * The last `capacity` samples of a signal, addressed by absolute sample index, held as 16-bit PCM: half the
 * bytes of floats. What reads it is alert clips, which are written as 16-bit PCM with the same quantiser
 * (`toS16`): a read sample q / 32767 re-quantises to q exactly (checked for every q), so a clip's bytes are
 * the same as from float storage; scoring reads the column ring, never this one.
 */
export class AudioRing {
  private data: Int16Array | null = null;
  private endIndex = 0;
  /** Nothing before this index is held (where the ring was last freed). */
  private floor = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0))
      throw new RangeError(`audio ring capacity (${capacity}) must be a whole number of samples > 0`);
  }

  /** Bytes of storage held (0 before the first push and after {@link free}). */
  get bytes(): number {
    return this.data?.byteLength ?? 0;
  }

  /** Gives the storage back; nothing is held until the next push, and indices carry on. */
  free(): void {
    this.data = null;
    this.floor = this.endIndex;
  }

  /** Absolute index of the oldest sample held. */
  get start(): number {
    return Math.max(this.floor, this.endIndex - this.capacity);
  }

  /** Absolute index one past the newest sample. */
  get end(): number {
    return this.endIndex;
  }

  push(samples: Float32Array): void {
    const cap = this.capacity;
    const data = (this.data ??= uninitialised(Int16Array, cap));
    const src = samples.length > cap ? samples.subarray(samples.length - cap) : samples;
    this.endIndex += samples.length - src.length;
    let at = this.endIndex % cap;
    for (let i = 0; i < src.length; i++) {
      data[at] = toS16(src[i]);
      if (++at === cap) at = 0;
    }
    this.endIndex += src.length;
  }

  /**
   * A copy of samples [from, to) clamped to what is held (possibly empty), at 16-bit precision (clipped to
   * [-1, 1]), and the index it starts at.
   */
  read(from: number, to: number): { start: number; samples: Float32Array } {
    const a = Math.max(from, this.start);
    const b = Math.min(to, this.endIndex);
    const out = new Float32Array(Math.max(b - a, 0));
    const data = this.data;
    if (data) for (let i = 0; i < out.length; i++) out[i] = data[(a + i) % this.capacity] / S16_SCALE;
    return { start: a, samples: out };
  }
}

/** Columns [fromFrame, toFrame) copied out of a {@link ColumnRing}, frame-major, as the ring holds them. */
export interface ColumnSlice {
  fromFrame: number;
  toFrame: number;
  nMels: number;
  /**
   * `[toFrame - fromFrame, nMels]` dB bytes over {@link dbRange}, frame-major (mel bin 0 = lowest): the
   * encoding of the live `columns` event (`live/quantise.ts`).
   */
  spectrogram: Uint8Array;
  /** `[toFrame - fromFrame, nMels]` normalised anomaly bytes over [0, {@link anomalyScale}]; 0 where not scored. */
  anomaly: Uint8Array;
  dbRange: [number, number];
  anomalyScale: number;
  /** Per column: 1 when its anomaly comes from a scored window, 0 otherwise (not yet emitted, or dropped). */
  scored: Uint8Array;
  /** Per column: stream time in ms (see `timing.ts`). */
  times: Float64Array;
}

export interface ColumnRingOptions {
  /** Absolute frame number of the first column pushed. Default 0. */
  firstFrame?: number;
  /**
   * How many of the newest columns are also held as float dB, for {@link ColumnRing.copyMelMajor} (the
   * windows scoring reads, cut as their last column arrives). Default: all of them (`capacity`).
   */
  floatFrames?: number;
  /** The byte encoding of the held columns. Default the live columns' (`DEFAULT_DB_RANGE`, `DEFAULT_ANOMALY_SCALE`). */
  dbRange?: readonly [number, number];
  anomalyScale?: number;
}

/** The held columns: the bytes every reader sends or stores, and the newest columns as floats for windows. */
interface ColumnStorage {
  spectrogram: Uint8Array;
  anomaly: Uint8Array;
  scored: Uint8Array;
  times: Float64Array;
  /** `[floatFrames, nMels]` dB of the newest columns, slot `f % floatFrames`. */
  recent: Float32Array;
}

/**
 * The last `capacity` log-mel columns with their stream time and anomaly values. Every reader of the held
 * columns (the live `columns` events, a new dashboard's backfill, alert pictures, and from those the history)
 * sends or stores them as bytes (`live/quantise.ts`), so they are held as those bytes: 2 bytes per cell, not 8.
 * Scoring reads floats, and only the newest window's: a window is copied out when its last column arrives
 * ({@link copyMelMajor}), so only the newest `floatFrames` columns are also held as float dB.
 */
export class ColumnRing {
  private store: ColumnStorage | null = null;
  private endFrame: number;
  private floor: number;
  readonly floatFrames: number;
  readonly dbRange: [number, number];
  readonly anomalyScale: number;
  /** 1 / (dbRange[1] - dbRange[0]), for `dbByte`. */
  private readonly dbK: number;

  constructor(
    readonly capacity: number,
    readonly nMels: number,
    options: ColumnRingOptions = {},
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0))
      throw new RangeError(`column ring capacity (${capacity}) must be a whole number of frames > 0`);
    const floatFrames = options.floatFrames ?? capacity;
    if (!(Number.isInteger(floatFrames) && floatFrames > 0 && floatFrames <= capacity))
      throw new RangeError(`floatFrames (${floatFrames}) must be a whole number in [1, ${capacity}]`);
    const [lo, hi] = options.dbRange ?? DEFAULT_DB_RANGE;
    if (!(hi > lo)) throw new RangeError(`dbRange ([${lo}, ${hi}]) must have dbRange[1] > dbRange[0]`);
    const anomalyScale = options.anomalyScale ?? DEFAULT_ANOMALY_SCALE;
    if (!(anomalyScale > 0)) throw new RangeError(`anomalyScale (${anomalyScale}) must be > 0`);
    this.floatFrames = floatFrames;
    this.dbRange = [lo, hi];
    this.anomalyScale = anomalyScale;
    this.dbK = 1 / (hi - lo);
    this.endFrame = options.firstFrame ?? 0;
    this.floor = this.endFrame;
  }

  /** Bytes of storage held (0 before the first push and after {@link free}). */
  get bytes(): number {
    const s = this.store;
    return s
      ? s.spectrogram.byteLength +
          s.anomaly.byteLength +
          s.scored.byteLength +
          s.times.byteLength +
          s.recent.byteLength
      : 0;
  }

  /** Gives the storage back; nothing is held until the next push, and frame numbers carry on. */
  free(): void {
    this.store = null;
    this.floor = this.endFrame;
  }

  /** The storage, allocated on first use. */
  private storage(): ColumnStorage {
    return (this.store ??= {
      spectrogram: uninitialised(Uint8Array, this.capacity * this.nMels),
      anomaly: uninitialised(Uint8Array, this.capacity * this.nMels),
      scored: uninitialised(Uint8Array, this.capacity),
      times: uninitialised(Float64Array, this.capacity),
      recent: uninitialised(Float32Array, this.floatFrames * this.nMels),
    });
  }

  /** Absolute frame number of the oldest column held. */
  get start(): number {
    return Math.max(this.floor, this.endFrame - this.capacity);
  }

  /** Absolute frame number one past the newest column. */
  get end(): number {
    return this.endFrame;
  }

  /** Appends one `[nMels]` dB column stamped `timeMs`; its anomaly starts at 0, unscored. */
  push(column: ArrayLike<number>, timeMs: number): void {
    const { spectrogram, anomaly, scored, times, recent } = this.storage();
    const slot = this.endFrame % this.capacity;
    const o = slot * this.nMels;
    const r = (this.endFrame % this.floatFrames) * this.nMels;
    const lo = this.dbRange[0];
    const k = this.dbK;
    for (let m = 0; m < this.nMels; m++) {
      recent[r + m] = column[m];
      spectrogram[o + m] = dbByte(recent[r + m], lo, k); // of the float32, as `quantiseDb` of a float ring
    }
    anomaly.fill(0, o, o + this.nMels);
    scored[slot] = 0;
    times[slot] = timeMs;
    this.endFrame++;
  }

  /** Whether absolute frame `f` is held. */
  has(f: number): boolean {
    return f >= this.start && f < this.endFrame;
  }

  /** Stream time (ms) of held frame `f`. */
  time(f: number): number {
    if (!this.has(f))
      throw new RangeError(`frame ${f} is not held (ring holds [${this.start}, ${this.endFrame}))`);
    return this.store!.times[f % this.capacity];
  }

  /**
   * Sets the anomaly of held frame `f` from column `t` of a mel-major `[nMels, windowFrames]` map (or zeros
   * when `map` is null) and marks it scored or not.
   */
  setAnomaly(f: number, map: Float32Array | null, t: number, windowFrames: number, scored: boolean): void {
    if (!this.has(f)) return;
    const s = this.store!;
    const slot = f % this.capacity;
    const o = slot * this.nMels;
    const scale = this.anomalyScale;
    if (map)
      for (let m = 0; m < this.nMels; m++) s.anomaly[o + m] = anomalyByte(map[m * windowFrames + t], scale);
    else s.anomaly.fill(0, o, o + this.nMels);
    s.scored[slot] = scored ? 1 : 0;
  }

  /**
   * Copies columns [from, to) of `nMels` dB values (float, as pushed), mel-major `[nMels, to - from]`, into
   * `out`. Only the newest `floatFrames` columns are held as floats.
   */
  copyMelMajor(from: number, to: number, out: Float32Array): void {
    const n = to - from;
    const oldest = Math.max(this.start, this.endFrame - this.floatFrames);
    if (from < oldest || to > this.endFrame)
      throw new RangeError(
        `frames [${from}, ${to}) are not all held as floats (the ring holds [${oldest}, ${this.endFrame}))`,
      );
    if (n <= 0) return;
    const { recent } = this.store!;
    for (let t = 0; t < n; t++) {
      const o = ((from + t) % this.floatFrames) * this.nMels;
      for (let m = 0; m < this.nMels; m++) out[m * n + t] = recent[o + m];
    }
  }

  /** Copies columns [from, to) clamped to what is held. */
  read(from: number, to: number): ColumnSlice {
    const a = Math.max(from, this.start);
    const b = Math.max(a, Math.min(to, this.endFrame));
    const n = b - a;
    const { nMels } = this;
    const slice: ColumnSlice = {
      fromFrame: a,
      toFrame: b,
      nMels,
      spectrogram: new Uint8Array(n * nMels),
      anomaly: new Uint8Array(n * nMels),
      dbRange: [this.dbRange[0], this.dbRange[1]],
      anomalyScale: this.anomalyScale,
      scored: new Uint8Array(n),
      times: new Float64Array(n),
    };
    const s = this.store;
    for (let i = 0; s && i < n; i++) {
      const slot = (a + i) % this.capacity;
      slice.spectrogram.set(s.spectrogram.subarray(slot * nMels, (slot + 1) * nMels), i * nMels);
      slice.anomaly.set(s.anomaly.subarray(slot * nMels, (slot + 1) * nMels), i * nMels);
      slice.scored[i] = s.scored[slot];
      slice.times[i] = s.times[slot];
    }
    return slice;
  }
}
