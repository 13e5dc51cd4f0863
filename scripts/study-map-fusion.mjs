#!/usr/bin/env node
/**
 * How the parts' window maps become the clip's anomaly map, measured offline (BENCHMARKS.md, issue 13,
 * "A window under the threshold lends its map its score"). For each group of a dataset: fit the default
 * detector (with the held-out windows' method maps kept), score every test clip's windows into their parts
 * once, cache both, then build the clip maps of each variant from the cached parts and report the pixel
 * metrics: pixelAuc and aupro per group and their mean, and each fault kind's pixelAuc (its clips' cells
 * against the group's normal clips' cells). Window scores are the detector's in every variant: only the map
 * changes.
 *
 *   node scripts/study-map-fusion.mjs ../shared/corpus [--cache DIR] [variant ...]
 *
 * The cache (default: a directory under the system's temp directory) holds about 500 MB for the development
 * corpus; a second run reads it instead of fitting again.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import {
  copyWindow,
  fitDetector,
  frameCentreTimes,
  fuseWindow,
  groundTruthMask,
  melBinCentres,
  OverlapAverager,
  PixelMetricAccumulator,
  readClip,
  readDataset,
  resolveDetectorConfig,
  shareTime,
  windowGate,
  windowStarts,
} from '@hark/detection';

const PARTS = ['method', 'context', 'tonal', 'modulation', 'impulse'];
const KINDS = ['tone', 'impacts', 'modulation', 'speed', 'dropout'];

const args = process.argv.slice(2);
const root = args.shift();
if (!root) throw new Error('usage: study-map-fusion.mjs <dataset> [--cache DIR] [variant ...]');
let cache = join(tmpdir(), 'hark-study-map-fusion');
const at = args.indexOf('--cache');
if (at >= 0) [, cache] = args.splice(at, 2);
mkdirSync(cache, { recursive: true });

/** What a variant needs of a window's parts: each part's score and map (the modulation's comodulation too). */
const strip = (p) =>
  Object.fromEntries(
    PARTS.map((k) => [
      k,
      p[k]
        ? {
            windowScore: p[k].windowScore,
            map: p[k].map,
            ...(k === 'modulation' && { comodulation: p[k].comodulation }),
          }
        : null,
    ]),
  );

/** Fits `group` and scores its test clips into parts, or reads them from the cache. */
async function parts(group) {
  const file = join(cache, `${group.name}.bin`);
  if (existsSync(file)) return deserialize(readFileSync(file));
  // rowCalibration only makes the held-out folds keep the method's maps; the maps below do not use its levels.
  const config = resolveDetectorConfig({ rowCalibration: true });
  const sr = config.mel.sampleRate;
  const train = await Promise.all(group.train.map((p) => readClip(p, sr)));
  let held = [];
  const d = await fitDetector(train, config, undefined, (h) => {
    held = [...h.values()].map((ws) => ws.map(strip));
  });
  try {
    const { mel } = config;
    const freqs = melBinCentres(mel.nMels, mel.fMin, mel.fMax, mel.melScale === 'htk');
    const test = [];
    for (const clip of group.test) {
      const spec = d.spectrogram(await readClip(clip.path, sr));
      const starts = windowStarts(spec.nFrames, d.windowFrames, d.hopFrames);
      const ws = starts.map((s) => copyWindow(spec.data, spec.nMels, spec.nFrames, s, d.windowFrames));
      const mask =
        clip.label === 'anomaly' && clip.groundTruth
          ? groundTruthMask(clip.groundTruth.events, {
              frameTimes: frameCentreTimes(spec.nFrames, mel),
              melFrequencies: freqs,
            })
          : null;
      const ps = (await d.scoreParts(ws)).map(strip);
      const gt = clip.groundTruth;
      const kind = gt ? (gt.type === 'event' ? 'event' : gt.type) : null;
      test.push({ label: clip.label, kind, mask, starts, nFrames: spec.nFrames, parts: ps });
    }
    const out = {
      name: group.name,
      nMels: mel.nMels,
      wf: d.windowFrames,
      timeShare: config.timeShare,
      fusion: d.fitted.fusion,
      held,
      test,
    };
    writeFileSync(file, serialize(out));
    return out;
  } finally {
    await d.release();
  }
}

/**
 * Each part's upper-tail score -ln P(X >= x) under its held-out normal cells: the empirical tail up to the
 * 0.99 quantile, an exponential tail (the mean excess) past it.
 */
