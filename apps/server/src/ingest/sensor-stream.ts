/**
 * One sensor's live audio path: `hello` / `audio` validation, sequence checks, PCM decoding, resampling to the
 * analysis rate, the audio ring, streaming log-mel, the column ring, the level meter and window cutting.
 *
 * Audio is processed in **segments**: runs of continuous audio that share one resampler, one log-mel
 * extractor and one time anchor. A new segment starts when a sensor starts a new stream (new or absent
 * `streamId`), changes its sample rate or format, or when the analysis parameters are reconfigured. At a
 * segment's end the resampler's tail is flushed into the rings (its last partial window is not cut, like the
 * last partial hop of any stream); windows never span two segments. Frame and sample numbers are absolute
 * (they keep counting across segments), so ring positions and window frames stay unique for the sensor's
 * lifetime. Times follow `timing.ts` (a column is stamped with the centre of its FFT frame).
 *
 * The rings take their memory on the first audio, not when the stream is made; {@link SensorStream.release}
 * gives it back (and the resampler's table) when the sensor has been idle: that ends the segment, like a
 * reconfiguration, and keeps everything else (sequence rules, stream time, analysis parameters), so a sensor
 * that comes back streams on as before.
 *
 * **Where the DSP runs.** Validation, decoding, the meter and the rings are always here. A segment's resampler
 * and log-mel extractor run on the caller's thread, or, given a {@link DspWorker} (the server's), in that
 * worker thread: then `audio` acknowledges the chunk at once and the windows it completes reach
 * {@link SensorStream.onWindows} when the worker answers (in order, a few ms later). A segment's end waits for
 * every answer before it, so segments never mix.
 */
import {
  analysisResampler,
  LogMelExtractor,
  type Resampler,
  resolveMelParams,
  type MelParams,
} from '@hark/dsp';
import { DETECTOR_DEFAULTS, hopFrames, windowFrames } from '@hark/detection';
import type { AudioMessage, HelloAck, HelloMessage, SensorAck } from '@hark/protocol';
import type { DspPipe, DspResult, DspWorker } from './dsp-worker.js';
import { StreamError } from './errors.js';
import { LevelMeter, type LevelMeterOptions, type MeterReading } from './meter.js';
import { decodePcm, pcmBytes, validateHello, type PcmFormat } from './pcm.js';
import { AudioRing, ColumnRing, type ColumnSlice } from './rings.js';
import { SequenceTracker } from './sequence.js';
import { frameTimeMs, hopSecondsOf } from './timing.js';

export interface SensorStreamOptions extends LevelMeterOptions {
  sensorId: string;
  /** Analysis log-mel parameters (the model's). Default: the detector's (16 kHz, nFft 1024, hop 256, 128 mels). */
  mel?: Partial<MelParams>;
  /** Window length, s. Default 1 (`DETECTOR_DEFAULTS.windowSeconds`). */
  windowSeconds?: number;
  /** Seconds between window starts. Default 0.5. */
  hopSeconds?: number;
  /** Largest accepted `audio.data`, bytes. Default 512 KiB. */
  maxChunkBytes?: number;
  /** Seconds of analysis-rate audio kept for clips and enrolment. Default 60. */
  audioRingSeconds?: number;
  /** Seconds of log-mel columns kept for backfill and alert pictures. Default 300. */
  columnRingSeconds?: number;
  /**
   * Largest distance between a sensor's `audio.t` and the server clock, ms, where `t` anchors a stream
   * (the first chunk of a segment). Default 300 000 (5 min).
   */
  maxClockSkewMs?: number;
  /** Resample and compute the log-mel in this worker thread (shared by a server's streams). Default: here. */
  dsp?: DspWorker;
}

/** Default of `maxClockSkewMs`. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 300_000;

/** A window of `windowFrames` columns ready to score. */
export interface ReadyWindow {
  /** Running number of the sensor's windows (0, 1, ...), across segments. */
  index: number;
  /** Absolute frames [startFrame, endFrame) (positions in the column ring). */
  startFrame: number;
  endFrame: number;
  /** Stream times (ms): t0 = stamp of the first column, t1 = t0 + windowFrames * hop (see `timing.ts`). */
  t0: number;
  t1: number;
  /** `[nMels, windowFrames]` dB, mel-major: the detector's `scoreWindow` input. */
  data: Float32Array;
  /** Server time when the chunk completing the window arrived (ms). */
  arrivedAt: number;
}

