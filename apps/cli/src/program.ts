import { Command } from 'commander';
import { registerBackup } from './commands/backup.js';
import { registerBench } from './commands/bench.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerFit } from './commands/fit.js';
import { registerScore } from './commands/score.js';
import { registerServe } from './commands/serve.js';
import { registerSensor } from './commands/sensor.js';
import { registerSpectrogram } from './commands/spectrogram.js';
import { registerSynth } from './commands/synth.js';

/** The `hark` command tree. Each command lives in `commands/<name>.ts` and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('hark')
    .description('hark: real-time acoustic anomaly monitoring')
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });
  registerSpectrogram(program);
  registerSynth(program);
  registerBench(program);
  registerFit(program);
  registerScore(program);
  registerEvaluate(program);
  registerServe(program);
  registerSensor(program);
  registerBackup(program);
  return program;
}
