import { readFile } from 'node:fs/promises';
import wavefile from 'wavefile';

/** A decoded WAV file, mixed down to mono. */
export interface WavAudio {
  /** Sample rate in Hz, as declared by the file. */
  sampleRate: number;
  /** Channels in the file; `samples` is their mean. */
  channels: number;
  /** Mono samples in [-1, 1]: the mean of all channels, integer PCM scaled by 2^-(bits - 1). */
  samples: Float32Array;
  encoding: 'pcm' | 'float';
  bitsPerSample: number;
  /**
   * True when the data chunk's size was a "length unknown" placeholder (0xFFFFFFFF or >= 0x7FFFF000, or 0
   * with an unfinished RIFF header), as recorders write while streaming to a pipe; the samples run to the
   * end of the file.
   */
  streamed: boolean;
  /** True when the file ended before its declared data size and `allowTruncated` kept what was there. */
  truncated: boolean;
}

export interface DecodeWavOptions {
  /**
   * Decode the whole frames present when the data chunk declares a real (non-placeholder) size larger than
   * the file, instead of failing. Default false: such a file was cut short (interrupted copy, killed writer).
   */
  allowTruncated?: boolean;
}

const FORMAT_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'mu-law',
  0x0011: 'IMA ADPCM',
  0x0050: 'MPEG',
  0x0055: 'MPEG layer 3',
  0x0161: 'WMA',
  0x2000: 'AC-3',
};
const isPlaceholder = (size: number): boolean => size >= 0x7ffff000;

interface Chunk {
  id: string;
  /** Offset of the chunk's body. */
  start: number;
  size: number;
}

/** The top-level chunks up to and including the first data chunk (wavefile does not expose offsets). */
function walkChunks(bytes: Uint8Array, view: DataView, little: boolean): Chunk[] {
  const chunks: Chunk[] = [];
  for (let at = 12; at + 8 <= bytes.length;) {
    const chunk = {
      id: String.fromCharCode(...bytes.subarray(at, at + 4)),
      start: at + 8,
      size: view.getUint32(at + 4, little),
    };
    chunks.push(chunk);
    if (chunk.id === 'data') break;
    at = chunk.start + chunk.size + (chunk.size & 1);
  }
  return chunks;
}

/**
 * Decodes a RIFF/RIFX/RF64 WAVE file: PCM 8 (unsigned), 16, 24 and 32 bits, IEEE float 32 and 64 bits,
 * plain or WAVE_FORMAT_EXTENSIBLE, any channel count, mixed down to mono.
 *
 * wavefile reads the fmt chunk; the chunk walk and the sample decoding are done here, in one pass that mixes
 * the channels, because wavefile reports neither chunk offsets nor extensible float, and cannot read data
 * chunks whose size is a placeholder. A data chunk with a placeholder size is read to the end of the file
 * ({@link WavAudio.streamed}); one with a real size larger than the file is an error unless
 * `allowTruncated`. A trailing partial frame is dropped.
 *
 * @param name shown in every error, e.g. the file's path.
 * @throws Error `<name>: <problem>` for empty, non-WAV, truncated or unsupported files.
 */
