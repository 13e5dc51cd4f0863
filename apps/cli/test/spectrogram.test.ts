import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeWav, logMelSpectrogram, readWav } from '@hark/dsp';
import {
  computeSpectrogram,
  spectrogramJson,
  summary,
  type SpectrogramOptions,
} from '../src/commands/spectrogram.js';
import { CORPUS, corpusOrWarn } from '../../../test/support/corpus.js';
import { tempDir } from '../../../test/support/temp.js';

const root = new URL('../../../', import.meta.url).pathname;
const bin = join(root, 'apps/cli/bin/hark.js');
const river = join(root, 'libs/dsp/test/fixtures/river.wav');
const defaults: SpectrogramOptions = {
  nFft: 1024,
  hopLength: 256,
  nMels: 128,
  fMin: 0,
  sampleRate: 16000,
  topDb: 80,
};
const tmp = tempDir('spectrogram');

/** A 48 kHz float WAV: 1 s of a 300 Hz tone (low band) with a 5 kHz tone in its second half. */
function toneWav(): string {
  const x = Float32Array.from(
    { length: 48000 },
    (_, i) =>
      0.5 * Math.sin((2 * Math.PI * 300 * i) / 48000) +
      (i >= 24000 ? 0.3 * Math.sin((2 * Math.PI * 5000 * i) / 48000) : 0),
  );
  const path = join(tmp, 'tones-48k.wav');
  writeFileSync(path, encodeWav(x, 48000, 'f32'));
  return path;
}

describe('spectrogram command (in process)', () => {
  it('gives the documented JSON shape: nMels rows of frames dB values, equal to the library', async () => {
    const result = await computeSpectrogram(river, defaults);
    const doc = JSON.parse(spectrogramJson(result.spectrogram));
    expect(Object.keys(doc)).toEqual(['sampleRate', 'nFft', 'hopLength', 'nMels', 'frames', 'data']);
    expect(doc).toMatchObject({ sampleRate: 16000, nFft: 1024, hopLength: 256, nMels: 128, frames: 309 });
    expect(doc.data).toHaveLength(128);
    for (const row of doc.data) expect(row).toHaveLength(309);
    const lib = logMelSpectrogram((await readWav(river)).samples);
    expect(doc.data[5][17]).toBeCloseTo(lib.data[5 * 309 + 17], 4);
    expect(summary(river, result)).toContain('river.wav: 5.00 s, 1 channel, 16000 Hz, 16-bit PCM');
  });

  it('resamples to --sample-rate first and honours the band options', async () => {
    const { wav, spectrogram: s } = await computeSpectrogram(toneWav(), {
      ...defaults,
      nMels: 40,
      fMin: 50,
      fMax: 7000,
    });
    expect(wav.sampleRate).toBe(48000);
    expect([s.nMels, s.nFrames, s.params.fMax]).toEqual([40, Math.floor((16000 - 1024) / 256) + 1, 7000]);
    expect(summary('t.wav', { wav, spectrogram: s })).toContain('(resampled to 16000 Hz)');
  });

  it('names the flags in parameter errors, before reading the file', async () => {
    await expect(computeSpectrogram('missing.wav', { ...defaults, fMax: 9000 })).rejects.toThrow(
      '--f-max (9000) must be <= --sample-rate / 2 (8000)',
    );
    await expect(computeSpectrogram('missing.wav', { ...defaults, nFft: 1000 })).rejects.toThrow(
      '--n-fft (1000) must be a power of two',
    );
    await expect(computeSpectrogram('missing.wav', { ...defaults, nFft: 128, nMels: 128 })).rejects.toThrow(
      '--n-mels (128) must be <= --n-fft / 2 + 1 (65)',
    );
    await expect(computeSpectrogram('missing.wav', defaults)).rejects.toThrow('missing.wav: no such file');
  });
});

