import { resolve } from 'node:path';
import type { Command } from 'commander';
import { MACHINE_VOICES, writeSynthDataset, type MachineName } from '@hark/dsp';
import { nonNegativeNumber, positiveInt, positiveNumber } from '../options.js';

/** `hark synth DIR`: a synthetic dataset in the DATASET.md layout (demo sensors and self-contained tests). */
export function registerSynth(program: Command): void {
  const names = Object.keys(MACHINE_VOICES);
  program
    .command('synth')
    .description('write a synthetic machine-sound dataset (train/test clips with ground truth, and a stream)')
    .argument('<dir>', 'output folder (created)')
    .option('--machines <list>', `comma-separated machines (${names.join(', ')})`, names.join(','))
    .option('--train <n>', 'normal training clips per machine', positiveInt, 10)
    .option('--test <n>', 'normal and anomalous test clips per machine (each)', positiveInt, 8)
    .option('--seconds <s>', 'clip length in seconds', positiveNumber, 5)
    .option('--stream-seconds <s>', 'length of stream.wav in seconds', positiveNumber, 60)
    .option('--anomaly-every <s>', "seconds between the stream's anomalies", positiveNumber, 12)
    .option(
      '--first-anomaly <s>',
      "onset of the stream's first anomaly in seconds (default: --anomaly-every)",
      nonNegativeNumber,
    )
    .option('--sample-rate <hz>', 'sample rate in Hz', positiveInt, 16000)
    .option('--seed <n>', 'random seed (same seed, same files)', positiveInt, 7)
    .action((dir: string, o) => {
      const machines = String(o.machines)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const m of machines) {
        if (!(m in MACHINE_VOICES))
          throw new Error(`unknown machine '${m}'; choose from ${names.join(', ')}`);
      }
      const root = resolve(dir);
      const { groups } = writeSynthDataset(root, {
        machines: machines as MachineName[],
        trainClips: o.train,
        testClips: o.test,
        clipSeconds: o.seconds,
        streamSeconds: o.streamSeconds,
        anomalyEverySeconds: o.anomalyEvery,
        firstAnomalySeconds: o.firstAnomaly,
        sampleRate: o.sampleRate,
        seed: o.seed,
      });
      console.log(`wrote ${groups.length} groups (${groups.join(', ')}) to ${root}`);
    });
}
