import type { Command } from 'commander';

// Placeholder while the command is written (same session); replaced by the real one.
export function registerSpectrogram(program: Command): void {
  program.command('spectrogram').action(() => {
    throw new Error('spectrogram is not written yet');
  });
}
