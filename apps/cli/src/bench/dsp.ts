import type { Command } from 'commander';

// Placeholder while the benchmark is written (same session); replaced by the real one.
export function registerBenchDsp(bench: Command): void {
  bench.command('dsp').action(() => {
    throw new Error('bench dsp is not written yet');
  });
}