/** What one `audio` message did: the ack to send and the windows it completed (possibly none). */
export interface AudioResult {
  ack: SensorAck;
  windows: ReadyWindow[];
  /** Seconds of audio the chunk carried (0 when it was rejected). */
  seconds: number;
}

/** Columns copied out of the ring, with the time of the first and the column spacing. */
export interface ColumnRead extends ColumnSlice {
  /** Stream time (ms) of the first column (NaN when empty). */
  t0: number;
  hopSeconds: number;
}

/** Audio read from the ring at the analysis rate. */
export interface AudioRead {
  samples: Float32Array;
  /** Stream time (ms) of the first sample (NaN when empty). */
  start: number;
  sampleRate: number;
}

/** Receives resampled mono samples at the analysis rate; `t0` is the stream time of the first. */
export type SamplesListener = (samples: Float32Array, t0: number, sampleRate: number) => void;

/** Receives the windows completed by the DSP worker's answer to a chunk (possibly none), after its audio is in. */
export type WindowsListener = (windows: ReadyWindow[]) => void;

interface Segment {
  /** Stream time (ms) of the segment's analysis sample 0; null until its first chunk. */
  anchor: number | null;
  /** Absolute audio sample / frame number of the segment's sample / column 0. */
  firstSample: number;
  firstFrame: number;
  /** Input frames received in the segment (for the meter's time). */
  inputFrames: number;
  /** Segment-relative start of the next window. */
  nextWindow: number;
}

/** What a chunk's (or a segment tail's) samples and columns go into. */
interface Job {
  seg: Segment;
  /** Arrival of the chunk (ms); the windows' `arrivedAt`. */
  now: number;
  /** Where completed windows go; null for a segment's tail (no window is cut from it). */
  out: ReadyWindow[] | null;
}

/** Puts a segment's resampled samples and columns in the rings and cuts windows. */
interface PathSink {
  samples(samples: Float32Array, job: Job): void;
  column(column: Float32Array, k: number, job: Job): void;
  /** A worker's answer is in (not called on the caller's thread). */
  done(job: Job): void;
}

/** A segment's resampler and log-mel extractor: here, or in the DSP worker. */
interface DspPath {
  /** True once the worker it ran in stopped: the segment must end, and a new path be made. */
  readonly lost: boolean;
  /** Resamples and extracts a chunk; its results reach the sink now or later, in order. */
  push(mono: Float32Array, job: Job): void;
  /** Ends the segment: the resampler's tail goes through, then both restart. Returns with every result in. */
  flush(job: Job): void;
  /** Both restart, the tail dropped. Returns with every result in. */
  reset(): void;
  dispose(): void;
}

/** On the caller's thread. */
class LocalPath implements DspPath {
  readonly lost = false;
  constructor(
    private readonly resampler: Resampler,
    private readonly extractor: LogMelExtractor,
    private readonly sink: PathSink,
  ) {}
  push(mono: Float32Array, job: Job): void {
    this.run(this.resampler.push(mono), job);
  }
  flush(job: Job): void {
    this.run(this.resampler.flush(), job);
    this.reset();
  }
  reset(): void {
    this.resampler.reset();
    this.extractor.reset();
  }
  dispose(): void {
    this.resampler.dispose();
  }
  private run(samples: Float32Array, job: Job): void {
    if (samples.length === 0) return;
    this.sink.samples(samples, job);
    this.extractor.process(samples, (column, k) => this.sink.column(column, k, job));
  }
}

