import type { Command } from 'commander';
import { registerBenchCluster } from '../bench/cluster.js';
import { registerBenchDsp } from '../bench/dsp.js';
import { registerBenchFalseAlarms } from '../bench/false-alarms.js';
import { registerBenchHistory } from '../bench/history.js';
import { registerBenchKnn } from '../bench/knn.js';
import { registerBenchPipeline } from '../bench/pipeline.js';
import { registerBenchStore } from '../bench/store.js';

/**
 * `hark bench <what>`: measurements written to BENCHMARKS.md with the machine and the command.
 * Each benchmark is a subcommand registered from `../bench/<what>.ts`.
 */
export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description('measure throughput on this machine and record it in BENCHMARKS.md');
  registerBenchDsp(bench);
  registerBenchKnn(bench);
  registerBenchPipeline(bench);
  registerBenchFalseAlarms(bench);
  registerBenchHistory(bench);
  registerBenchCluster(bench);
  registerBenchStore(bench);
}
