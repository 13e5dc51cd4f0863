#!/usr/bin/env node
/**
 * CPU of a server that holds models and has no sensor connected: what watching the models costs (the model
 * watcher's look at each model folder and the database pull before it, every `modelPollMs`), besides timers.
 * `--models` copies of the synthetic pump, fan and gearbox models (fitted as `bench-model-memory.mjs` fits
 * them, or reused from `--keep DIR`, the same layout) are put in a fresh data directory's `models/`; a server
 * (`createServer`, SQLite, the defaults) starts on it, waits `--settle` s for the models to load, then the
 * process's CPU (user + system, `process.cpuUsage`) is measured over `--seconds`, `--rounds` times.
 *
 *   node scripts/bench-idle-server.mjs [--models 64] [--seconds 60] [--settle 20] [--rounds 2]
 *     [--keep DIR] [--root REPO]
 *
 * `--root` is the repository whose built server is measured (default this one), so the same script measures
 * a build from before a change.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fitSynthModels, MACHINES } from './synth-models.mjs';

const { values: o } = parseArgs({
  options: {
    models: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '60' },
    settle: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '2' },
    keep: { type: 'string' },
    root: { type: 'string', default: resolve(import.meta.dirname, '..') },
  },
});
const req = createRequire(join(o.root, 'apps', 'cli', 'package.json'));
const det = await import(req.resolve('@hark/detection'));
const dsp = await import(req.resolve('@hark/dsp'));
const { createServer } = await import(req.resolve('@hark/server'));

const work = o.keep ? resolve(o.keep) : mkdtempSync(join(tmpdir(), 'hark-idle-server-'));
const data = mkdtempSync(join(tmpdir(), 'hark-idle-server-data-'));
try {
  await fitSynthModels({ det, dsp, dir: work, config: {} });
  const count = Number(o.models);
  for (let i = 0; i < count; i++)
    cpSync(join(work, 'model', MACHINES[i % MACHINES.length]), join(data, 'models', `sensor-${i}`), {
      recursive: true,
    });
  const server = await createServer({ dataDir: data, port: 0, host: '127.0.0.1', log: () => {} });
  await sleep(Number(o.settle) * 1000);
  for (let round = 1; round <= Number(o.rounds); round++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(Number(o.seconds) * 1000);
    const c = process.cpuUsage(c0);
    const s = (performance.now() - t0) / 1000;
    const ms = (us) => Math.round((us / 1000 / s) * 100) / 100;
    console.log(
      JSON.stringify({
        round,
        models: count,
        seconds: Math.round(s * 10) / 10,
        cpuMsPerSecond: ms(c.user + c.system),
        user: ms(c.user),
        system: ms(c.system),
      }),
    );
  }
  await server.close();
} finally {
  rmSync(data, { recursive: true, force: true });
  if (!o.keep) rmSync(work, { recursive: true, force: true });
}
process.exit(0);
