import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { writeSynthDataset } from '@hark/dsp';
import { MIN_TRAINING_CLIPS } from '@hark/detection';
import { runFit } from '../src/commands/fit.js';
import { buildProgram } from '../src/program.js';
import { tempDir } from '../../../test/support/temp.js';

// `--help` states every default, and what it states is what the code does.

/** Every command of the tree with its full name ('hark bench knn'). */
function commands(cmd: Command, path = 'hark'): [string, Command][] {
  return [[path, cmd], ...cmd.commands.flatMap((c) => commands(c, `${path} ${c.name()}`))];
}

describe('hark --help', () => {
  it('states the default of every option that takes a value, in every command', () => {
    const missing: string[] = [];
    for (const [name, cmd] of commands(buildProgram())) {
      for (const o of cmd.options) {
        if (!(o.required || o.optional)) continue; // a flag: off unless given
        if (/<out[.>-]/.test(o.flags)) continue; // an output file (--png <out.png>): none unless given
        const stated = o.defaultValue !== undefined || o.mandatory || /\bdefault\b/.test(o.description);
        if (!stated) missing.push(`${name} ${o.flags}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('gives the true minimum number of clips for hark fit', async () => {
    const fit = buildProgram().commands.find((c) => c.name() === 'fit')!;
    let help = '';
    fit.configureOutput({ writeOut: (s) => (help += s) });
    fit.outputHelp();
    expect(help).toContain(`Needs at least ${MIN_TRAINING_CLIPS} clips`);
    const data = tempDir('help');
    writeSynthDataset(data, {
      machines: ['fan'],
      trainClips: MIN_TRAINING_CLIPS - 1,
      testClips: 1,
      clipSeconds: 1,
      streamSeconds: 1,
    });
    await expect(runFit(join(data, 'synth_fan'), { out: join(data, 'model') })).rejects.toThrow(
      `need at least ${MIN_TRAINING_CLIPS} normal training clips`,
    );
  });
});
