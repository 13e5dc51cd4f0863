#!/usr/bin/env node
/**
 * CPU per part of one scored window (issue 16), measured apart: the default detector (or `--config`) fitted on
 * a synthetic machine's 12 training clips, then the windows of its 60 s stream scored one at a time, as the live
 * path does, with `process.cpuUsage` (every thread of the process: FAISS's searches run on libuv's pool) around
 * each part. Parts run one after another, so each figure is that part's CPU alone.
 *
 *   node scripts/bench-window-parts.mjs [--machine pump] [--config '{"imageHeight":128}'] [--windows 119]
 *     [--repeat 2] [--root DIR]
 *
 * `--root` is the repository whose built libraries are measured (default this one), so the same script
 * measures a build from before a change.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    machine: { type: 'string', default: 'pump' },
    config: { type: 'string', default: '{}' },
    windows: { type: 'string', default: '119' },
    repeat: { type: 'string', default: '2' },
    root: { type: 'string', default: resolve(import.meta.dirname, '..') },
  },
});
const req = createRequire(join(o.root, 'package.json'));
const det = await import(req.resolve('@hark/detection'));
const dsp = await import(req.resolve('@hark/dsp'));

const tmp = mkdtempSync(join(tmpdir(), 'hark-parts-'));
try {
  dsp.writeSynthDataset(join(tmp, 'synth'), {
    machines: [o.machine],
    trainClips: 12,
    testClips: 0,
    clipSeconds: 5,
    streamSeconds: 60,
  });
  const config = det.resolveDetectorConfig(JSON.parse(o.config));
  const dir = join(tmp, 'synth', `synth_${o.machine}`);
  const train = readdirSync(join(dir, 'train')).filter((f) => f.endsWith('.wav'));
  const clips = await Promise.all(
    train.map((f) => det.readClip(join(dir, 'train', f), config.mel.sampleRate)),
  );
  const detector = await det.fitDetector(clips, config);
  const stream = await det.readClip(join(dir, 'stream.wav'), config.mel.sampleRate);
  const spec = detector.spectrogram(stream);
  const starts = det.windowStarts(spec.nFrames, detector.windowFrames, detector.hopFrames);
  const windows = starts
    .slice(0, Number(o.windows))
    .map((s) => det.copyWindow(spec.data, config.mel.nMels, spec.nFrames, s, detector.windowFrames));

  const cpu = new Map();
  const time = async (name, fn) => {
    const t = process.cpuUsage();
    const r = await fn();
    const d = process.cpuUsage(t);
    cpu.set(name, (cpu.get(name) ?? 0) + (d.user + d.system) / 1000);
    return r;
  };
  const { fitted, extractor, method, parts } = detector;
  const shape = det.mapShape(config);
  let n = 0;
  for (let r = 0; r < Number(o.repeat); r++) {
    // The first pass warms up (JIT, first searches).
    if (r === 1) {
      cpu.clear();
      n = 0;
    }
    for (const w of windows) {
      const std = await time('window standardisation', () => detector.standardised(w));
      const e = await time('backbone (ONNX) and patch features', () =>
        extractor.embed([std], fitted.input, undefined, { standardised: true }),
      );
      const x = det.appendFrequencyPosition(e.data, 1, e.grid, fitted.frequencyScale);
      const s = await time('method search and scoring', () => method.score(x));
      const map = await time('method map (upsample, blur)', () =>
        det.windowAnomalyMap(s.patchScores, fitted.grid, shape),
      );
      const c = parts.context ? await time('context memory', () => parts.context.score(std)) : null;
      const t = parts.tonal ? await time('tonal envelope', () => parts.tonal.score(w)) : null;
      await time('fusion, time share', () => {
        const p = { method: { windowScore: s.windowScore, map }, context: c, tonal: t, modulation: null };
        const f = fitted.fusion ? det.fuseWindow(p, fitted.fusion, config.fusion) : p.method;
        return det.shareTime(f.map, config.mel.nMels, config.timeShare);
      });
      await time('detector.scoreWindow (all of it)', () => detector.scoreWindow(w));
      n++;
    }
  }
  const grid = fitted.grid;
  console.log(
    `${o.machine}, image ${config.imageHeight} x ${config.imageWidth}, grid ${grid.height} x ${grid.width} x ${grid.dim}, ` +
      `method bank ${detector.bankSize}, context bank ${parts.context?.size ?? 0}; ${n} windows, CPU ms per window:`,
  );
  for (const [name, ms] of cpu) console.log(`  ${name.padEnd(36)} ${(ms / n).toFixed(2)}`);
  await detector.release();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
