/**
 * Fixed-capacity rings indexed by absolute position (sample or frame number since the sensor's stream object
 * was created): the recent audio at the analysis rate and the recent log-mel columns with their anomaly.
 * Reads clamp to what is still held.
 */

/** The last `capacity` samples of a signal, addressed by absolute sample index. */
export class AudioRing {
  private readonly data: Float32Array;
  private endIndex = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0))
      throw new RangeError(`audio ring capacity (${capacity}) must be a whole number of samples > 0`);
    this.data = new Float32Array(capacity);
  }

  /** Absolute index of the oldest sample held. */
  get start(): number {
    return Math.max(0, this.endIndex - this.capacity);
  }

  /** Absolute index one past the newest sample. */
  get end(): number {
    return this.endIndex;
  }

  push(samples: Float32Array): void {
    const cap = this.capacity;
    const src = samples.length > cap ? samples.subarray(samples.length - cap) : samples;
    this.endIndex += samples.length - src.length;
    let at = this.endIndex % cap;
    let i = 0;
    while (i < src.length) {
      const n = Math.min(src.length - i, cap - at);
      this.data.set(src.subarray(i, i + n), at);
      i += n;
      at = (at + n) % cap;
    }
    this.endIndex += src.length;
  }

  /** A copy of samples [from, to) clamped to what is held (possibly empty), and the index it starts at. */
  read(from: number, to: number): { start: number; samples: Float32Array } {
    const a = Math.max(from, this.start);
    const b = Math.min(to, this.endIndex);
    const out = new Float32Array(Math.max(b - a, 0));
    for (let i = 0; i < out.length; i++) out[i] = this.data[(a + i) % this.capacity];
    return { start: a, samples: out };
  }
}

/** Columns [fromFrame, toFrame) copied out of a {@link ColumnRing}, frame-major. */
export interface ColumnSlice {
  fromFrame: number;
  toFrame: number;
  nMels: number;
  /** `[toFrame - fromFrame, nMels]` dB, frame-major (mel bin 0 = lowest). */
  db: Float32Array;
  /** `[toFrame - fromFrame, nMels]` normalised anomaly (1 = threshold); 0 where not scored. */
  anomaly: Float32Array;
  /** Per column: 1 when its anomaly comes from a scored window, 0 otherwise (not yet emitted, or dropped). */
  scored: Uint8Array;
  /** Per column: stream time in ms (see `timing.ts`). */
  times: Float64Array;
}

/** The last `capacity` log-mel columns with their stream time and anomaly values. */
export class ColumnRing {
  private readonly db: Float32Array;
  private readonly anomaly: Float32Array;
  private readonly scored: Uint8Array;
  private readonly times: Float64Array;
  private endFrame: number;
  private floor: number;

  /** @param firstFrame absolute frame number of the first column pushed. */
  constructor(
    readonly capacity: number,
    readonly nMels: number,
    firstFrame = 0,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0))
      throw new RangeError(`column ring capacity (${capacity}) must be a whole number of frames > 0`);
    this.db = new Float32Array(capacity * nMels);
    this.anomaly = new Float32Array(capacity * nMels);
    this.scored = new Uint8Array(capacity);
    this.times = new Float64Array(capacity);
    this.endFrame = firstFrame;
    this.floor = firstFrame;
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
    const slot = this.endFrame % this.capacity;
    const o = slot * this.nMels;
    for (let m = 0; m < this.nMels; m++) this.db[o + m] = column[m];
    this.anomaly.fill(0, o, o + this.nMels);
    this.scored[slot] = 0;
    this.times[slot] = timeMs;
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
    return this.times[f % this.capacity];
  }

  /**
   * Sets the anomaly of held frame `f` from column `t` of a mel-major `[nMels, windowFrames]` map (or zeros
   * when `map` is null) and marks it scored or not.
   */
  setAnomaly(f: number, map: Float32Array | null, t: number, windowFrames: number, scored: boolean): void {
    if (!this.has(f)) return;
    const slot = f % this.capacity;
    const o = slot * this.nMels;
    for (let m = 0; m < this.nMels; m++) this.anomaly[o + m] = map ? map[m * windowFrames + t] : 0;
    this.scored[slot] = scored ? 1 : 0;
  }

  /** Copies columns [from, to) of `nMels` dB values, mel-major `[nMels, to - from]`, into `out`. */
  copyMelMajor(from: number, to: number, out: Float32Array): void {
    const n = to - from;
    if (from < this.start || to > this.endFrame)
      throw new RangeError(
        `frames [${from}, ${to}) are not all held (ring holds [${this.start}, ${this.endFrame}))`,
      );
    for (let t = 0; t < n; t++) {
      const o = ((from + t) % this.capacity) * this.nMels;
      for (let m = 0; m < this.nMels; m++) out[m * n + t] = this.db[o + m];
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
      db: new Float32Array(n * nMels),
      anomaly: new Float32Array(n * nMels),
      scored: new Uint8Array(n),
      times: new Float64Array(n),
    };
    for (let i = 0; i < n; i++) {
      const slot = (a + i) % this.capacity;
      slice.db.set(this.db.subarray(slot * nMels, (slot + 1) * nMels), i * nMels);
      slice.anomaly.set(this.anomaly.subarray(slot * nMels, (slot + 1) * nMels), i * nMels);
      slice.scored[i] = this.scored[slot];
      slice.times[i] = this.times[slot];
    }
    return slice;
  }
}
