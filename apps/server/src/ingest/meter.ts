/**
 * Level, clipping and silence of a sensor's input, metered on the decoded samples at the sensor's own rate
 * (before resampling, which could hide or invent full-scale samples). Levels are dBFS with full scale = 1.0
 * (a full-scale square wave is 0 dBFS, a full-scale sine -3 dBFS). The signal is cut into 50 ms blocks; the
 * level, peak and clipping cover the last 10 whole blocks plus the block in progress (0.5 to 0.55 s);
 * silence is a run of blocks whose RMS is below the threshold lasting at least `silenceSeconds`.
 */

export interface LevelMeterOptions {
  /** RMS level below which a block is quiet, dBFS. Default -60. */
  silenceDbfs?: number;
  /** Quiet seconds before the input counts as silent. Default 10. */
  silenceSeconds?: number;
  /** |sample| at or above which a sample counts as clipped (full scale 1). Default 0.999. */
  clipLevel?: number;
  /** Share of clipped samples in the last half second from which `clipped` is true. Default 0.001. */
  clippedFraction?: number;
}

/** The meter's reading: the `levelDbfs` / `peakDbfs` / `clipping` / `clipped` / `silent` of `SensorStatus`. */
export interface MeterReading {
  /** RMS of the mono mix over the last half second, dBFS; null before any audio or for digital silence. */
  levelDbfs: number | null;
  /** Largest |channel sample| over the last half second, dBFS; null before any audio or for digital silence. */
  peakDbfs: number | null;
  /** Share of samples (frames, any channel) at or above the clip level in the last half second, 0..1. */
  clipping: number;
  clipped: boolean;
  silent: boolean;
  /** Stream time (ms) where the current silence began, when `silent`; otherwise null. */
  silentSince: number | null;
}

const BLOCK_SECONDS = 0.05;
const BLOCKS = 10;

interface Block {
  frames: number;
  sumSquares: number;
  peak: number;
  clipped: number;
}

const emptyBlock = (): Block => ({ frames: 0, sumSquares: 0, peak: 0, clipped: 0 });
const toDb = (x: number): number | null => (x > 0 ? 20 * Math.log10(x) : null);

export class LevelMeter {
  readonly silenceDbfs: number;
  readonly silenceSeconds: number;
  readonly clipLevel: number;
  readonly clippedFraction: number;
  private readonly silenceRms: number;
  private rate = 0;
  private blockFrames = 0;
  private blocks: Block[] = [];
  private current = emptyBlock();
  private currentStart = 0;
  /** Stream time where the current run of quiet blocks began, or null. */
  private quietSince: number | null = null;
  /** Stream time of the end of the last whole block. */
  private lastBlockEnd = 0;

  constructor(options: LevelMeterOptions = {}) {
    this.silenceDbfs = options.silenceDbfs ?? -60;
    this.silenceSeconds = options.silenceSeconds ?? 10;
    this.clipLevel = options.clipLevel ?? 0.999;
    this.clippedFraction = options.clippedFraction ?? 0.001;
    if (!(this.silenceDbfs < 0)) throw new RangeError(`silenceDbfs (${this.silenceDbfs}) must be < 0 dBFS`);
    if (!(this.silenceSeconds > 0))
      throw new RangeError(`silenceSeconds (${this.silenceSeconds}) must be > 0`);
    if (!(this.clipLevel > 0 && this.clipLevel <= 1))
      throw new RangeError(`clipLevel (${this.clipLevel}) must be in (0, 1]`);
    if (!(this.clippedFraction > 0 && this.clippedFraction <= 1))
      throw new RangeError(`clippedFraction (${this.clippedFraction}) must be in (0, 1]`);
    this.silenceRms = 10 ** (this.silenceDbfs / 20);
  }

  /**
   * Meters a decoded chunk at `sampleRate` whose first sample has stream time `t0` (ms). `framePeak` is each
   * frame's largest |channel sample| (null for mono: |mono| is used). A new rate restarts the blocks but keeps
   * a silence in progress.
   */
  push(mono: Float32Array, framePeak: Float32Array | null, sampleRate: number, t0: number): void {
    if (sampleRate !== this.rate) {
      this.rate = sampleRate;
      this.blockFrames = Math.max(1, Math.round(sampleRate * BLOCK_SECONDS));
      this.blocks = [];
      this.current = emptyBlock();
      this.currentStart = t0;
    }
    if (this.current.frames === 0) this.currentStart = t0;
    const msPerFrame = 1000 / sampleRate;
    let b = this.current;
    for (let i = 0; i < mono.length; i++) {
      const x = mono[i];
      const p = framePeak ? framePeak[i] : Math.abs(x);
      b.frames++;
      b.sumSquares += x * x;
      if (p > b.peak) b.peak = p;
      if (p >= this.clipLevel) b.clipped++;
      if (b.frames === this.blockFrames) {
        this.closeBlock(b, t0 + (i + 1) * msPerFrame);
        b = this.current = emptyBlock();
        this.currentStart = t0 + (i + 1) * msPerFrame;
      }
    }
  }

  /** The reading over the last half second. */
  read(): MeterReading {
    const all = this.current.frames > 0 ? [...this.blocks, this.current] : this.blocks;
    let frames = 0;
    let sumSquares = 0;
    let peak = 0;
    let clipped = 0;
    for (const b of all) {
      frames += b.frames;
      sumSquares += b.sumSquares;
      peak = Math.max(peak, b.peak);
      clipped += b.clipped;
    }
    const clipping = frames > 0 ? clipped / frames : 0;
    const silent =
      this.quietSince !== null && this.lastBlockEnd - this.quietSince >= this.silenceSeconds * 1000;
    return {
      levelDbfs: frames > 0 ? toDb(Math.sqrt(sumSquares / frames)) : null,
      peakDbfs: frames > 0 ? toDb(peak) : null,
      clipping,
      clipped: frames > 0 && clipping >= this.clippedFraction,
      silent,
      silentSince: silent ? this.quietSince : null,
    };
  }

  /** Forgets everything (a new stream): levels read null and no silence is in progress. */
  reset(): void {
    this.rate = 0;
    this.blocks = [];
    this.current = emptyBlock();
    this.quietSince = null;
    this.lastBlockEnd = 0;
  }

  private closeBlock(b: Block, end: number): void {
    this.blocks.push(b);
    if (this.blocks.length > BLOCKS) this.blocks.shift();
    const quiet = Math.sqrt(b.sumSquares / b.frames) < this.silenceRms;
    if (!quiet) this.quietSince = null;
    else if (this.quietSince === null) this.quietSince = this.currentStart;
    this.lastBlockEnd = end;
  }
}
