/**
 * Shapes shared by the sensor client and its sources. The wire types of namespace `/sensor`, the sample
 * formats and the sensor-id rule are the protocol's (`@hark/protocol`).
 */
import { SAMPLE_FORMATS, type SampleFormat } from '@hark/protocol';

export { SAMPLE_FORMATS, type SampleFormat };

/**
 * Audio per `audio` message when a sensor does not say (`hark sensor --chunk-ms`, every source, the sensors of
 * `hark bench pipeline`), ms. Why 100:
 * - Each message costs the server a fixed amount of CPU whatever it carries (socket.io's framing and decoding,
 *   the ack, a pass through ingest): at the former 20 ms, 50 messages per sensor-second cost more CPU per
 *   scored window than any stage but the backbone and the searches (BENCHMARKS.md, "CPU per window: fewer
 *   audio messages, fewer allocations"). 100 ms is 10 a second, 5x fewer.
 * - A window's last sample waits in the sensor until its chunk is full: up to one chunk (half of one on
 *   average) more from the sound to the dashboard. The target is p99 < 250 ms from the window to the
 *   dashboard; 100 ms keeps 150 ms for the network and scoring, where 250 ms would spend all of it.
 * - 100 ms is a whole number of frames at every common rate (8, 11.025, 16, 22.05, 44.1, 48, 96 kHz).
 * Servers take chunks of any size up to their `maxChunkBytes` (the hello's ack; 1 MiB by default, 100 ms of
 * 48 kHz stereo f32 is 38 KB), and a sensor splits what is larger, so older sensors sending 20 ms keep working.
 */
export const DEFAULT_CHUNK_MS = 100;

/** What a stream carries: interleaved PCM frames of `channels` samples at `sampleRate` Hz. */
export interface StreamFormat {
  sampleRate: number;
  channels: number;
  format: SampleFormat;
}

/** A piece of a stream: whole frames in the stream's format, and the capture time of its first sample. */
export interface PcmChunk {
  data: Uint8Array;
  /** Capture time of the first sample, ms since the epoch. */
  t: number;
}

/**
 * Where audio comes from: an async iterable of whole-frame chunks in `format`.
 * A `live` source (a microphone) is read as fast as it produces, and its audio is buffered (then dropped,
 * oldest first) when the server cannot take it; a source that is not live (a file played at a pace, a pipe)
 * is only read while the send pipeline has room, so a fast file never overflows the buffer while connected.
 */
export interface PcmSource extends AsyncIterable<PcmChunk> {
  readonly format: StreamFormat;
  readonly live: boolean;
  /** For messages: `pump.wav`, `stdin`, `arecord -D hw:1`. */
  readonly description: string;
}

export function bytesPerSample(format: SampleFormat): number {
  return format === 's16le' ? 2 : 4;
}

export function bytesPerFrame(f: StreamFormat): number {
  return bytesPerSample(f.format) * f.channels;
}

/** Checks a stream format at the edge, naming the bad value. */
export function checkStreamFormat(f: StreamFormat): StreamFormat {
  if (!Number.isInteger(f.sampleRate) || f.sampleRate <= 0)
    throw new RangeError(`sample rate (${f.sampleRate}) must be a positive whole number of Hz`);
  if (!Number.isInteger(f.channels) || f.channels <= 0)
    throw new RangeError(`channels (${f.channels}) must be a positive whole number`);
  if (!SAMPLE_FORMATS.includes(f.format))
    throw new RangeError(`format '${f.format}' is not one of ${SAMPLE_FORMATS.join(', ')}`);
  return f;
}

/** Bytes per frame of a format checked at the edge (checkStreamFormat): what every source cuts its PCM by. */
export function checkedBytesPerFrame(f: StreamFormat): number {
  return bytesPerFrame(checkStreamFormat(f));
}

// ---- wire messages of namespace /sensor and the sensor-id rule: the protocol's ----

export type {
  AudioMessage,
  HelloAck,
  HelloMessage,
  SensorAck,
  SensorAuth,
  SensorErrorCode,
} from '@hark/protocol';
export { sensorIdProblem } from '@hark/protocol';