export function decodeWav(bytes: Uint8Array, name: string, options: DecodeWavOptions = {}): WavAudio {
  const fail = (problem: string): never => {
    throw new Error(`${name}: ${problem}`);
  };
  if (bytes.length === 0) fail('file is empty (0 bytes), not a WAV file');
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (!['RIFF', 'RIFX', 'RF64'].includes(magic)) {
    fail(`not a WAV file: it starts with ${JSON.stringify(magic)} instead of "RIFF"`);
  }
  if (bytes.length < 12) fail(`truncated header: the file ends after ${bytes.length} bytes`);
  const form = String.fromCharCode(...bytes.subarray(8, 12));
  if (form !== 'WAVE') fail(`not a WAV file: a RIFF "${form}" file, not "WAVE"`);

  const little = magic !== 'RIFX';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks = walkChunks(bytes, view, little);
  const fmtChunk = chunks.find((c) => c.id === 'fmt ');
  if (!fmtChunk) fail(`truncated or invalid header: no "fmt " chunk in ${bytes.length} bytes`);
  const fmtPresent = bytes.length - fmtChunk!.start;
  if (fmtPresent < Math.min(fmtChunk!.size, 40) || fmtPresent < 16) {
    fail(
      `truncated header: the "fmt " chunk declares ${fmtChunk!.size} bytes but the file ends after ${fmtPresent}`,
    );
  }
  if (fmtChunk!.size < 16)
    fail(`invalid header: the "fmt " chunk has ${fmtChunk!.size} bytes, at least 16 expected`);
  const dataChunk = chunks.find((c) => c.id === 'data');
  if (!dataChunk) fail('no "data" chunk: the file has a header but no audio (truncated after the header?)');

  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(bytes, false);
  } catch (err) {
    fail(`unreadable WAV header (${err instanceof Error ? err.message : String(err)})`);
  }
  const fmt = wav.fmt as {
    audioFormat: number;
    numChannels: number;
    sampleRate: number;
    bitsPerSample: number;
    subformat?: number[];
  };
  const code = fmt.audioFormat === 0xfffe && fmt.subformat ? fmt.subformat[0] : fmt.audioFormat;
  const bits = fmt.bitsPerSample;
  if (code !== 1 && code !== 3) {
    const what = FORMAT_NAMES[code] ? ` (${FORMAT_NAMES[code]})` : '';
    fail(
      `unsupported format code ${code}${what}: only PCM (1) and IEEE float (3) are read; convert it, e.g. ` +
        '`ffmpeg -i in.wav -c:a pcm_s16le out.wav`',
    );
  }
  const encoding = code === 1 ? 'pcm' : 'float';
  if (encoding === 'pcm' && ![8, 16, 24, 32].includes(bits))
    fail(`unsupported PCM sample size: ${bits} bits (8, 16, 24 or 32 are read)`);
  if (encoding === 'float' && bits !== 32 && bits !== 64)
    fail(`unsupported float sample size: ${bits} bits (32 or 64 are read)`);
  if (fmt.numChannels === 0) fail('invalid header: 0 channels');
  if (fmt.sampleRate === 0) fail('invalid header: sample rate 0 Hz');

  const start = dataChunk!.start;
  const declared = dataChunk!.size;
  const present = bytes.length - start;
  const riffSize = view.getUint32(4, little);
  const streamed =
    isPlaceholder(declared) || (declared === 0 && present > 0 && (riffSize === 0 || isPlaceholder(riffSize)));
  let size = streamed ? present : declared;
  let truncated = false;
  if (!streamed && declared > present) {
    if (!options.allowTruncated) {
      fail(
        `truncated data chunk: it declares ${declared} bytes but the file ends after ${present}; the file was ` +
          'cut short (re-copy it, or allow truncated files to decode what is there)',
      );
    }
    size = present;
    truncated = true;
  }
  const frameBytes = (bits / 8) * fmt.numChannels;
  const frames = Math.floor(size / frameBytes);
  const samples = mixToMono(bytes, start, frames, fmt.numChannels, bits, encoding, little);
  return {
    sampleRate: fmt.sampleRate,
    channels: fmt.numChannels,
    samples,
    encoding,
    bitsPerSample: bits,
    streamed,
    truncated,
  };
}

/** Reads and decodes a WAV file; every error names `path`. */
export async function readWav(path: string, options?: DecodeWavOptions): Promise<WavAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not a WAV file'
          : (err as Error).message;
    throw new Error(`${path}: ${why}`);
  }
  return decodeWav(bytes, path, options);
}

function mixToMono(
  bytes: Uint8Array,
  start: number,
  frames: number,
  channels: number,
  bits: number,
  encoding: 'pcm' | 'float',
  little: boolean,
): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, frames * channels * (bits / 8));
  const out = new Float32Array(frames);
  const step = bits / 8;
  const read: (at: number) => number =
    encoding === 'float'
      ? bits === 32
        ? (at) => view.getFloat32(at, little)
        : (at) => view.getFloat64(at, little)
      : bits === 8
        ? (at) => (view.getUint8(at) - 128) / 128
        : bits === 16
          ? (at) => view.getInt16(at, little) / 32768
          : bits === 32
            ? (at) => view.getInt32(at, little) / 2147483648
            : little
              ? (at) =>
                  ((view.getInt8(at + 2) << 16) | (view.getUint8(at + 1) << 8) | view.getUint8(at)) / 8388608
              : (at) =>
                  ((view.getInt8(at) << 16) | (view.getUint8(at + 1) << 8) | view.getUint8(at + 2)) / 8388608;
  let at = 0;
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++, at += step) sum += read(at);
    out[i] = channels === 1 ? sum : sum / channels;
  }
  return out;
}