/** In the DSP worker: results come back through {@link DspWorker}'s port. */
class RemotePath implements DspPath {
  lost = false;
  /** Requests not answered yet, in order. */
  private readonly jobs: Job[] = [];
  private readonly pipe: DspPipe | null;
  constructor(
    dsp: DspWorker,
    inRate: number,
    mel: MelParams,
    private readonly sink: PathSink,
  ) {
    this.pipe = dsp.open(inRate, mel, {
      result: (r) => this.result(r, mel.nMels),
      lost: () => {
        this.lost = true;
        this.jobs.length = 0;
      },
    });
    if (!this.pipe) this.lost = true;
  }
  push(mono: Float32Array, job: Job): void {
    if (this.lost) return;
    this.jobs.push(job);
    this.pipe!.push(mono);
  }
  flush(job: Job): void {
    if (this.lost) return;
    this.jobs.push(job);
    this.pipe!.flush();
    this.pipe!.drain();
  }
  reset(): void {
    if (this.lost) return;
    this.pipe!.reset();
    this.pipe!.drain();
  }
  dispose(): void {
    if (this.lost) return;
    this.pipe!.drain();
    this.pipe!.close();
    this.lost = true;
  }
  private result(r: DspResult, nMels: number): void {
    const job = this.jobs.shift();
    if (!job) return;
    if (r.samples.length) {
      this.sink.samples(r.samples, job);
      const n = r.columns.length / nMels;
      for (let i = 0; i < n; i++)
        this.sink.column(r.columns.subarray(i * nMels, (i + 1) * nMels), r.k0 + i, job);
    }
    this.sink.done(job);
  }
}

const DEFAULT_MAX_CHUNK_BYTES = 512 * 1024;

/** Validates window parameters; returns frames per window, per hop and the column ring's capacity. */
function checkWindowing(
  mel: MelParams,
  windowSeconds: number,
  hopSeconds: number,
  columnRingSeconds: number,
): { wf: number; hf: number; capacity: number } {
  if (!(windowSeconds > 0 && hopSeconds > 0 && hopSeconds <= windowSeconds))
    throw new RangeError(
      `windowSeconds (${windowSeconds}) and hopSeconds (${hopSeconds}) must be > 0 with hopSeconds <= windowSeconds`,
    );
  const wf = windowFrames({ mel, windowSeconds });
  const hf = hopFrames({ mel, hopSeconds });
  if (wf < 1)
    throw new RangeError(
      `windowSeconds (${windowSeconds}) is shorter than one hop (${mel.hopLength} samples)`,
    );
  const capacity = Math.ceil((columnRingSeconds * mel.sampleRate) / mel.hopLength);
  if (capacity < wf + hf)
    throw new RangeError(
      `columnRingSeconds (${columnRingSeconds}) must hold at least one window and one hop (${wf + hf} frames)`,
    );
  return { wf, hf, capacity };
}

export class SensorStream {
  readonly sensorId: string;
  readonly maxChunkBytes: number;
  private readonly audioRingSeconds: number;
  private readonly columnRingSeconds: number;
  private readonly sequence = new SequenceTracker();
  private readonly meterState: LevelMeter;
  private readonly listeners = new Set<SamplesListener>();
  private windowsListener: WindowsListener | null = null;
  /** Null once the worker stopped: the DSP runs here from then on. */
  private dsp: DspWorker | null;
  private melParams!: MelParams;
  private winSeconds!: number;
  private hopSecs!: number;
  private winFrames!: number;
  private hopFrameCount!: number;
  private columnRing!: ColumnRing;
  private audioRing!: AudioRing;
  /** Segments whose audio may still be in the audio ring, oldest first; the last is the current one. */
  private segments: Segment[] = [];
  private fmt: PcmFormat | null = null;
  /** The format of the current segment (kept across disconnects so a same-stream reconnect continues). */
  private segmentFormat: PcmFormat | null = null;
  /** The current segment's resampler and extractor; null before the first audio and after a release. */
  private path: DspPath | null = null;
  private readonly sink: PathSink = {
    samples: (samples, job) => this.ingestSamples(samples, job),
    column: (column, k, job) => this.ingestColumn(column, k, job),
    done: (job) => {
      if (job.out) this.windowsListener?.(job.out.splice(0));
    },
  };
  private windowCount = 0;
  private startedAt: number | null = null;
  private readonly maxClockSkewMs: number;

