import { describe, expect, it } from 'vitest';
import { decodePcm, pcmBytes, validateHello, type PcmFormat } from '../../src/ingest/pcm.js';
import { StreamError } from '../../src/ingest/errors.js';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof StreamError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
};

describe('validateHello', () => {
  it('accepts a valid hello and keeps only known fields', () => {
    const h = validateHello({ sampleRate: 48000, channels: 2, format: 's16le', streamId: 'run-1', extra: 1 });
    expect(h).toEqual({ sampleRate: 48000, channels: 2, format: 's16le', streamId: 'run-1' });
  });

  it.each([
    [null, 'BAD_MESSAGE: hello must be an object, got null'],
    ['hi', "BAD_MESSAGE: hello must be an object, got 'hi'"],
    [
      { sampleRate: 7999, channels: 1, format: 's16le' },
      'BAD_SAMPLE_RATE: sampleRate (7999 Hz) must be between 8000 and 96000 Hz',
    ],
    [
      { sampleRate: 96001, channels: 1, format: 's16le' },
      'BAD_SAMPLE_RATE: sampleRate (96001 Hz) must be between 8000 and 96000 Hz',
    ],
    [
      { sampleRate: 16000.5, channels: 1, format: 's16le' },
      'BAD_SAMPLE_RATE: sampleRate (16000.5) must be a whole number of Hz',
    ],
    [
      { sampleRate: '16000', channels: 1, format: 's16le' },
      "BAD_SAMPLE_RATE: sampleRate ('16000') must be a whole number of Hz",
    ],
    [
      { sampleRate: 16000, channels: 0, format: 's16le' },
      'BAD_CHANNELS: channels (0) must be a whole number from 1 to 8',
    ],
    [
      { sampleRate: 16000, channels: 9, format: 's16le' },
      'BAD_CHANNELS: channels (9) must be a whole number from 1 to 8',
    ],
    [
      { sampleRate: 16000, channels: 1.5, format: 's16le' },
      'BAD_CHANNELS: channels (1.5) must be a whole number from 1 to 8',
    ],
    [
      { sampleRate: 16000, channels: 1, format: 's24le' },
      "BAD_FORMAT: format ('s24le') must be one of 's16le', 'f32le'",
    ],
    [
      // an object String() cannot print (its toString is not a function): found by the protocol fuzzer
      { sampleRate: 16000, channels: 1, format: { toString: 'b&X' } },
      `BAD_FORMAT: format ({"toString":"b&X"}) must be one of 's16le', 'f32le'`,
    ],
    [
      { sampleRate: 16000, channels: 1, format: Object.create(null) as object },
      "BAD_FORMAT: format ({}) must be one of 's16le', 'f32le'",
    ],
    [
      { sampleRate: 16000, channels: 1, format: 'f32le', streamId: 5 },
      'BAD_MESSAGE: streamId (5) must be a string of 1 to 200 characters',
    ],
    [
      { sampleRate: 16000, channels: 1, format: 'f32le', labels: { a: 1 } },
      'BAD_MESSAGE: labels.a (1) must be a string',
    ],
  ])('rejects %j', (msg, expected) => {
    expect(codeOf(() => validateHello(msg))).toBe(expected);
  });
});

describe('decodePcm', () => {
  const s16 = (channels: number): PcmFormat => ({ sampleRate: 16000, channels, format: 's16le' });
  const f32 = (channels: number): PcmFormat => ({ sampleRate: 16000, channels, format: 'f32le' });

  it('decodes s16le mono to float with full scale at 32768', () => {
    const bytes = new Uint8Array(Int16Array.from([0, 16384, -32768, 32767]).buffer);
    const { mono, framePeak } = decodePcm(bytes, s16(1), 1000);
    expect(Array.from(mono)).toEqual([0, 0.5, -1, 32767 / 32768]);
    expect(framePeak).toBeNull();
  });

  it('averages interleaved channels and reports each frame peak', () => {
    const bytes = new Uint8Array(Float32Array.from([0.5, -0.25, 1, 1, -1, 0.5]).buffer);
    const { mono, framePeak } = decodePcm(bytes, f32(2), 1000);
    expect(Array.from(mono)).toEqual([0.125, 1, -0.25]);
    expect(Array.from(framePeak!)).toEqual([0.5, 1, 1]);
  });

  it('reads little-endian samples from an unaligned Buffer view', () => {
    const backing = Buffer.alloc(5);
    backing.writeInt16LE(-16384, 1);
    backing.writeInt16LE(8192, 3);
    const { mono } = decodePcm(backing.subarray(1), s16(1), 1000);
    expect(Array.from(mono)).toEqual([-0.5, 0.25]);
  });

  it('accepts an ArrayBuffer and rejects non-binary data', () => {
    expect(pcmBytes(new ArrayBuffer(4)).byteLength).toBe(4);
    expect(codeOf(() => pcmBytes([1, 2]))).toBe(
      'BAD_MESSAGE: audio.data must be binary (Buffer, Uint8Array or ArrayBuffer), got an array',
    );
    expect(codeOf(() => pcmBytes('abc'))).toContain('got string');
  });

  it('rejects partial frames, naming the frame size', () => {
    expect(codeOf(() => decodePcm(new Uint8Array(1001), s16(2), 4096))).toBe(
      'PARTIAL_SAMPLE: chunk of 1001 bytes is not a whole number of frames (2 channels x 2 bytes = 4 bytes per frame)',
    );
    expect(codeOf(() => decodePcm(new Uint8Array(6), f32(1), 4096))).toBe(
      'PARTIAL_SAMPLE: chunk of 6 bytes is not a whole number of frames (1 channel x 4 bytes = 4 bytes per frame)',
    );
  });

  it('rejects chunks over the size limit', () => {
    expect(codeOf(() => decodePcm(new Uint8Array(4100), s16(1), 4096))).toBe(
      'TOO_LARGE: chunk of 4100 bytes is larger than the limit of 4096 bytes; send smaller chunks',
    );
    expect(decodePcm(new Uint8Array(4096), s16(1), 4096).mono.length).toBe(2048);
  });

  it('rejects NaN and infinite f32 samples', () => {
    const bytes = new Uint8Array(Float32Array.from([0, 0.5, NaN, 0]).buffer);
    expect(codeOf(() => decodePcm(bytes, f32(2), 1000))).toBe(
      'BAD_MESSAGE: f32le sample 2 (frame 1, channel 0) is NaN; samples must be finite',
    );
    const inf = new Uint8Array(Float32Array.from([Infinity]).buffer);
    expect(codeOf(() => decodePcm(inf, f32(1), 1000))).toContain('is Infinity');
  });

  it('decodes an empty chunk to no frames', () => {
    expect(decodePcm(new Uint8Array(0), s16(2), 1000).mono.length).toBe(0);
  });
});
