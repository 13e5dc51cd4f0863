import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav, readWav } from '../src/index.js';
import { fixturePath } from './fixtures.js';
import { makeWav } from './wav-writer.js';
import { tempDir } from '../../../test/support/temp.js';

const f32 = (xs: number[]) => Array.from(Float32Array.from(xs));

describe('decodeWav: formats', () => {
  it.each([
    [8, [0, 64, 128, 255], [-1, -0.5, 0, 127 / 128]],
    [16, [-32768, -16384, 0, 32767], [-1, -0.5, 0, 32767 / 32768]],
    [24, [-8388608, 4194304, -1, 8388607], [-1, 0.5, -1 / 8388608, 8388607 / 8388608]],
    [32, [-2147483648, 1073741824, 1, 2147483647], [-1, 0.5, 1 / 2147483648, 1]],
  ])('PCM %i-bit scales by 2^-(bits-1) (8-bit is unsigned)', (bits, codes, expected) => {
    const w = decodeWav(makeWav({ bits, channels: 1, interleaved: codes, sampleRate: 22050 }), 'x.wav');
    expect(Array.from(w.samples)).toEqual(f32(expected));
    expect(w).toMatchObject({
      sampleRate: 22050,
      channels: 1,
      encoding: 'pcm',
      bitsPerSample: bits,
      streamed: false,
      truncated: false,
    });
  });

  it.each([32, 64])('IEEE float %i-bit, plain and WAVE_FORMAT_EXTENSIBLE', (bits) => {
    const xs = [0.25, -0.75, 1.5, 0];
    for (const extensible of [false, true]) {
      const w = decodeWav(makeWav({ bits, format: 3, channels: 1, interleaved: xs, extensible }), 'x.wav');
      expect(Array.from(w.samples)).toEqual(f32(xs));
      expect(w.encoding).toBe('float');
    }
  });

  it('mixes any channel count to the mean (PCM extensible, 6 channels)', () => {
    const frame = [1000, 2000, 3000, -4000, 0, 6000];
    const w = decodeWav(
      makeWav({ bits: 16, channels: 6, interleaved: [...frame, ...frame.map((x) => -x)], extensible: true }),
      'x.wav',
    );
    expect(Array.from(w.samples)).toEqual(f32([8000 / 6 / 32768, -8000 / 6 / 32768]));
    expect(w.channels).toBe(6);
  });

  it('reads big-endian RIFX and skips chunks before the data', () => {
    const w = decodeWav(
      makeWav({
        bits: 24,
        channels: 2,
        interleaved: [4194304, 0, -8388608, -8388608],
        rifx: true,
        listChunk: true,
      }),
      'x.wav',
    );
    expect(Array.from(w.samples)).toEqual([0.25, -1]);
  });

  it('decodes a corpus clip exactly as int16 / 32768', () => {
    const bytes = new Uint8Array(readFileSync(fixturePath('river.wav')));
    const w = decodeWav(bytes, 'river.wav');
    const codes = new Int16Array(bytes.buffer.slice(44));
    expect(w.samples.length).toBe(80000);
    expect(w.samples).toEqual(Float32Array.from(codes, (c) => c / 32768));
  });
});

describe('decodeWav: recorder streams and truncation', () => {
  const codes = [100, 200, 300, 400, 500, 600];
  const full = makeWav({ bits: 16, channels: 2, interleaved: codes });

  it.each([0xffffffff, 0x7fffffff])(
    'a placeholder data size (0x%s) reads to the end of the file',
    (dataSize) => {
      const w = decodeWav(makeWav({ bits: 16, channels: 2, interleaved: codes, dataSize }), 'rec.wav');
      expect(w.samples.length).toBe(3);
      expect(w.streamed).toBe(true);
    },
  );

  it('a zero data size with an unfinished RIFF header reads to the end; a partial frame is dropped', () => {
    const bytes = makeWav({ bits: 16, channels: 2, interleaved: codes, dataSize: 0, riffSize: 0 });
    const w = decodeWav(bytes.subarray(0, bytes.length - 1), 'rec.wav');
    expect(Array.from(w.samples)).toEqual(f32([150 / 32768, 350 / 32768]));
    expect(w.streamed).toBe(true);
  });

  it('a real data size larger than the file is a truncated file: an error, or what is there on request', () => {
    const cut = full.subarray(0, full.length - 5);
    expect(() => decodeWav(cut, 'cut.wav')).toThrow(
      'cut.wav: truncated data chunk: it declares 12 bytes but the file ends after 7; the file was cut short',
    );
    const w = decodeWav(cut, 'cut.wav', { allowTruncated: true });
    expect(w).toMatchObject({ truncated: true, streamed: false });
    expect(w.samples.length).toBe(1);
  });
});