  constructor(options: SensorStreamOptions) {
    this.sensorId = options.sensorId;
    this.maxChunkBytes = options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
    this.audioRingSeconds = options.audioRingSeconds ?? 60;
    this.columnRingSeconds = options.columnRingSeconds ?? 300;
    this.maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    this.dsp = options.dsp ?? null;
    if (!(this.maxClockSkewMs > 0))
      throw new RangeError(`maxClockSkewMs (${this.maxClockSkewMs}) must be > 0`);
    if (!(Number.isInteger(this.maxChunkBytes) && this.maxChunkBytes > 0))
      throw new RangeError(`maxChunkBytes (${this.maxChunkBytes}) must be a whole number > 0`);
    this.meterState = new LevelMeter(options);
    const mel = resolveMelParams({ ...options.mel, center: false });
    this.configure(
      mel,
      options.windowSeconds ?? DETECTOR_DEFAULTS.windowSeconds,
      options.hopSeconds ?? DETECTOR_DEFAULTS.hopSeconds,
    );
    this.audioRing = new AudioRing(Math.ceil(this.audioRingSeconds * mel.sampleRate));
    this.segments = [this.newSegment(null)];
  }

  /** The analysis log-mel parameters. */
  get mel(): MelParams {
    return this.melParams;
  }
  get windowSeconds(): number {
    return this.winSeconds;
  }
  get hopSeconds(): number {
    return this.hopSecs;
  }
  /** Columns per window and between window starts. */
  get windowFrames(): number {
    return this.winFrames;
  }
  get hopFrames(): number {
    return this.hopFrameCount;
  }
  /** The analysis rate (Hz) audio is resampled to. */
  get analysisSampleRate(): number {
    return this.melParams.sampleRate;
  }
  /** The format of the last accepted hello, null before it or after {@link disconnect}. */
  get format(): PcmFormat | null {
    return this.fmt;
  }
  /** Stream time (ms) where the current stream (streamId) began, null before its first chunk. */
  get streamStartedAt(): number | null {
    return this.startedAt;
  }
  /** Stream time (ms) just after the last input sample received, null before any audio of the stream. */
  get streamTime(): number | null {
    const seg = this.current();
    const rate = this.segmentFormat?.sampleRate;
    if (seg.anchor === null || !rate) return null;
    return seg.anchor + (seg.inputFrames * 1000) / rate;
  }
  /** Absolute frame number one past the newest column. */
  get frameEnd(): number {
    return this.columnRing.end;
  }
  /** The oldest and one-past-newest absolute frames still in the column ring. */
  get frameRange(): [number, number] {
    return [this.columnRing.start, this.columnRing.end];
  }
  /** The next seq expected (null when any seq is accepted: the start of a stream). */
  get nextSeq(): number | null {
    return this.sequence.next;
  }

  /**
   * Handles a `hello`. The same `streamId` as before continues the stream (sequence numbers and stream time
   * carry on); a new or absent one starts a new stream. A new stream, rate or format starts a new segment.
   * (`_now` is accepted for symmetry with {@link audio}: a stream is anchored by its first chunk, not its hello.)
   */
  hello(msg: unknown, _now?: number): HelloAck {
    let hello: HelloMessage;
    let path: DspPath | null = null;
    try {
      hello = validateHello(msg);
      const old = this.segmentFormat;
      if (!old || old.sampleRate !== hello.sampleRate) {
        path = this.makePath(hello.sampleRate);
      }
    } catch (e) {
      if (e instanceof StreamError) return { ok: false, error: e.message, code: e.code };
      throw e;
    }
    const { newStream, nextSeq } = this.sequence.hello(hello.streamId);
    const fmt: PcmFormat = { sampleRate: hello.sampleRate, channels: hello.channels, format: hello.format };
    const old = this.segmentFormat;
    if (newStream || !old || old.sampleRate !== fmt.sampleRate || old.format !== fmt.format) {
      this.endSegment(newStream);
      if (path) this.replacePath(path);
      if (newStream) {
        this.startedAt = null;
        this.meterState.reset();
      }
    }
    this.fmt = fmt;
    this.segmentFormat = fmt;
    return {
      ok: true,
      nextSeq,
      maxChunkBytes: this.maxChunkBytes,
      analysisSampleRate: this.melParams.sampleRate,
    };
  }

  /** The socket went away: `audio` is refused (`NO_HELLO`) until the next hello. State is kept. */
  disconnect(): void {
    this.fmt = null;
  }