describe('hark spectrogram (built CLI)', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [bin, 'spectrogram', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

  beforeAll(() => {
    const built = join(root, 'apps/cli/dist/commands/spectrogram.js');
    if (!existsSync(built))
      throw new Error('the CLI is not built: run `npm run build` at the repository root first');
    const src = join(root, 'apps/cli/src/commands/spectrogram.ts');
    if (statSync(src).mtimeMs > statSync(built).mtimeMs)
      throw new Error('the built CLI is older than its source: run `npm run build`');
  });

  it('--json prints the spectrogram', () => {
    const r = run(river, '--json', '--n-mels', '64');
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect([doc.nMels, doc.frames, doc.data.length, doc.data[0].length]).toEqual([64, 309, 64, 309]);
  });

  it('--png writes frames x nMels pixels with low frequencies at the bottom', () => {
    const out = join(tmp, 'tones.png');
    const r = run(toneWav(), '--png', out, '--n-mels', '64');
    expect(r.status, r.stderr).toBe(0);
    const png = PNG.sync.read(readFileSync(out));
    expect([png.width, png.height]).toEqual([59, 64]);
    const brightness = (x: number, y: number) =>
      png.data[4 * (y * png.width + x)] + png.data[4 * (y * png.width + x) + 1];
    const brightestRow = (x: number) =>
      [...Array(64).keys()].reduce((b, y) => (brightness(x, y) > brightness(x, b) ? y : b), 0);
    expect(brightestRow(5)).toBeGreaterThan(48); // 300 Hz: near the bottom
    const late = [...Array(64).keys()].filter((y) => brightness(50, y) > 350);
    expect(late.some((y) => y < 25)).toBe(true); // 5 kHz in the second half: near the top
    expect([...Array(25).keys()].some((y) => brightness(5, y) > 350)).toBe(false);
  });

  it('prints a summary by default and --help documents the options', () => {
    expect(run(river).stdout).toMatch(
      /^river\.wav: 5\.00 s, 1 channel, 16000 Hz, 16-bit PCM\nlog-mel: 128 mel bands x 309 frames/,
    );
    const help = run('--help').stdout;
    for (const flag of [
      '--n-fft',
      '--hop-length',
      '--n-mels',
      '--f-min',
      '--f-max',
      '--sample-rate',
      '--json',
      '--png',
    ])
      expect(help).toContain(flag);
  });

  it('exits 1 with one clear line for a corrupt WAV, a bad number or a bad combination', () => {
    const corrupt = join(tmp, 'corrupt.wav');
    writeFileSync(corrupt, readFileSync(river).subarray(0, 30));
    let r = run(corrupt);
    expect([r.status, r.stdout]).toEqual([1, '']);
    expect(r.stderr.trim()).toBe(
      `hark: ${corrupt}: truncated header: the "fmt " chunk declares 16 bytes but the file ends after 10`,
    );
    r = run(river, '--hop-length', 'ten');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "error: option '--hop-length <n>' argument 'ten' is invalid. 'ten' is not a positive whole number",
    );
    r = run(river, '--f-max', '9000');
    expect([r.status, r.stderr.trim()]).toEqual([
      1,
      'hark: --f-max (9000) must be <= --sample-rate / 2 (8000)',
    ]);
  });
});

const corpus = CORPUS;
const hasCorpus = corpusOrWarn('spectrogram.test.ts (hark spectrogram on every corpus WAV)');

describe.skipIf(!hasCorpus)('hark spectrogram on every WAV of the development corpus', () => {
  it('decodes each file and gives a finite 128-band spectrogram', async () => {
    const files = spawnSync('find', [corpus, '-name', '*.wav'], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .sort();
    expect(files.length).toBeGreaterThan(300);
    for (const file of files) {
      const { wav, spectrogram } = await computeSpectrogram(file, defaults);
      const doc = JSON.parse(spectrogramJson(spectrogram));
      expect(doc.nMels, file).toBe(128);
      expect(doc.frames, file).toBe(Math.floor((wav.samples.length - 1024) / 256) + 1);
      expect(spectrogram.data.every(Number.isFinite), file).toBe(true);
    }
  });
});
