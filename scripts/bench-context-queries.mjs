#!/usr/bin/env node
/**
 * The context memory's queries on real data (issue 16): a saved model's context memory searched with every
 * window of a dataset group's test clips, as the live path does, one window at a time. Prints the memory's rows
 * and the CPU per window of its search (`process.cpuUsage`: every thread of the process, FAISS's search runs on
 * libuv's pool; the first 6 windows warm up), and writes the windows' query contexts (`[rows, nMels * frames]`
 * float32) to OUT for `scripts/bench-context-bound.py`. The loaded memory searches through the bounded search
 * when the model has one (`bounded`); the same windows are also scored by a flat copy of the memory, in the same
 * run, interleaved, and the two must give the same scores and maps to the bit (`flatCpuMsPerWindow`,
 * `identical`).
 *
 *   npx hark fit /work/shared/corpus/e03_river --out /tmp/m/e03_river
 *   node scripts/bench-context-queries.mjs /tmp/m/e03_river /work/shared/corpus/e03_river /tmp/e03_river.q.f32
 */
import { createRequire } from 'node:module';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [modelDir, groupDir, out] = process.argv.slice(2);
if (!modelDir || !groupDir || !out) {
  console.error('usage: node scripts/bench-context-queries.mjs MODEL_DIR GROUP_DIR OUT.f32');
  process.exit(2);
}
const req = createRequire(join(resolve(import.meta.dirname, '..'), 'package.json'));
const det = await import(req.resolve('@hark/detection'));
const detector = await det.loadModel(modelDir);
const ctx = detector.parts.context;
if (!ctx) {
  console.error(
    `${modelDir}: the model has no context memory (contextFrames 0); fit one with the default config`,
  );
  process.exit(2);
}
const { nMels, frames } = ctx;
// The memory's decoded vectors held as they are (float32): a uint8 copy would take its ranges again from the
// decoded values and hold other vectors, so its answers would differ from the bounded search's by design.
const flat = new det.ContextMemory(nMels, frames, ctx.baseBank, { storage: 'float32' });
let flatCpu = 0;
let identical = true;
const files = readdirSync(join(groupDir, 'test')).filter((f) => f.endsWith('.wav'));
const chunks = [];
const warm = 6;
let cpu = 0;
let windows = 0;
for (const f of files) {
  const clip = await det.readClip(join(groupDir, 'test', f), detector.config.mel.sampleRate);
  const spec = detector.spectrogram(clip);
  for (const s of det.windowStarts(spec.nFrames, detector.windowFrames, detector.hopFrames)) {
    const std = await detector.standardised(
      det.copyWindow(spec.data, nMels, spec.nFrames, s, detector.windowFrames),
    );
    const t = process.cpuUsage();
    const a = await ctx.score(std);
    const d = process.cpuUsage(t);
    const b = await flat.score(std);
    const e = process.cpuUsage(t);
    if (windows >= warm) {
      cpu += (d.user + d.system) / 1000;
      flatCpu += (e.user + e.system - d.user - d.system) / 1000;
    }
    identical &&=
      a.windowScore === b.windowScore && Buffer.from(a.map.buffer).equals(Buffer.from(b.map.buffer));
    windows++;
    chunks.push(det.contextsOf([std], nMels, frames));
  }
}
const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
chunks.reduce((at, c) => (all.set(c, at), at + c.length), 0);
writeFileSync(out, Buffer.from(all.buffer));
console.log(
  JSON.stringify({
    modelDir,
    windows,
    memoryRows: ctx.size,
    queries: all.length / ctx.dim,
    bounded: ctx.bounded,
    searchCpuMsPerWindow: +(cpu / (windows - warm)).toFixed(2),
    flatCpuMsPerWindow: +(flatCpu / (windows - warm)).toFixed(2),
    identical,
  }),
);