  /**
   * Handles an `audio` message: validates it (a rejected chunk changes nothing), then decodes, resamples,
   * meters, appends to the rings and returns the windows it completed.
   */
  audio(msg: unknown, now: number): AudioResult {
    let seq: number;
    let mono: Float32Array;
    let framePeak: Float32Array | null;
    let t: number | undefined;
    try {
      const fmt = this.fmt;
      if (!fmt) throw new StreamError('NO_HELLO', 'send hello {sampleRate, channels, format} before audio');
      if (typeof msg !== 'object' || msg === null)
        throw new StreamError('BAD_MESSAGE', `audio must be an object {seq, data, t?}, got ${String(msg)}`);
      const m = msg as Partial<AudioMessage>;
      seq = this.sequence.check(m.seq);
      if (m.t !== undefined && (typeof m.t !== 'number' || !Number.isFinite(m.t)))
        throw new StreamError(
          'BAD_MESSAGE',
          `t (${String(m.t)}) must be a finite time in ms since the epoch`,
          seq,
        );
      t = m.t;
      // Only the chunk that anchors a segment gives the stream its time (sample counting carries it on):
      // a sensor clock far off the server's would put its alerts and scores out of every range.
      if (t !== undefined && this.current().anchor === null && Math.abs(t - now) > this.maxClockSkewMs)
        throw new StreamError(
          'BAD_MESSAGE',
          `t (${t}) is ${((t - now) / 1000).toFixed(1)} s off the server clock (${now}); at most ` +
            `${this.maxClockSkewMs / 1000} s is accepted (HARK_MAX_CLOCK_SKEW_SECONDS): set the sensor's ` +
            'clock (NTP) or leave t out',
          seq,
        );
      ({ mono, framePeak } = decodePcm(pcmBytes(m.data, seq), fmt, this.maxChunkBytes, seq));
      // The DSP worker stopped: the segment ends (its resampler and extractor are gone with it).
      if (this.path?.lost) {
        this.path = null;
        this.dsp = null;
        this.endSegment(false);
      }
      // Released while idle (see `release`): the segment's resampler comes back with its audio.
      if (!this.path) this.replacePath(this.makePath(fmt.sampleRate));
    } catch (e) {
      if (e instanceof StreamError) return { ack: e.toAck(), windows: [], seconds: 0 };
      throw e;
    }
    this.sequence.accept(seq);
    const fmt = this.fmt!;
    const segment = this.current();
    if (segment.anchor === null) {
      segment.anchor = t ?? now;
      this.startedAt ??= segment.anchor;
    }
    const inputT0 = segment.anchor + (segment.inputFrames * 1000) / fmt.sampleRate;
    segment.inputFrames += mono.length;
    this.meterState.push(mono, framePeak, fmt.sampleRate, inputT0);
    const seconds = mono.length / fmt.sampleRate;
    const job: Job = { seg: segment, now, out: [] };
    this.path!.push(mono, job); // may take `mono` (to the worker)
    return { ack: { ok: true, seq }, windows: job.out!.splice(0), seconds };
  }

  /**
   * Switches to other analysis parameters (a model fitted with another mel / window configuration). Ends the
   * segment: the extractor, windowing and column ring restart; the audio ring is kept when the analysis rate
   * is unchanged. Stream time carries on.
   */
  reconfigure(mel: Partial<MelParams>, windowSeconds: number, hopSeconds: number): void {
    const p = resolveMelParams({ ...mel, center: false });
    checkWindowing(p, windowSeconds, hopSeconds, this.columnRingSeconds); // throws before any change
    const rateChanged = p.sampleRate !== this.melParams.sampleRate;
    // A new extractor (and resampler, if the rate changed) for the next segment; made first, since it may throw.
    const path = this.segmentFormat && this.path ? this.makePath(this.segmentFormat.sampleRate, p) : null;
    const anchor = this.endSegment(false);
    this.configure(p, windowSeconds, hopSeconds);
    if (rateChanged) {
      this.audioRing = new AudioRing(Math.ceil(this.audioRingSeconds * p.sampleRate));
      this.segments = [this.newSegment(anchor)];
    }
    this.replacePath(path);
  }

