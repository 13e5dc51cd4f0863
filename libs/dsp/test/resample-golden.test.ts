import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Resampler, resample } from '../src/index.js';
import { bitDifference, concat, splitBySizes } from './chunks.js';

/** One case of fixtures/resample/golden.json (written by scripts/make-resample-golden.py). */
interface ResampleCase {
  inRate: number;
  outRate: number;
  halfTaps: number;
  /** scipy's measurement of the same design: least stop-band attenuation, pass-band gain range (dB). */
  stopBandDb: number;
  passBandDb: [number, number];
  input: string;
  output: string;
  outputLength: number;
}

const dir = new URL('./fixtures/resample/', import.meta.url);
const golden: { scipy: string; cases: ResampleCase[] } = JSON.parse(
  readFileSync(new URL('golden.json', dir), 'utf8'),
);
const f32 = (file: string) => {
  const b = readFileSync(new URL(file, dir));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const cases = golden.cases.map((c) => [`${c.inRate} Hz -> ${c.outRate} Hz`, c] as const);

describe(`Resampler against scipy ${golden.scipy} resample_poly with the same filter`, () => {
  const report: string[] = [];
  afterAll(() => console.info(`resample golden max |difference|:\n${report.join('\n')}`));

  it.each(cases)('%s: same design, same output within float32 rounding', (_name, c) => {
    const r = new Resampler(c.inRate, c.outRate);
    expect(r.halfTaps).toBe(c.halfTaps);
    // The design itself, measured by the generator on an 8M-point FFT: the documented response.
    expect(c.stopBandDb).toBeGreaterThanOrEqual(80);
    expect(Math.max(-c.passBandDb[0], c.passBandDb[1])).toBeLessThanOrEqual(0.001);

    const x = f32(c.input);
    const ref = f32(c.output);
    const y = resample(x, c.inRate, c.outRate);
    expect(y.length).toBe(c.outputLength);
    let max = 0;
    for (let i = 0; i < y.length; i++) max = Math.max(max, Math.abs(y[i] - ref[i]));
    report.push(`  ${c.inRate} -> ${c.outRate}: ${max.toExponential(2)}`);
    // Signal peaks ~0.9: the outputs differ by about one float32 rounding (6e-8 relative).
    expect(max).toBeLessThan(1e-6);
  });

  it.each(cases)('%s: 20 ms chunks and odd chunks equal the batch output bitwise', (_name, c) => {
    const x = f32(c.input);
    const batch = resample(x, c.inRate, c.outRate);
    for (const sizes of [[c.inRate / 50], [1, 7, 333, 4097, 10000]]) {
      const r = new Resampler(c.inRate, c.outRate);
      const parts = splitBySizes(x, sizes).map((chunk) => r.push(chunk));
      expect(bitDifference(concat([...parts, r.flush()]), batch)).toBe('same');
    }
  });
});
