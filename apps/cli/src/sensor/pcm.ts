/**
 * PCM helpers of the sensor client: encoding float samples, cutting byte streams into whole frames, and the
 * level meter of the status line.
 */
import { bytesPerSample, type SampleFormat, type StreamFormat } from './types.js';

/**
 * Encodes samples in [-1, 1] as little-endian PCM. `s16le` clips to [-1, 1) and rounds (`x * 32768`), so
 * samples decoded from a 16-bit file come back bit-exact; `f32le` is bit-exact.
 */
export function encodePcm(samples: Float32Array, format: SampleFormat): Uint8Array {
  const out = new Uint8Array(samples.length * bytesPerSample(format));
  const view = new DataView(out.buffer);
  if (format === 's16le') {
    for (let i = 0; i < samples.length; i++) {
      const v = Math.round(samples[i] * 32768);
      view.setInt16(2 * i, v > 32767 ? 32767 : v < -32768 ? -32768 : v, true);
    }
  } else {
    for (let i = 0; i < samples.length; i++) view.setFloat32(4 * i, samples[i], true);
  }
  return out;
}

/**
 * Cuts a byte stream into chunks of exactly `chunkFrames` frames, keeping partial frames (and partial chunks)
 * between pushes. Full chunks that lie inside one pushed buffer are views of it, not copies.
 */
export class FrameChunker {
  private readonly chunkBytes: number;
  private pending: Uint8Array;
  private fill = 0;

  constructor(
    readonly bytesPerFrame: number,
    readonly chunkFrames: number,
  ) {
    if (!Number.isInteger(bytesPerFrame) || bytesPerFrame <= 0)
      throw new RangeError(`bytesPerFrame (${bytesPerFrame}) must be a positive whole number`);
    if (!Number.isInteger(chunkFrames) || chunkFrames <= 0)
      throw new RangeError(`chunkFrames (${chunkFrames}) must be a positive whole number`);
    this.chunkBytes = bytesPerFrame * chunkFrames;
    this.pending = new Uint8Array(this.chunkBytes);
  }

  /** Bytes held back (a partial chunk, possibly ending in a partial frame). */
  get pendingBytes(): number {
    return this.fill;
  }

  /** The full chunks completed by `bytes`, in order. */
  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let off = 0;
    if (this.fill > 0) {
      const n = Math.min(this.chunkBytes - this.fill, bytes.length);
      this.pending.set(bytes.subarray(0, n), this.fill);
      this.fill += n;
      off = n;
      if (this.fill < this.chunkBytes) return out;
      out.push(this.pending);
      this.pending = new Uint8Array(this.chunkBytes);
      this.fill = 0;
    }
    while (bytes.length - off >= this.chunkBytes) {
      out.push(bytes.subarray(off, off + this.chunkBytes));
      off += this.chunkBytes;
    }
    if (off < bytes.length) {
      this.pending.set(bytes.subarray(off), 0);
      this.fill = bytes.length - off;
    }
    return out;
  }

  /** At the end of the stream: the whole frames still held (or null), and how many bytes of a partial frame were left. */
  flush(): { chunk: Uint8Array | null; partialBytes: number } {
    const whole = this.fill - (this.fill % this.bytesPerFrame);
    const partialBytes = this.fill - whole;
    const chunk = whole > 0 ? this.pending.slice(0, whole) : null;
    this.fill = 0;
    return { chunk, partialBytes };
  }
}

/** Level of the last `windowSeconds` of audio. dBFS: 0 = full scale; a full-scale sine has an RMS of -3 dBFS. */
export interface Level {
  rmsDbfs: number;
  peakDbfs: number;
  /** Fraction of samples at full scale. */
  clipping: number;
  seconds: number;
}

interface ChunkLevel {
  frames: number;
  samples: number;
  sumSq: number;
  peak: number;
  clipped: number;
}

/** RMS, peak and clipping over a sliding window of whole chunks (the last `windowSeconds`, default 0.5 s). */
export class LevelMeter {
  private readonly chunks: ChunkLevel[] = [];
  private frames = 0;
  private readonly windowFrames: number;

  constructor(
    readonly format: StreamFormat,
    windowSeconds = 0.5,
  ) {
    this.windowFrames = Math.max(1, Math.round(windowSeconds * format.sampleRate));
  }

  update(data: Uint8Array): void {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let sumSq = 0;
    let peak = 0;
    let clipped = 0;
    let n: number;
    if (this.format.format === 's16le') {
      n = data.byteLength >> 1;
      for (let i = 0; i < n; i++) {
        const v = view.getInt16(2 * i, true);
        const a = v < 0 ? -v : v;
        sumSq += v * v;
        if (a > peak) peak = a;
        if (a >= 32767) clipped++;
      }
      sumSq /= 32768 * 32768;
      peak /= 32768;
    } else {
      n = data.byteLength >> 2;
      for (let i = 0; i < n; i++) {
        const v = view.getFloat32(4 * i, true);
        const a = Math.abs(v);
        sumSq += v * v;
        if (a > peak) peak = a;
        if (a >= 1) clipped++;
      }
    }
    const frames = n / this.format.channels;
    this.chunks.push({ frames, samples: n, sumSq, peak, clipped });
    this.frames += frames;
    while (this.chunks.length > 1 && this.frames - this.chunks[0].frames >= this.windowFrames)
      this.frames -= this.chunks.shift()!.frames;
  }

  read(): Level | null {
    if (this.chunks.length === 0) return null;
    let samples = 0;
    let sumSq = 0;
    let peak = 0;
    let clipped = 0;
    for (const c of this.chunks) {
      samples += c.samples;
      sumSq += c.sumSq;
      clipped += c.clipped;
      if (c.peak > peak) peak = c.peak;
    }
    const db = (x: number) => (x > 0 ? 20 * Math.log10(x) : -Infinity);
    return {
      rmsDbfs: db(Math.sqrt(sumSq / Math.max(1, samples))),
      peakDbfs: db(peak),
      clipping: samples > 0 ? clipped / samples : 0,
      seconds: this.frames / this.format.sampleRate,
    };
  }
}
