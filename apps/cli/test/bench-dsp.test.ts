import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dspBenchTable, runDspBench } from '../src/bench/dsp.js';
import { writeBenchmarkSection } from '../src/bench/report.js';
import { tempDir } from '../../../test/support/temp.js';

describe('bench dsp', () => {
  it('measures every configuration and writes a Markdown table section', () => {
    const rows = runDspBench({ seconds: 1, repeats: 1 });
    expect(rows.map((r) => [r.name, r.chunk])).toEqual([
      ['log-mel, default params', 'whole signal'],
      ['log-mel, default params', '20 ms (320 samples)'],
      ['resample 48 kHz -> 16 kHz + log-mel', '20 ms (960 samples)'],
      ['resample 48 kHz -> 16 kHz only', '20 ms (960 samples)'],
      ["resample 48 kHz -> 16 kHz only, pass band 0.95 (the server's)", '20 ms (960 samples)'],
      ['resample 44.1 kHz -> 16 kHz only', '20 ms (882 samples)'],
    ]);
    for (const r of rows) {
      expect(r.audioSeconds).toBe(1);
      expect(r.wallSeconds).toBeGreaterThan(0);
      expect(r.cpuSeconds).toBeGreaterThanOrEqual(0);
    }
    const table = dspBenchTable(rows);
    expect(table.split('\n')).toHaveLength(8);
    expect(table).toMatch(
      /^\| configuration \| chunk \| audio \(s\) \| wall \(s\) \| CPU \(s\) \| real time \(wall\) \| real time \(CPU\) \|/,
    );
    expect(table).toMatch(
      /\| log-mel, default params \| 20 ms \(320 samples\) \| 1 \| \d+\.\d{3} \| \d+\.\d{3} \| \d+x \|/,
    );
    const path = join(tempDir('bench'), 'BENCHMARKS.md');
    writeBenchmarkSection('dsp', 'DSP', table, path);
    expect(readFileSync(path, 'utf8')).toContain(table);
  });
});
