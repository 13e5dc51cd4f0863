/**
 * Sources that play PCM held in memory (a WAV file) as if it were being captured: paced by a monotonic clock
 * at `speed` times real time.
 *
 * Timestamps: the stream runs on a virtual clock that starts at `startTime` (default: when iteration starts)
 * and advances by samples / rate, whatever the speed. Chunk k of c ms carries `t = startTime + c k` ms;
 * at `--speed 10` the stream's clock therefore runs ten times faster than the wall clock, as if the file had
 * been recorded live from `startTime` on. With `loop` the clock keeps counting across repeats.
 *
 * Pacing: a chunk is released when its last sample "has been captured", i.e. at
 * `start + (samples so far + chunk samples) / rate / speed` on the monotonic clock; the schedule is computed
 * from the start, never by sleeping a fixed time per chunk, so it does not drift. A reader that falls behind
 * gets the overdue chunks at once.
 */
import { basename } from 'node:path';
import { readWav } from '@hark/dsp';
import { encodePcm } from '../pcm.js';
import {
  checkedBytesPerFrame,
  DEFAULT_CHUNK_MS,
  type PcmChunk,
  type PcmSource,
  type SampleFormat,
  type StreamFormat,
} from '../types.js';
import { monotonicClock, type Clock } from './clock.js';

export interface PacedOptions {
  /** Chunk length in ms (default {@link DEFAULT_CHUNK_MS}); the last chunk of the file may be shorter. */
  chunkMs?: number;
  /** Times real time (default 1); `Infinity` releases chunks as fast as they are read. */
  speed?: number;
  /** Play again from the start at the end, forever. */
  loop?: boolean;
  /**
   * Frame of `pcm` to start at (default 0): the first pass plays from there to the end, and a loop goes on from
   * the start. Sources that play one recording together start at different points of it, as machines do.
   */
  startFrame?: number;
  /** Epoch ms of the first sample (default: `Date.now()` when iteration starts). */
  startTime?: number;
  clock?: Clock;
  /** Ends the iteration (without error) when aborted. */
  signal?: AbortSignal;
}

/** Plays `pcm` (whole frames in `format`) as a source; see the file header for pacing and timestamps. */
export function pacedSource(
  pcm: Uint8Array,
  format: StreamFormat,
  options: PacedOptions & { description?: string } = {},
): PcmSource {
  const bpf = checkedBytesPerFrame(format);
  const { chunkMs = DEFAULT_CHUNK_MS, speed = 1, loop = false, clock = monotonicClock, signal } = options;
  if (!(chunkMs > 0)) throw new RangeError(`chunkMs (${chunkMs}) must be > 0`);
  if (!(speed > 0)) throw new RangeError(`speed (${speed}) must be > 0`);
  if (pcm.byteLength % bpf !== 0)
    throw new RangeError(`PCM of ${pcm.byteLength} bytes is not a whole number of ${bpf}-byte frames`);
  const totalFrames = pcm.byteLength / bpf;
  const startFrame = options.startFrame ?? 0;
  if (!(Number.isInteger(startFrame) && startFrame >= 0 && (startFrame < totalFrames || startFrame === 0)))
    throw new RangeError(`startFrame (${startFrame}) must be a whole frame within the ${totalFrames} frames`);
  const chunkFrames = Math.max(1, Math.round((chunkMs * format.sampleRate) / 1000));
  const rate = format.sampleRate;

  async function* play(): AsyncGenerator<PcmChunk> {
    if (totalFrames === 0) return;
    const t0 = options.startTime ?? Date.now();
    const c0 = clock.now();
    let emitted = 0;
    let from = startFrame;
    do {
      for (let off = from; off < totalFrames; off += chunkFrames) {
        if (signal?.aborted) return;
        const n = Math.min(chunkFrames, totalFrames - off);
        const due = c0 + ((emitted + n) / rate / speed) * 1000;
        const wait = due - clock.now();
        if (wait > 0) await clock.sleep(wait, signal);
        if (signal?.aborted) return;
        yield { data: pcm.subarray(off * bpf, (off + n) * bpf), t: t0 + (emitted / rate) * 1000 };
        emitted += n;
      }
      from = 0;
    } while (loop);
  }

  return {
    format,
    live: false,
    description: options.description ?? 'pcm',
    [Symbol.asyncIterator]: play,
  };
}

/**
 * A WAV file as a paced source. readWav gives mono float samples at the file's rate (the mean of its
 * channels); they are sent as `format` (default s16le, bit-exact for 16-bit files) at that rate.
 */
export async function wavSource(
  path: string,
  options: PacedOptions & { format?: SampleFormat } = {},
): Promise<PcmSource> {
  const wav = await readWav(path);
  if (wav.samples.length === 0) throw new Error(`${path}: the file holds no audio to stream`);
  const format: StreamFormat = { sampleRate: wav.sampleRate, channels: 1, format: options.format ?? 's16le' };
  return pacedSource(encodePcm(wav.samples, format.format), format, {
    ...options,
    description: basename(path),
  });
}