  /** Bytes the rings hold now (0 before the first audio and after {@link release}). */
  get ringBytes(): number {
    return this.audioRing.bytes + this.columnRing.bytes;
  }

  /**
   * Gives the rings' memory and the resampler's filter table back (an idle sensor). Ends the segment (its
   * resampler tail and last partial window are dropped with the rings); sequence rules, stream time and the
   * analysis parameters are kept, and the next audio allocates again. Reads return nothing until then.
   */
  release(): void {
    this.replacePath(null);
    const anchor = this.endSegment(false);
    this.audioRing.free();
    this.columnRing.free();
    this.segments = [this.newSegment(anchor)];
  }

  /** The sensor is gone for good (deleted): the same as {@link release}. */
  dispose(): void {
    this.release();
  }

  /**
   * A new DSP path; the old one's results are all in first (in the worker), and its resampler gives its table
   * back to the process-wide kernel.
   */
  private replacePath(next: DspPath | null): void {
    if (this.path !== next) this.path?.dispose();
    this.path = next;
  }

  /**
   * Completed windows from the DSP worker's answers (only with a {@link SensorStreamOptions.dsp}: otherwise
   * `audio` returns them). Called once per answered chunk, after its audio and columns are in the rings.
   */
  onWindows(listener: WindowsListener | null): void {
    this.windowsListener = listener;
  }

  /**
   * Columns [fromFrame, toFrame) still in the ring (clamped), frame-major `[n, nMels]` bytes (the live columns'
   * encoding) with their times.
   */
  columns(fromFrame: number, toFrame: number): ColumnRead {
    const slice = this.columnRing.read(fromFrame, toFrame);
    return {
      ...slice,
      t0: slice.times.length ? slice.times[0] : NaN,
      hopSeconds: hopSecondsOf(this.melParams),
    };
  }

  /** The column ring itself, for {@link ColumnEmitter} (anomaly write-back). */
  get columnStore(): ColumnRing {
    return this.columnRing;
  }

  /**
   * Analysis-rate audio whose sample times lie in [tFrom, tTo) (ms), whatever is still in the ring. When the
   * range spans segments their samples are concatenated (gaps between streams are not filled); `start` is
   * the time of the first sample returned. (Named `readAudio` because `audio` handles messages.)
   */
  readAudio(tFrom: number, tTo: number): AudioRead {
    const sr = this.melParams.sampleRate;
    const ringStart = this.audioRing.start;
    const ringEnd = this.audioRing.end;
    let from = Infinity;
    let to = -Infinity;
    let start = NaN;
    for (let i = 0; i < this.segments.length; i++) {
      const s = this.segments[i];
      if (s.anchor === null) continue;
      const segEnd = i + 1 < this.segments.length ? this.segments[i + 1].firstSample : ringEnd;
      const lo = Math.max(
        s.firstSample + Math.ceil(((tFrom - s.anchor) * sr) / 1000),
        s.firstSample,
        ringStart,
      );
      const hi = Math.min(s.firstSample + Math.ceil(((tTo - s.anchor) * sr) / 1000), segEnd);
      if (hi <= lo) continue;
      if (lo < from) {
        from = lo;
        start = s.anchor + ((lo - s.firstSample) * 1000) / sr;
      }
      to = Math.max(to, hi);
    }
    if (!(to > from)) return { samples: new Float32Array(0), start: NaN, sampleRate: sr };
    return { samples: this.audioRing.read(from, to).samples, start, sampleRate: sr };
  }