function tails(D) {
  const out = {};
  for (const part of PARTS) {
    const v = [];
    for (const ws of D.held)
      for (const p of ws) if (p[part]) for (let i = 0; i < p[part].map.length; i += 7) v.push(p[part].map[i]);
    if (!v.length) continue;
    const s = Float32Array.from(v).sort();
    const n = s.length;
    const ui = Math.floor(0.99 * n);
    const u = s[ui];
    let excess = 0;
    let over = 0;
    for (let i = ui; i < n; i++) if (s[i] > u) [excess, over] = [excess + s[i] - u, over + 1];
    const beta = over ? excess / over : 1;
    out[part] = (x) => {
      if (x > u) return -Math.log((n - ui) / n) + (x - u) / beta;
      let [lo, hi] = [0, n];
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (s[mid] < x) lo = mid + 1;
        else hi = mid;
      }
      return -Math.log((n - lo) / n);
    };
  }
  return out;
}

/** The fused map as the detector builds it (`fuseWindow`, then the time share). */
const fused = (share) => (p, D) => shareTime(fuseWindow(p, D.fusion, 'levels').map, D.nMels, share);

/** Each part's map on its tail score, the cell-wise largest, then the time share. */
const tailMax = (p, D, t) => {
  const map = new Float32Array(p.method.map.length);
  for (const part of PARTS)
    if (p[part]) for (let i = 0; i < map.length; i++) map[i] = Math.max(map[i], t[part](p[part].map[i]));
  return shareTime(map, D.nMels, D.timeShare);
};

/** `base`'s map times `f` of the window's fused score (the threshold is 1 in rule 'levels'). */
const times = (base, f) => (p, D, t) => {
  const map = base(p, D, t);
  const k = f(fuseWindow(p, D.fusion, 'levels').windowScore);
  for (let i = 0; i < map.length; i++) map[i] *= k;
  return map;
};

const VARIANTS = {
  'fused (before)': (p, D) => fused(D.timeShare)(p, D),
  'fused x gate (after)': times((p, D) => fused(D.timeShare)(p, D), windowGate),
  'fused x score': times(
    (p, D) => fused(D.timeShare)(p, D),
    (w) => w,
  ),
  'fused x min(score, 2)': times(
    (p, D) => fused(D.timeShare)(p, D),
    (w) => Math.min(2, w),
  ),
  'fused x sqrt(gate)': times(
    (p, D) => fused(D.timeShare)(p, D),
    (w) => Math.sqrt(windowGate(w)),
  ),
  'fused x gate, share 0': times(fused(0), windowGate),
  'fused x gate, share 0.4': times(fused(0.4), windowGate),
  'fused x gate, share 0.8': times(fused(0.8), windowGate),
  'tail scores': tailMax,
  'tail scores x gate': times(tailMax, windowGate),
  'tail scores x score': times(tailMax, (w) => w),
};

const names = args.length ? args : Object.keys(VARIANTS);
for (const n of names)
  if (!VARIANTS[n]) throw new Error(`no variant '${n}'; the variants: ${Object.keys(VARIANTS).join(', ')}`);
const results = new Map(names.map((n) => [n, { groups: [], kinds: {} }]));
for (const group of await readDataset(root)) {
  const D = await parts(group);
  const t = tails(D);
  for (const n of names) {
    const clips = D.test.map((c) => {
      const avg = new OverlapAverager(D.nMels, c.nFrames);
      c.parts.forEach((p, i) => avg.add(c.starts[i], VARIANTS[n](p, D, t), D.wf));
      return { ...c, map: avg.result() };
    });
    const all = new PixelMetricAccumulator();
    const normal = clips.filter((c) => c.label === 'normal');
    for (const c of clips) if (c.label === 'normal' || c.mask) all.update(c.map, c.mask, D.nMels, c.nFrames);
    const r = results.get(n);
    r.groups.push({ name: D.name, ...all.compute() });
    for (const kind of new Set(clips.filter((c) => c.mask).map((c) => c.kind))) {
      const k = new PixelMetricAccumulator();
      for (const c of [...normal, ...clips.filter((x) => x.mask && x.kind === kind)])
        k.update(c.map, c.mask, D.nMels, c.nFrames);
      (r.kinds[kind] ??= []).push(k.compute().pixelAuc);
    }
  }
  console.error(`${D.name} done`);
}
const f3 = (x) => x.toFixed(3);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const kinds = [...KINDS, 'event'];
console.log(`| variant | pixelAuc | aupro | ${kinds.join(' | ')} |`);
console.log(`| --- | --- | --- | ${kinds.map(() => '---').join(' | ')} |`);
for (const [n, r] of results)
  console.log(
    `| ${n} | ${f3(mean(r.groups.map((g) => g.pixelAuc)))} | ${f3(mean(r.groups.map((g) => g.aupro)))} | ` +
      `${kinds.map((k) => (r.kinds[k] ? f3(mean(r.kinds[k])) : '-')).join(' | ')} |`,
  );
console.log(
  `\nper group (pixelAuc): ${results
    .get(names[0])
    .groups.map((g) => g.name)
    .join(', ')}`,
);
for (const [n, r] of results) console.log(`${n}: ${r.groups.map((g) => f3(g.pixelAuc)).join(' ')}`);
