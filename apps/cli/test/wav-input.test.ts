import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeWav } from '@hark/dsp';
import { runEvaluate } from '../src/commands/evaluate.js';
import { runFit } from '../src/commands/fit.js';
import { checkWavRates } from '../src/commands/wav-input.js';
import { tempDir } from '../../../test/support/temp.js';

const tmp = tempDir('wav-rate');
const wav = (name: string, rate: number, seconds = 2) => {
  const path = join(tmp, name);
  writeFileSync(path, encodeWav(new Float32Array(Math.round(rate * seconds)).fill(0.1), rate, 's16'));
  return path;
};

describe('WAV sample rates below 8 kHz', () => {
  it('are refused by name, at 8 kHz and above they pass', async () => {
    const ok = [wav('a8k.wav', 8000), wav('a16k.wav', 16000), wav('a48k.wav', 48000)];
    await expect(checkWavRates(ok)).resolves.toBeUndefined();
    // The fuzz's file: a tiny WAV whose header claims 1 Hz (minutes of "audio" from a few bytes).
    const one = wav('one-hertz.wav', 1, 120);
    await expect(checkWavRates([...ok, one])).rejects.toThrow(
      `${one}: sample rate 1 Hz is below the 8000 Hz hark needs; record or convert it at 8000 Hz or more`,
    );
    await expect(checkWavRates([wav('b4k.wav', 4000)])).rejects.toThrow(
      /b4k\.wav: sample rate 4000 Hz is below/,
    );
  });

  it('stop hark fit and hark evaluate before anything is fitted', async () => {
    const dir = join(tmp, 'clips');
    mkdirSync(dir);
    for (let i = 0; i < 4; i++)
      writeFileSync(join(dir, `n${i}.wav`), encodeWav(new Float32Array(32000), 16000, 's16'));
    writeFileSync(join(dir, 'n9.wav'), encodeWav(new Float32Array(8000), 4000, 's16'));
    await expect(runFit(dir, { out: join(tmp, 'model') })).rejects.toThrow(
      /n9\.wav: sample rate 4000 Hz is below/,
    );

    const data = join(tmp, 'dataset');
    const clip = (rate: number) => encodeWav(new Float32Array(rate * 2).fill(0.1), rate, 's16');
    mkdirSync(join(data, 'fan', 'train'), { recursive: true });
    mkdirSync(join(data, 'fan', 'test'));
    for (let i = 0; i < 4; i++) writeFileSync(join(data, 'fan', 'train', `n${i}.wav`), clip(16000));
    writeFileSync(join(data, 'fan', 'train', 'low.wav'), clip(2000));
    for (const name of ['normal_0000', 'anomaly_0000'])
      writeFileSync(join(data, 'fan', 'test', `${name}.wav`), clip(16000));
    await expect(runEvaluate(data, {})).rejects.toThrow(/low\.wav: sample rate 2000 Hz is below/);
  });
});
