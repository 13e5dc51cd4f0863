/**
 * Shapes shared by the sensor client and its sources. The wire types of namespace `/sensor`, the sample
 * formats and the sensor-id rule are the protocol's (`@hark/protocol`).
 */
import { SAMPLE_FORMATS, type SampleFormat } from '@hark/protocol';

export { SAMPLE_FORMATS, type SampleFormat };

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