  /** Calls `listener` with every block of resampled samples from now on; returns the unsubscribe function. */
  onSamples(listener: SamplesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Level, peak, clipping and silence over the last half second (see `meter.ts`). */
  meter(): MeterReading {
    return this.meterState.read();
  }

  /** Validates and installs analysis parameters and a new column ring (frame numbers continue). */
  private configure(mel: MelParams, windowSeconds: number, hopSeconds: number): void {
    const { wf, hf, capacity } = checkWindowing(mel, windowSeconds, hopSeconds, this.columnRingSeconds);
    new LogMelExtractor(mel); // throws on parameters no extractor takes, before any change
    const firstFrame = this.columnRing ? this.columnRing.end : 0;
    this.melParams = mel;
    this.winSeconds = windowSeconds;
    this.hopSecs = hopSeconds;
    this.winFrames = wf;
    this.hopFrameCount = hf;
    this.columnRing = new ColumnRing(capacity, mel.nMels, { firstFrame, floatFrames: wf });
  }

  /** A resampler from `inRate` and an extractor of `mel`, here or in the DSP worker; `BAD_SAMPLE_RATE` if none. */
  private makePath(inRate: number, mel: MelParams = this.melParams): DspPath {
    const resampler = this.makeResampler(inRate, mel);
    if (this.dsp?.running) {
      resampler.dispose(); // made to check the rate; the worker makes its own
      return new RemotePath(this.dsp, inRate, mel, this.sink);
    }
    return new LocalPath(resampler, new LogMelExtractor(mel), this.sink);
  }

  private makeResampler(inRate: number, mel: MelParams): Resampler {
    try {
      return analysisResampler(inRate, mel.sampleRate);
    } catch (e) {
      throw new StreamError(
        'BAD_SAMPLE_RATE',
        `sampleRate (${inRate} Hz) cannot be resampled to ${mel.sampleRate} Hz: ${(e as Error).message}`,
      );
    }
  }

  private current(): Segment {
    return this.segments[this.segments.length - 1];
  }

  private newSegment(anchor: number | null): Segment {
    return {
      anchor,
      firstSample: this.audioRing.end,
      firstFrame: this.columnRing.end,
      inputFrames: 0,
      nextWindow: 0,
    };
  }

  /**
   * Closes the current segment and opens a new one; returns the new segment's anchor. The resampler's tail
   * goes into the rings (no windows are cut from it). A new stream's anchor comes from its first chunk;
   * otherwise stream time carries on from the input samples counted.
   */
  private endSegment(newStream: boolean): number | null {
    const seg = this.current();
    const rate = this.segmentFormat?.sampleRate ?? 0;
    if (seg.anchor !== null && seg.inputFrames > 0) this.path?.flush({ seg, now: 0, out: null });
    else this.path?.reset();
    const carried = seg.anchor === null || rate === 0 ? null : seg.anchor + (seg.inputFrames * 1000) / rate;
    if (seg.anchor === null || seg.inputFrames === 0) this.segments.pop();
    const anchor = newStream ? null : carried;
    this.segments.push(this.newSegment(anchor));
    // Keep only segments whose audio is still in the ring.
    while (this.segments.length > 1 && this.segments[1].firstSample <= this.audioRing.start)
      this.segments.shift();
    return anchor;
  }

  /** Appends a segment's resampled samples to the audio ring and hands them to the listeners. */
  private ingestSamples(samples: Float32Array, job: Job): void {
    const seg = job.seg;
    const sr = this.melParams.sampleRate;
    const t0 = seg.anchor! + ((this.audioRing.end - seg.firstSample) * 1000) / sr;
    this.audioRing.push(samples);
    for (const listener of this.listeners) listener(samples, t0, sr);
  }

  /**
   * Appends a column (segment frame `k`) to the column ring; cuts the windows it completes into `job.out`, each
   * as its last column arrives (the ring holds only the newest window's columns as floats).
   */
  private ingestColumn(column: Float32Array, k: number, job: Job): void {
    const { seg, out } = job;
    const anchor = seg.anchor!;
    const mel = this.melParams;
    const ring = this.columnRing;
    const W = this.winFrames;
    ring.push(column, frameTimeMs(anchor, k, mel));
    if (!out) return;
    while (seg.firstFrame + seg.nextWindow + W <= ring.end) {
      const start = seg.firstFrame + seg.nextWindow;
      const data = new Float32Array(mel.nMels * W);
      ring.copyMelMajor(start, start + W, data);
      out.push({
        index: this.windowCount++,
        startFrame: start,
        endFrame: start + W,
        t0: frameTimeMs(anchor, seg.nextWindow, mel),
        t1: frameTimeMs(anchor, seg.nextWindow + W, mel),
        data,
        arrivedAt: job.now,
      });
      seg.nextWindow += this.hopFrameCount;
    }
  }
}
