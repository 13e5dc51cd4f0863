#!/usr/bin/env node
/**
 * Every numeric field of a saved model's `model.json` (arrays by their first element) set in turn to extreme
 * values; for each, `loadModel` and then a 3 s clip scored, in a child process per field so that a hang or an
 * abort is seen (120 s limit). Writes what happened to OUT: `refused: ...` (the loader's error), `loaded,
 * scored ...` (with the time a clip took) or `loaded, score threw: ...`; a child that did not end cleanly is
 * listed with its status or signal. docs/reliability.md ("A sweep of model.json's numbers") has the findings.
 *
 *   npx hark fit /work/shared/corpus/e03_river --out /tmp/m/e03_river
 *   node scripts/sweep-model-fields.mjs /tmp/m/e03_river /tmp/sweep.txt
 */
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const VALUES = [1e308, -1e308, 0, -1, 2 ** 31, 1e9, 1e-300, 0.5, 3, 1e6];
const [first, ...rest] = process.argv.slice(2);

if (first === '--field') await tryField(rest[0], JSON.parse(rest[1]));
else await sweep(first, rest[0]);

/** The parent: one child per numeric path. */
async function sweep(dir, out) {
  if (!dir || !out) {
    console.error('usage: node scripts/sweep-model-fields.mjs MODEL_DIR OUT');
    process.exit(2);
  }
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const paths = [];
  (function walk(v, p) {
    if (Array.isArray(v)) {
      if (v.length) walk(v[0], [...p, 0]);
    } else if (v && typeof v === 'object') for (const k of Object.keys(v)) walk(v[k], [...p, k]);
    else if (typeof v === 'number' || v === null) paths.push(p);
  })(json, []);
  console.log(`${paths.length} numeric paths, ${VALUES.length} values each; writing ${out}`);
  writeFileSync(out, '');
  const self = fileURLToPath(import.meta.url);
  for (const p of paths) {
    const r = spawnSync(
      process.execPath,
      ['--max-old-space-size=3000', self, '--field', resolve(dir), JSON.stringify(p)],
      { encoding: 'utf8', timeout: 120_000 },
    );
    const clean = r.status === 0 && r.signal === null;
    appendFileSync(
      out,
      `== ${JSON.stringify(p)}${clean ? '' : ` NOT CLEAN: status ${r.status} signal ${r.signal}`}\n${r.stdout}` +
        (clean ? '' : `stderr: ${(r.stderr ?? '').slice(-600)}\n`),
    );
    if (!clean) console.log(`${JSON.stringify(p)}: status ${r.status}, signal ${r.signal}`);
  }
  console.log('done');
}

/** A child: every value at one path, each logged before it is tried. */
async function tryField(dir, path) {
  const { loadModel } = await import('@hark/detection');
  const base = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  for (const v of VALUES) {
    const json = JSON.parse(JSON.stringify(base));
    let o = json;
    for (const k of path.slice(0, -1)) o = o[k];
    o[path[path.length - 1]] = v;
    const tmp = mkdtempSync(join(tmpdir(), 'hark-sweep-'));
    for (const f of readdirSync(dir)) if (f !== 'model.json') symlinkSync(join(dir, f), join(tmp, f));
    writeFileSync(join(tmp, 'model.json'), JSON.stringify(json));
    process.stdout.write(`TRY ${JSON.stringify(path)} = ${v}\n`);
    try {
      const det = await loadModel(tmp).catch((err) => {
        process.stdout.write(`  refused: ${String(err.message).slice(0, 200)}\n`);
        return null;
      });
      if (!det) continue;
      try {
        const n = Math.min(5e7, Math.round(3 * det.config.mel.sampleRate));
        const clip = new Float32Array(n);
        for (let i = 0; i < n; i++) clip[i] = 0.1 * Math.sin(i * 0.05) + 0.01 * (Math.random() - 0.5);
        const t = Date.now();
        const r = await det.scoreClip(clip);
        process.stdout.write(
          `  loaded, scored: normalised ${r.normalised.toFixed(3)} in ${Date.now() - t} ms\n`,
        );
      } catch (err) {
        process.stdout.write(`  loaded, score threw: ${String(err.message).slice(0, 200)}\n`);
      } finally {
        await det.release();
      }
    } finally {
      rmSync(tmp, { recursive: true });
    }
  }
}
