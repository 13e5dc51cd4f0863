import type { Command } from 'commander';

// Placeholder while the benchmark is written (same session); replaced by the real one.
export function registerBenchKnn(bench: Command): void {
  bench.command('knn').action(() => {
    throw new Error('bench knn is not written yet');
  });
}
