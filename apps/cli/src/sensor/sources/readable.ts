/**
 * Sources over byte streams: stdin, or the stdout of a capture program. Reads are cut into chunks of whole
 * frames (partial frames wait for the next read).
 *
 * Timestamps: sample counting from an anchor taken at the first read (its first sample was captured
 * `frames / rate` before the read arrived). When the wall clock runs more than a second ahead of the sample
 * clock (the producer paused or lost audio), the anchor moves forward so `t` follows real time again; a
 * producer faster than real time (a file piped in) keeps its sample clock.
 */
import { addAbortSignal, type Readable } from 'node:stream';
import { FrameChunker } from '../pcm.js';
import {
  checkedBytesPerFrame,
  DEFAULT_CHUNK_MS,
  type PcmChunk,
  type PcmSource,
  type StreamFormat,
} from '../types.js';

export interface ReadableSourceOptions {
  /** Chunk length in ms (default {@link DEFAULT_CHUNK_MS}). */
  chunkMs?: number;
  /** Ends the iteration (without error) when aborted; a Node stream is destroyed. */
  signal?: AbortSignal;
  /** See `PcmSource.live` (default false: a pipe waits for the reader). */
  live?: boolean;
  description?: string;
  /** Epoch ms now (default `Date.now`). */
  now?: () => number;
  /** Told when the stream ends inside a frame (those bytes are not sent). */
  onWarning?: (message: string) => void;
}

/** How far (ms) the wall clock may run ahead of the sample clock before the anchor moves. */
const REANCHOR_MS = 1000;

export function readableSource(
  input: Readable | AsyncIterable<Uint8Array>,
  format: StreamFormat,
  options: ReadableSourceOptions = {},
): PcmSource {
  const bpf = checkedBytesPerFrame(format);
  const { chunkMs = DEFAULT_CHUNK_MS, signal, now = Date.now } = options;
  if (!(chunkMs > 0)) throw new RangeError(`chunkMs (${chunkMs}) must be > 0`);
  const rate = format.sampleRate;
  const chunkFrames = Math.max(1, Math.round((chunkMs * rate) / 1000));
  const description = options.description ?? 'stream';

  async function* read(): AsyncGenerator<PcmChunk> {
    const chunker = new FrameChunker(bpf, chunkFrames);
    const stream = input as Readable;
    if (signal && typeof stream.destroy === 'function') addAbortSignal(signal, stream);
    let anchor: number | null = null;
    let bytesIn = 0;
    let framesOut = 0;
    const at = (frame: number) => (anchor ?? now()) + (frame / rate) * 1000;
    try {
      for await (const piece of input) {
        if (signal?.aborted) return;
        const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
        if (bytes.length === 0) continue;
        bytesIn += bytes.length;
        const framesIn = Math.floor(bytesIn / bpf);
        const wall = now();
        if (anchor === null) anchor = wall - (framesIn / rate) * 1000;
        else if (wall - at(framesIn) > REANCHOR_MS) anchor += wall - at(framesIn);
        for (const data of chunker.push(bytes)) {
          yield { data, t: at(framesOut) };
          framesOut += data.byteLength / bpf;
        }
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw new Error(`${description}: ${(err as Error).message}`);
    }
    if (signal?.aborted) return;
    const { chunk, partialBytes } = chunker.flush();
    if (chunk) yield { data: chunk, t: at(framesOut) };
    if (partialBytes > 0)
      options.onWarning?.(
        `${description} ended inside a frame: ${partialBytes} byte(s) of a ${bpf}-byte frame were not sent`,
      );
  }

  return { format, live: options.live ?? false, description, [Symbol.asyncIterator]: read };
}

/** Raw PCM from this process's stdin. */
export function stdinSource(format: StreamFormat, options: Omit<ReadableSourceOptions, 'description'> = {}) {
  return readableSource(process.stdin, format, { ...options, description: 'stdin' });
}
