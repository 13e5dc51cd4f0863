#!/usr/bin/env node
/**
 * Memory held by loaded models (issue 16: server RSS < 2 GB with 64 sensors' models loaded). The default
 * detector (or `--config`) is fitted on the synthetic machines' 12 training clips each and saved; a fresh
 * process then loads `--models` copies of them (model i is machine i % 3, as `hark bench pipeline` assigns
 * them), scores one window with each (so every lazily built part exists), and reports
 * `process.memoryUsage()` (RSS, V8 heap, external, arrayBuffers) after a full GC at each count in `--steps`.
 *
 *   node --expose-gc scripts/bench-model-memory.mjs [--models 64] [--steps 1,8,16,32,64] [--config '{}']
 *     [--root DIR] [--keep DIR]
 *
 * `--root` is the repository whose built libraries are measured (default this one), so the same script
 * measures a build from before a change; `--keep DIR` fits into DIR once and reuses it on later runs.
 */
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { fitSynthModels, MACHINES } from './synth-models.mjs';

const { values: o } = parseArgs({
  options: {
    models: { type: 'string', default: '64' },
    steps: { type: 'string', default: '1,8,16,32,64' },
    config: { type: 'string', default: '{}' },
    root: { type: 'string', default: resolve(import.meta.dirname, '..') },
    keep: { type: 'string' },
    child: { type: 'string' },
  },
});
const req = createRequire(join(o.root, 'package.json'));
const det = await import(req.resolve('@hark/detection'));
const dsp = await import(req.resolve('@hark/dsp'));
const MB = (b) => Math.round(b / 2 ** 20);

if (o.child) {
  // The measuring process: nothing fitted or synthesised in it, only loading and scoring.
  const gc = globalThis.gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const steps = o.steps.split(',').map(Number);
  const count = Number(o.models);
  const models = join(o.child, 'model');
  const stream = await det.readClip(join(o.child, 'synth', 'synth_pump', 'stream.wav'), 16000);
  const rows = [];
  const measure = async (loaded) => {
    gc();
    await sleep(300);
    gc();
    const m = process.memoryUsage();
    rows.push({
      loaded,
      rss: MB(m.rss),
      heapUsed: MB(m.heapUsed),
      external: MB(m.external),
      arrayBuffers: MB(m.arrayBuffers),
    });
  };
  await measure(0);
  const detectors = [];
  for (let i = 0; i < count; i++) {
    const d = await det.loadModel(join(models, MACHINES[i % MACHINES.length]));
    const spec = d.spectrogram(stream);
    const window = det.copyWindow(spec.data, d.config.mel.nMels, spec.nFrames, 0, d.windowFrames);
    await d.scoreWindow(window);
    detectors.push(d);
    if (steps.includes(i + 1)) await measure(i + 1);
  }
  process.send(rows);
  for (const d of detectors) await d.release();
  process.exit(0);
}

const dir = o.keep ? resolve(o.keep) : mkdtempSync(join(tmpdir(), 'hark-model-memory-'));
try {
  await fitSynthModels({ det, dsp, dir, config: JSON.parse(o.config) });
  const sizes = MACHINES.map((m) => {
    const files = readdirSync(join(dir, 'model', m));
    const bytes = Number(
      execFileSync('du', ['-sb', join(dir, 'model', m)])
        .toString()
        .split('\t')[0],
    );
    return `${m} ${MB(bytes)} MB (${files.join(', ')})`;
  });
  console.log(`models on disk: ${sizes.join('; ')}`);
  const { fork } = await import('node:child_process');
  const rows = await new Promise((resolvePromise, reject) => {
    const child = fork(
      import.meta.filename,
      ['--child', dir, '--models', o.models, '--steps', o.steps, '--root', o.root],
      {
        execArgv: ['--expose-gc'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    let result = null;
    child.on('message', (m) => (result = m));
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolvePromise(result) : reject(new Error(`child exited ${code}`))));
  });
  console.log('| models loaded | RSS MB | V8 heap used MB | external MB | arrayBuffers MB |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows)
    console.log(`| ${r.loaded} | ${r.rss} | ${r.heapUsed} | ${r.external} | ${r.arrayBuffers} |`);
  const first = rows.find((r) => r.loaded === 1);
  const last = rows.at(-1);
  if (first && last !== first)
    console.log(
      `per model (${first.loaded} to ${last.loaded}): RSS ${((last.rss - first.rss) / (last.loaded - first.loaded)).toFixed(1)} MB`,
    );
} finally {
  if (!o.keep) rmSync(dir, { recursive: true, force: true });
}