describe('decodeWav: corrupt files get an error naming the file and the problem', () => {
  const good = makeWav({ bits: 16, channels: 1, interleaved: [1, 2, 3, 4] });
  const patched = (at: number, value: number, bytes = 2) => {
    const b = good.slice();
    if (bytes === 4) new DataView(b.buffer).setUint32(at, value, true);
    else new DataView(b.buffer).setUint16(at, value, true);
    return b;
  };
  it.each([
    ['empty file', new Uint8Array(0), 'bad.wav: file is empty (0 bytes), not a WAV file'],
    [
      'not RIFF',
      new TextEncoder().encode('ID3\u0003 an mp3 file, surely'),
      'bad.wav: not a WAV file: it starts with "ID3\\u0003" instead of "RIFF"',
    ],
    [
      'RIFF but not WAVE',
      new TextEncoder().encode('RIFF\u0004\u0000\u0000\u0000AVI LIST'),
      'bad.wav: not a WAV file: a RIFF "AVI " file, not "WAVE"',
    ],
    [
      'truncated in the RIFF header',
      good.subarray(0, 10),
      'bad.wav: truncated header: the file ends after 10 bytes',
    ],
    [
      'truncated before the fmt chunk',
      good.subarray(0, 16),
      'bad.wav: truncated or invalid header: no "fmt " chunk in 16 bytes',
    ],
    [
      'truncated inside the fmt chunk',
      good.subarray(0, 30),
      'bad.wav: truncated header: the "fmt " chunk declares 16 bytes but the file ends after 10',
    ],
    [
      'truncated before the data chunk',
      good.subarray(0, 38),
      'bad.wav: no "data" chunk: the file has a header but no audio',
    ],
    [
      'truncated data chunk',
      good.subarray(0, 47),
      'bad.wav: truncated data chunk: it declares 8 bytes but the file ends after 3',
    ],
    [
      'unsupported format code',
      patched(20, 2),
      'bad.wav: unsupported format code 2 (Microsoft ADPCM): only PCM (1) and IEEE float (3) are read',
    ],
    ['zero channels', patched(22, 0), 'bad.wav: invalid header: 0 channels'],
    ['zero sample rate', patched(24, 0, 4), 'bad.wav: invalid header: sample rate 0 Hz'],
    [
      '12-bit PCM',
      patched(34, 12),
      'bad.wav: unsupported PCM sample size: 12 bits (8, 16, 24 or 32 are read)',
    ],
    [
      '16-bit float',
      makeWav({ bits: 16, format: 3, channels: 1, interleaved: [] }),
      'bad.wav: unsupported float sample size: 16 bits',
    ],
  ])('%s', (_what, bytes, message) => {
    expect(() => decodeWav(bytes, 'bad.wav')).toThrow(message);
  });

  it('readWav names the path when the file is missing, a directory, or corrupt', async () => {
    const dir = tempDir('wav');
    const bad = join(dir, 'notes.wav');
    writeFileSync(bad, 'hello');
    await expect(readWav(join(dir, 'missing.wav'))).rejects.toThrow(
      `${join(dir, 'missing.wav')}: no such file`,
    );
    await expect(readWav(dir)).rejects.toThrow(`${dir}: is a directory, not a WAV file`);
    await expect(readWav(bad)).rejects.toThrow(`${bad}: not a WAV file: it starts with "hell"`);
    expect((await readWav(fixturePath('restaurant.wav'))).sampleRate).toBe(16000);
  });
});
