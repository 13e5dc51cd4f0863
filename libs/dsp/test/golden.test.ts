import { afterAll, describe, expect, it } from 'vitest';
import { LogMelExtractor, logMelSpectrogram, transpose } from '../src/index.js';
import { golden, goldenInput, readF32 } from './fixtures.js';

/** Largest |ours - reference| in dB over the cells where the reference is above `floorDb`. */
function maxDifference(
  ours: Float32Array,
  ref: Float32Array,
  floorDb: number,
): { max: number; cells: number } {
  let max = 0;
  let cells = 0;
  for (let i = 0; i < ref.length; i++) {
    if (ref[i] <= floorDb) continue;
    cells++;
    max = Math.max(max, Math.abs(ours[i] - ref[i]));
  }
  return { max, cells };
}

describe(`log-mel spectrogram against torchaudio ${golden.torchaudio}`, () => {
  const report: string[] = [];
  afterAll(() => console.info(`golden max |difference| (dB, reference > -80 dB):\n${report.join('\n')}`));

  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const ref = readF32(c.output);
    const spec = logMelSpectrogram(goldenInput(c), c.params);
    expect([spec.nMels, spec.nFrames]).toEqual([c.nMels, c.nFrames]);
    const { max, cells } = maxDifference(spec.data, ref, -80);
    report.push(`  ${c.name.padEnd(24)} ${max.toExponential(2)} over ${cells} cells`);
    expect(cells).toBeGreaterThan(ref.length / 20);
    expect(max).toBeLessThanOrEqual(0.01);
    // Cells at the floor agree on being (near) the floor.
    for (let i = 0; i < ref.length; i++) if (ref[i] <= -99.99) expect(spec.data[i]).toBeLessThan(-80);
  });

  it.each(golden.cases.filter((c) => !c.params.center).map((c) => [c.name, c] as const))(
    'streaming extractor in 997-sample chunks equals the batch output bitwise: %s',
    (_name, c) => {
      const x = goldenInput(c);
      const batch = logMelSpectrogram(x, c.params);
      const extractor = new LogMelExtractor(c.params);
      const columns: number[] = [];
      for (let i = 0; i < x.length; i += 997) columns.push(...extractor.push(x.subarray(i, i + 997)));
      expect(transpose(Float32Array.from(columns), batch.nFrames, batch.nMels)).toEqual(batch.data);
    },
  );
});
