/**
 * The edge of the sensor protocol: `hello` validation and decoding of `audio.data` (interleaved PCM) to mono
 * float32. Everything is checked here, once per message, so the per-sample code after it trusts its input.
 */
import {
  MAX_STREAM_ID_LENGTH,
  MIN_SAMPLE_RATE,
  SAMPLE_FORMATS,
  type HelloMessage,
  type SampleFormat,
} from '@hark/protocol';
import { StreamError } from './errors.js';
import { showValue as show } from '../show.js';

/** Accepted `hello.sampleRate` range, Hz (the lowest is the protocol's, shared with uploaded WAVs). */
export { MIN_SAMPLE_RATE };
export const MAX_SAMPLE_RATE = 96000;
/** Accepted `hello.channels` range. */
export const MAX_CHANNELS = 8;

/** The audio layout a sensor declared in its `hello`, validated. */
export interface PcmFormat {
  sampleRate: number;
  channels: number;
  format: SampleFormat;
}

/** Bytes of one sample of `format`. */
export const bytesPerSample = (format: SampleFormat): number => (format === 's16le' ? 2 : 4);

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Validates a `hello` message and returns it typed. Throws a {@link StreamError}: `BAD_MESSAGE` for a
 * malformed object (not an object, wrong field types), `BAD_SAMPLE_RATE`, `BAD_CHANNELS` or `BAD_FORMAT`.
 */
export function validateHello(msg: unknown): HelloMessage {
  if (!isRecord(msg)) throw new StreamError('BAD_MESSAGE', `hello must be an object, got ${show(msg)}`);
  const { sampleRate, channels, format, streamId, name, labels } = msg;
  if (typeof sampleRate !== 'number' || !Number.isInteger(sampleRate)) {
    throw new StreamError('BAD_SAMPLE_RATE', `sampleRate (${show(sampleRate)}) must be a whole number of Hz`);
  }
  if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new StreamError(
      'BAD_SAMPLE_RATE',
      `sampleRate (${sampleRate} Hz) must be between ${MIN_SAMPLE_RATE} and ${MAX_SAMPLE_RATE} Hz`,
    );
  }
  if (
    typeof channels !== 'number' ||
    !Number.isInteger(channels) ||
    channels < 1 ||
    channels > MAX_CHANNELS
  ) {
    throw new StreamError(
      'BAD_CHANNELS',
      `channels (${show(channels)}) must be a whole number from 1 to ${MAX_CHANNELS}`,
    );
  }
  if (typeof format !== 'string' || !(SAMPLE_FORMATS as readonly string[]).includes(format)) {
    throw new StreamError(
      'BAD_FORMAT',
      `format (${show(format)}) must be one of ${SAMPLE_FORMATS.map((f) => `'${f}'`).join(', ')}`,
    );
  }
  if (
    streamId !== undefined &&
    (typeof streamId !== 'string' || streamId.length === 0 || streamId.length > MAX_STREAM_ID_LENGTH)
  ) {
    throw new StreamError(
      'BAD_MESSAGE',
      `streamId (${show(streamId)}) must be a string of 1 to ${MAX_STREAM_ID_LENGTH} characters`,
    );
  }
  if (name !== undefined && typeof name !== 'string') {
    throw new StreamError('BAD_MESSAGE', `name (${show(name)}) must be a string`);
  }
  if (labels !== undefined) {
    if (!isRecord(labels))
      throw new StreamError('BAD_MESSAGE', `labels (${show(labels)}) must be an object of strings`);
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string')
        throw new StreamError('BAD_MESSAGE', `labels.${k} (${show(v)}) must be a string`);
    }
  }
  const hello: HelloMessage = { sampleRate, channels, format: format as SampleFormat };
  if (streamId !== undefined) hello.streamId = streamId as string;
  if (name !== undefined) hello.name = name as string;
  if (labels !== undefined) hello.labels = { ...(labels as Record<string, string>) };
  return hello;
}

/**
 * The bytes of `audio.data` as a Uint8Array view (no copy): Node `Buffer`s and other Uint8Arrays as they are,
 * an `ArrayBuffer` wrapped. Anything else is `BAD_MESSAGE`.
 */
export function pcmBytes(data: unknown, seq?: number): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  const kind = data === null ? 'null' : Array.isArray(data) ? 'an array' : typeof data;
  throw new StreamError(
    'BAD_MESSAGE',
    `audio.data must be binary (Buffer, Uint8Array or ArrayBuffer), got ${kind}`,
    seq,
  );
}

/** Mono samples of one chunk plus, for multi-channel audio, each frame's largest absolute channel sample. */
export interface DecodedPcm {
  /** Channel average, `[frames]`, full scale = 1. */
  mono: Float32Array;
  /** `[frames]` max |sample| over the channels (for clipping detection), or null when mono (use |mono|). */
  framePeak: Float32Array | null;
}

/**
 * Checks the size of a chunk without decoding it: `TOO_LARGE` above `maxBytes`, `PARTIAL_SAMPLE` when it is
 * not a whole number of frames. Returns the number of frames.
 */
export function checkChunkSize(byteLength: number, fmt: PcmFormat, maxBytes: number, seq?: number): number {
  if (byteLength > maxBytes) {
    throw new StreamError(
      'TOO_LARGE',
      `chunk of ${byteLength} bytes is larger than the limit of ${maxBytes} bytes; send smaller chunks`,
      seq,
    );
  }
  const bps = bytesPerSample(fmt.format);
  const frameBytes = bps * fmt.channels;
  if (byteLength % frameBytes !== 0) {
    throw new StreamError(
      'PARTIAL_SAMPLE',
      `chunk of ${byteLength} bytes is not a whole number of frames ` +
        `(${fmt.channels} channel${fmt.channels === 1 ? '' : 's'} x ${bps} bytes = ${frameBytes} bytes per frame)`,
      seq,
    );
  }
  return byteLength / frameBytes;
}

/**
 * Decodes interleaved little-endian PCM to mono float32 (the average of the channels; s16 divided by 32768).
 * Throws `TOO_LARGE`, `PARTIAL_SAMPLE` (see {@link checkChunkSize}) or `BAD_MESSAGE` for a NaN or infinite
 * f32 sample. An empty chunk decodes to zero frames.
 */
export function decodePcm(bytes: Uint8Array, fmt: PcmFormat, maxBytes: number, seq?: number): DecodedPcm {
  const frames = checkChunkSize(bytes.byteLength, fmt, maxBytes, seq);
  const { channels } = fmt;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mono = new Float32Array(frames);
  const framePeak = channels > 1 ? new Float32Array(frames) : null;
  const s16 = fmt.format === 's16le';
  const bps = s16 ? 2 : 4;
  const scale = 1 / channels;
  let offset = 0;
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    let peak = 0;
    for (let c = 0; c < channels; c++) {
      let x: number;
      if (s16) x = view.getInt16(offset, true) / 32768;
      else {
        x = view.getFloat32(offset, true);
        if (!Number.isFinite(x)) {
          throw new StreamError(
            'BAD_MESSAGE',
            `f32le sample ${i * channels + c} (frame ${i}, channel ${c}) is ${x}; samples must be finite`,
            seq,
          );
        }
      }
      offset += bps;
      sum += x;
      const a = Math.abs(x);
      if (a > peak) peak = a;
    }
    mono[i] = sum * scale;
    if (framePeak) framePeak[i] = peak;
  }
  return { mono, framePeak };
}
