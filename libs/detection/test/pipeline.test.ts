import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSynthDataset } from '@hark/dsp';
import { CORPUS, corpusOrWarn } from '../../../test/support/corpus.js';
import {
  ContextMemory,
  copyWindow,
  evaluateGroup,
  fitDetector,
  fusionStatistics,
  listGroups,
  loadModel,
  MIN_BOUND_ROWS,
  readClip,
  readGroup,
  resolveDetectorConfig,
  rethreshold,
  saveModel,
  windowGate,
  Detector,
  type DatasetGroup,
  type WindowResult,
} from '../src/index.js';
import { tempDir } from '../../../test/support/temp.js';

/** A fast configuration for the small synthetic set (the defaults are for 5 s clips of real machines). */
const FAST = { imageHeight: 128, imageWidth: 64, hopSeconds: 0.5 } as const;
/**
 * The older opt-in fusion that the shared detector pins: the parts' scaled sum with the modulation spectrum,
 * calibrated on a single hold-out, without the impulse train (the defaults are leave-one-out, 'levels' and
 * both band parts; the tests below that need them fit their own detector).
 */
const SUMMED = {
  fusion: 'sum',
  modulationBands: 16,
  impulseBands: 0,
  calibrationFolds: 'holdout',
} as const;
const tmp = tempDir('pipeline');
let group: DatasetGroup;
/** The synthetic pump's training clips, read once. */
let train: Float32Array[];
let detector: Detector;

/** Window 0 of test clip `k` (a different clip per fault kind) on `det`'s grid. */
async function testWindow(det: Detector, k = 3): Promise<Float32Array> {
  const clip = det.spectrogram(await readClip(group.test[k].path, 16000));
  return copyWindow(clip.data, 128, clip.nFrames, 0, det.windowFrames);
}

/** The shared detector saved to `tmp/name`, with its `model.json` path and contents (to damage or edit). */
async function savedModel(name: string) {
  const dir = join(tmp, name);
  await saveModel(detector, dir);
  const path = join(dir, 'model.json');
  return { dir, path, json: JSON.parse(readFileSync(path, 'utf8')) };
}

/** Saves `det` to `dir`, loads it back and expects `win` to score as `normalised`; then `check`s the loaded one. */
async function expectSameAfterLoad(
  det: Detector,
  dir: string,
  win: Float32Array,
  normalised: number,
  check: (loaded: Detector) => void = () => {},
): Promise<void> {
  await saveModel(det, dir);
  const loaded = await loadModel(dir);
  try {
    check(loaded);
    expect((await loaded.scoreWindow(win)).normalised).toBeCloseTo(normalised, 10);
  } finally {
    await loaded.release();
  }
}

beforeAll(async () => {
  writeSynthDataset(tmp, {
    machines: ['pump'],
    trainClips: 8,
    testClips: 6,
    clipSeconds: 3,
    streamSeconds: 4,
    seed: 3,
  });
  group = await readGroup((await listGroups(tmp))[0]);
  train = await Promise.all(group.train.map((p) => readClip(p, 16000)));
  detector = await fitDetector(train, { ...FAST, ...SUMMED });
});

afterAll(async () => {
  await detector?.release();
});

describe('detector on a synthetic machine', () => {
  it('fits with a threshold from held-out normal clips and scores clips on the spectrogram grid', async () => {
    expect(detector.fitted.training).toMatchObject({ clips: 8, calibrationClips: 5 });
    expect(detector.fitted.calibration.threshold).toBeGreaterThan(0);
    const normal = group.test.find((c) => c.label === 'normal')!;
    const r = await detector.scoreClip(await readClip(normal.path, 16000));
    expect(r.nMels).toBe(128);
    expect(r.map).toHaveLength(128 * r.nFrames);
    expect(r.normalised).toBeCloseTo(r.score / detector.fitted.calibration.threshold, 10);
    expect(r.overThreshold).toBe(r.normalised > 1);
    expect(Math.max(...r.windowScores)).toBeCloseTo(r.normalised, 10);
    // The alert rule's level: the best run of `alertWindows` (2) consecutive windows, at its lower window.
    const w = r.windowScores;
    expect(w.length).toBeGreaterThan(2);
    expect(r.alertLevel).toBe(Math.max(...w.slice(1).map((x, i) => Math.min(x, w[i]))));
  });

  it('sets the threshold for a false-alarm rate: every clip held out once, the model on all, saved and loaded', async () => {
    const rated = await fitDetector(train, { ...FAST, falseAlarmsPerDay: 1 });
    try {
      const c = rated.fitted.calibration;
      expect(c.method).toBe('rate');
      expect(rated.fitted.training).toMatchObject({ clips: 8, calibrationClips: 8 });
      // 3 s clips at a 0.5 s hop: 5 windows each, so 4 run minima of 2 windows; 172 800 windows a day.
      expect(c.rate).toMatchObject({ perDay: 1, windowsPerDay: 172_800, alertWindows: 2, n: 32 });
      expect(c.threshold).toBeGreaterThanOrEqual(c.rate!.estimate);
      expect(c.threshold).toBeGreaterThan(c.rate!.u);
      // The model is fitted on every clip: its bank is larger than the hold-out model's (fitted on 3 of 8).
      expect(rated.method.state().arrays.bank.length).toBeGreaterThan(
        detector.method.state().arrays.bank.length,
      );
      const dir = join(tmp, 'rated');
      await saveModel(rated, dir);
      const back = await loadModel(dir);
      expect(back.fitted.calibration.toJSON()).toEqual(c.toJSON());
      expect(back.config.falseAlarmsPerDay).toBe(1);
      await back.release();
    } finally {
      await rated.release();
    }
  });

  it('detects the anomalies (auc well above chance) and its boxes overlap the ground truth', async () => {
    const result = await evaluateGroup(group, resolveDetectorConfig(FAST));
    expect(result.auc).toBeGreaterThan(0.75);
    expect(result.pixelAuc).toBeGreaterThan(0.6);
    let hits = 0;
    const anomalies = group.test.filter((c) => c.label === 'anomaly' && c.groundTruth);
    for (const clip of anomalies) {
      const r = await detector.scoreClip(await readClip(clip.path, 16000));
      const top = r.boxes[0];
      if (
        clip.groundTruth!.events.some(
          (e) =>
            top.onset <= e.offset && top.offset >= e.onset && top.lowHz <= e.highHz && top.highHz >= e.lowHz,
        )
      )
        hits++;
    }
    expect(hits / anomalies.length).toBeGreaterThanOrEqual(0.5);
  });

  it('gives a whine a box within a third of an octave around it, and a broadband burst a wide one', async () => {
    // The synthetic set draws each clip's gain from +-3 dB and clips at full scale: a clipped pump is a pulse
    // train at its rotation rate (24.5 Hz), which the impulse train rightly finds. The whine is put on a
    // normal clip that does not clip, so the box says where the whine is, not where the clipping is.
    const normals = await Promise.all(
      group.test.filter((c) => c.label === 'normal').map((c) => readClip(c.path, 16000)),
    );
    const normal = normals.find((x) => !x.some((v) => Math.abs(v) >= 0.999))!;
    const rms = Math.sqrt(normal.reduce((s, x) => s + x * x, 0) / normal.length);
    // Faint whines (-33 dB of the clip's power): the fused map, blurred over 8 mel bins, gave them 0.69 and 0.42
    // octaves; the tone map one or two mel filters. Both the pinned older fusion and the defaults.
    const defaults = await fitDetector(await Promise.all(group.train.map((p) => readClip(p, 16000))), FAST);
    try {
      for (const det of [detector, defaults]) {
        for (const hz of [1200, 5000]) {
          const whine = normal.map((x, i) => x + 0.03 * rms * Math.sin((2 * Math.PI * hz * i) / 16000));
          const [top] = (await det.scoreClip(whine)).boxes;
          expect(top.lowHz).toBeLessThan(hz);
          expect(top.highHz).toBeGreaterThan(hz);
          expect(Math.log2(top.highHz / top.lowHz)).toBeLessThanOrEqual(1 / 3);
        }
        // White noise from 1.0 to 1.5 s: no bin stands out from its neighbours, so the box keeps the fused extent.
        let seed = 7;
        const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
        const burst = normal.map((x, i) => (i >= 16000 && i < 24000 ? x + 2 * rms * noise() : x));
        const [wide] = (await det.scoreClip(burst)).boxes;
        expect(Math.log2(wide.highHz / wide.lowHz)).toBeGreaterThan(2);
      }
    } finally {
      await defaults.release();
    }
  });

  it('scores a stream window by window with the same numbers as the clip windows', async () => {
    const clip = await readClip(group.test[0].path, 16000);
    const spec = detector.spectrogram(clip);
    const whole = await detector.scoreClip(spec);
    const w = detector.windowFrames;
    const first = copyWindow(spec.data, 128, spec.nFrames, 0, w);
    const one = await detector.scoreWindow(first);
    expect(one.normalised).toBe(whole.windowScores[0]);
    expect(one.map).toHaveLength(128 * w);
    await expect(detector.scoreWindow(new Float32Array(10))).rejects.toThrow(/nMels x windowFrames/);
  });
});

describe('gain invariance', () => {
  it('scores a clip played 12 dB louder as the original; a model fitted without it does not', async () => {
    const clip = await readClip(group.test.find((c) => c.label === 'normal')!.path, 16000);
    const louder = clip.map((v) => v * 4); // +12.04 dB in every cell
    const [a, b] = [await detector.scoreClip(clip), await detector.scoreClip(louder)];
    expect(b.normalised).toBeCloseTo(a.normalised, 3);
    const plain = await fitDetector(train, { ...FAST, gainInvariance: false, tiltInvariance: false });
    try {
      const [c, d] = [await plain.scoreClip(clip), await plain.scoreClip(louder)];
      expect(d.normalised).toBeGreaterThan(1.5 * c.normalised);
    } finally {
      await plain.release();
    }
  });

  it('loads a model saved before the option existed as fitted without it', async () => {
    const { dir, path, json } = await savedModel('model-before-gain');
    delete json.config.gainInvariance;
    delete json.config.tiltInvariance;
    writeFileSync(path, JSON.stringify(json));
    const loaded = await loadModel(dir);
    try {
      expect(detector.config).toMatchObject({ gainInvariance: true, tiltInvariance: true });
      expect(loaded.config).toMatchObject({ gainInvariance: false, tiltInvariance: false });
    } finally {
      await loaded.release();
    }
  });
});

describe("the map gated by its window's score", () => {
  it('multiplies the maps of a window under the threshold by its score and keeps those over it', async () => {
    expect([2, 1, 0.4, 0, -1, Number.NaN].map(windowGate)).toEqual([1, 1, 0.4, 0, 0, 0]);
    expect(detector.config.mapWindowGate).toBe(true);
    const { config, extractor, method, fitted, parts } = detector;
    // The same model without the gate (sharing its sessions and memories: not released on its own).
    const plain = new Detector({ ...config, mapWindowGate: false }, extractor, method, fitted, parts);
    let under = 0;
    let over = 0;
    for (const clip of group.test) {
      const spec = detector.spectrogram(await readClip(clip.path, 16000));
      const w = detector.windowFrames;
      for (let s = 0; s + w <= spec.nFrames; s += detector.hopFrames) {
        const win = copyWindow(spec.data, 128, spec.nFrames, s, w);
        const [gated, bare] = [await detector.scoreWindow(win), await plain.scoreWindow(win)];
        expect(gated.normalised).toBe(bare.normalised);
        expect(bare.mapGate).toBeUndefined();
        const g = Math.min(1, gated.normalised);
        expect(gated.mapGate).toBe(g);
        if (g < 1) under++;
        else over++;
        for (const [a, b] of [
          [gated.map, bare.map],
          [gated.localMap, bare.localMap],
        ])
          for (let k = 0; k < a.length; k += 97) expect(a[k]).toBeCloseTo(b[k] * g, 5);
      }
    }
    // Both cases were seen: the pump's anomalous test clips reach over the threshold, its normal ones do not.
    expect(under).toBeGreaterThan(0);
    expect(over).toBeGreaterThan(0);
  });

  it('gates the maps again when the threshold moves (the burn-in), as the model would have at the new one', () => {
    const bare = Float32Array.from([0.2, 0.9, 1.4]);
    const at = (normalised: number, mapGate?: number) => {
      const g = mapGate ?? 1;
      const r: Pick<WindowResult, 'normalised' | 'map' | 'localMap' | 'mapGate'> = {
        normalised,
        map: bare.map((v) => v * g),
        localMap: bare.map((v) => v * g * 0.5),
        ...(mapGate !== undefined && { mapGate }),
      };
      return r;
    };
    // Under the threshold and over it at the new one, over and under it, under at both, over at both.
    for (const [score, factor] of [
      [0.8, 0.5],
      [1.6, 2],
      [0.5, 1.25],
      [1.2, 1.1],
    ]) {
      const r = at(score, windowGate(score));
      const out = rethreshold(r, factor);
      const g = windowGate(score / factor);
      expect(out).toEqual({ normalised: score / factor, mapGate: g });
      r.map.forEach((v, i) => expect(v).toBeCloseTo((bare[i] * g) / factor, 6));
      r.localMap.forEach((v, i) => expect(v).toBeCloseTo((bare[i] * g * 0.5) / factor, 6));
    }
    // A model without the gate: divided only.
    const plain = at(0.8);
    expect(rethreshold(plain, 2)).toEqual({ normalised: 0.4 });
    plain.map.forEach((v, i) => expect(v).toBeCloseTo(bare[i] / 2, 6));
    // A map gated by 0 stays zeros; a bad factor is refused.
    const zero = at(0, 0);
    expect(rethreshold(zero, 0.5)).toEqual({ normalised: 0, mapGate: 0 });
    expect([...zero.map]).toEqual([0, 0, 0]);
    expect(() => rethreshold(at(1), 0)).toThrow(/factor \(0\) must be a finite number > 0/);
  });
});

describe('parts fused with the method', () => {
  it('fits a context memory, a tonal envelope and a modulation spectrum; the window score is their scaled sum', async () => {
    expect(detector.parts.context?.frames).toBe(5);
    expect(detector.parts.tonal?.marginDb).toBe(3);
    expect(detector.parts.modulation?.grid.bands).toBe(16);
    const f = detector.fitted.fusion!;
    expect(f.method).toBeGreaterThan(0);
    expect(f.context).toBeGreaterThan(0);
    expect(f.tonal).toBeGreaterThan(0);
    expect(f.modulation).toBeGreaterThanOrEqual(1);
    // Each held-out clip was fused on the others' scales, so the threshold lies above those scales (1.0).
    expect(detector.fitted.calibration.threshold).toBeGreaterThan(1);
    const clip = detector.spectrogram(await readClip(group.test[3].path, 16000));
    const w = detector.windowFrames;
    const win = copyWindow(clip.data, 128, clip.nFrames, 0, w);
    const [p] = await detector.scoreParts([win]);
    const [r] = await detector.scoreWindows([win]);
    const parts = [
      p.method.windowScore / f.method,
      p.context!.windowScore / f.context,
      p.tonal!.windowScore / f.tonal!,
      p.modulation!.windowScore / f.modulation!,
    ];
    expect(r.windowScore).toBeCloseTo(
      parts.reduce((a, b) => a + b),
      10,
    );
  });

  it("scores a batch as window by window, the context memory's searches started beside the backbone's run; a backbone that fails fails the call", async () => {
    const wins = await Promise.all([1, 3, 5].map((k) => testWindow(detector, k)));
    const batch = await detector.scoreParts(wins);
    for (const [i, w] of wins.entries()) {
      const [alone] = await detector.scoreParts([w]);
      expect(batch[i].method.windowScore).toBe(alone.method.windowScore);
      expect(batch[i].context!.windowScore).toBe(alone.context!.windowScore);
      expect(Buffer.from(batch[i].context!.map.buffer).equals(Buffer.from(alone.context!.map.buffer))).toBe(
        true,
      );
    }
    // A released model's backbone refuses the run after the context searches have started: the call rejects
    // with the backbone's error, whatever the searches answer after it.
    const { dir } = await savedModel('released-mid-window');
    const loaded = await loadModel(dir);
    await loaded.release();
    await expect(loaded.scoreParts(wins)).rejects.toThrow(/was released/);
  });

  it('learns taught windows beside the method, and forgets them when the teaching is withdrawn', async () => {
    const anomaly = group.test.find((c) => c.label === 'anomaly' && c.groundTruth)!;
    const spec = detector.spectrogram(await readClip(anomaly.path, 16000));
    const w = detector.windowFrames;
    const at = Math.max(
      0,
      Math.min(spec.nFrames - w, Math.round((anomaly.groundTruth!.events[0].onset * 16000) / 256)),
    );
    const win = copyWindow(spec.data, 128, spec.nFrames, at, w);
    const [before] = await detector.scoreParts([win]);
    detector.teachWindows([win]);
    let after: Awaited<ReturnType<Detector['scoreParts']>>[number];
    try {
      [after] = await detector.scoreParts([win]);
    } finally {
      detector.teachWindows([]);
    }
    // Its own contexts are now in the memory: the distance is 0 up to the flat search's rounding.
    expect(after.context!.windowScore).toBeLessThan(0.01 * before.context!.windowScore);
    expect(after.tonal!.windowScore).toBeLessThanOrEqual(before.tonal!.windowScore);
    expect(after.tonal!.windowScore).toBeCloseTo(1 / 4, 6);
    const [again] = await detector.scoreParts([win]);
    expect(again.context!.windowScore).toBe(before.context!.windowScore);
    expect(again.tonal!.windowScore).toBe(before.tonal!.windowScore);
    // The modulation spectrum refits its median and spread on the taught window too, and back without it.
    expect(after.modulation!.windowScore).toBeLessThanOrEqual(before.modulation!.windowScore);
    expect(again.modulation!.windowScore).toBe(before.modulation!.windowScore);
    expect(() => detector.teachWindows([new Float32Array(3)])).toThrow(/taught window 0 has 3 values/);
  });

  it('loads a model saved before the parts existed as the method alone', async () => {
    const { dir, path, json } = await savedModel('model-before-parts');
    for (const k of [
      'contextFrames',
      'tonalMarginDb',
      'timeShare',
      'mapWindowGate',
      'modulationBands',
      'impulseBands',
      'fusion',
    ])
      delete json.config[k];
    delete json.parts;
    delete json.fitted.fusion;
    writeFileSync(path, JSON.stringify(json));
    const loaded = await loadModel(dir);
    try {
      expect(loaded.config).toMatchObject({
        contextFrames: 0,
        tonalMarginDb: 0,
        timeShare: 0,
        mapWindowGate: false,
        modulationBands: 0,
        fusion: 'max',
      });
      expect(loaded.parts).toEqual({ context: null, tonal: null, modulation: null });
      const spec = loaded.spectrogram(await readClip(group.test[0].path, 16000));
      const w = loaded.windowFrames;
      const win = copyWindow(spec.data, 128, spec.nFrames, 0, w);
      const [p] = await loaded.scoreParts([win]);
      expect(p.context).toBeNull();
      expect(p.tonal).toBeNull();
      expect((await loaded.scoreWindow(win)).windowScore).toBe(p.method.windowScore);
    } finally {
      await loaded.release();
    }
  });
});

describe('the union of the sum and each part', () => {
  it('divides each statistic by its level, scores the largest, and keeps the levels through save and load', async () => {
    const union = await fitDetector(train, { ...FAST, fusion: 'union', modulationBands: 16 });
    const dir = join(tmp, 'model-union');
    try {
      const f = union.fitted.fusion!;
      const levels = f.levels!;
      // Every statistic's level is at least its held-out maximum (1 for a part on its own scale).
      for (const k of ['method', 'context', 'tonal', 'modulation', 'impulse'] as const)
        expect(levels[k], k).toBeGreaterThanOrEqual(1);
      expect(levels.sum).toBeGreaterThanOrEqual(1);
      const win = await testWindow(union);
      const [p] = await union.scoreParts([win]);
      const stats = fusionStatistics(p, f);
      const largest = Math.max(
        ...(['sum', 'method', 'context', 'tonal', 'modulation', 'impulse'] as const).map(
          (k) => stats[k] / levels[k]!,
        ),
      );
      const [r] = await union.scoreWindows([win]);
      expect(r.windowScore).toBeCloseTo(largest, 10);
      await expectSameAfterLoad(union, dir, win, r.normalised, (loaded) =>
        expect(loaded.fitted.fusion!.levels).toEqual(levels),
      );
    } finally {
      await union.release();
    }
  });
});

describe('the context memory through save and load: columns, and the flat index of older models', () => {
  it('saves the columns and scores the same after load; loads an older flat index with its axes, computes them for one saved without, and refuses a bad entry', async () => {
    // Denser fitting windows: a memory large enough for the bounded search of the older layout.
    const det = await fitDetector(train, { ...FAST, ...SUMMED, fitHopSeconds: 0.1 });
    const dir = join(tmp, 'model-axes');
    try {
      const ctx = det.parts.context!;
      expect(ctx.size).toBeGreaterThanOrEqual(MIN_BOUND_ROWS);
      expect([ctx.layout, ctx.storage, ctx.bounded]).toEqual(['columns', 'float32', false]);
      const win = await testWindow(det);
      const { normalised } = await det.scoreWindow(win);
      await expectSameAfterLoad(det, dir, win, normalised, (loaded) => {
        expect(loaded.parts.context!.layout).toBe('columns');
        expect(loaded.parts.context!.size).toBe(ctx.size);
      });
      const path = join(dir, 'model.json');
      const json = JSON.parse(readFileSync(path, 'utf8'));
      expect(json.parts.context).toMatchObject({
        file: 'context.columns.f32',
        layout: 'columns',
        starts: { file: 'context.starts.i32', dtype: 'i32', length: ctx.size },
      });
      // A model saved before the columns: its contexts in a flat index at one byte per value, with the axes of
      // its bounded search. It loads, searches through the bounded search, and scores within the bytes' steps.
      const entry = (file: string, bytes: Uint8Array, dtype: string, length: number) => {
        writeFileSync(join(dir, file), bytes);
        return { file, dtype, length, sha256: createHash('sha256').update(bytes).digest('hex') };
      };
      const floats = ctx.baseBank;
      const legacy = new ContextMemory(ctx.nMels, ctx.frames, floats, { layout: 'index', bound: true });
      const axes = legacy.axes!;
      const indexBytes = legacy.fittedIndex.toBuffer();
      const older = {
        ...entry('context.index.faiss', indexBytes, 'u8', indexBytes.length),
        frames: ctx.frames,
        storage: 'uint8',
      };
      const withAxes = {
        ...older,
        axes: entry(
          'context.axes.f32',
          new Uint8Array(axes.buffer, axes.byteOffset, axes.byteLength),
          'f32',
          axes.length,
        ),
      };
      legacy.dispose();
      writeFileSync(path, JSON.stringify({ ...json, parts: { ...json.parts, context: withAxes } }));
      let indexed = 0;
      const first = await loadModel(dir);
      try {
        const c = first.parts.context!;
        expect([c.layout, c.storage, c.bounded, c.size]).toEqual(['index', 'uint8', true, ctx.size]);
        expect(Array.from(c.axes!)).toEqual(Array.from(axes));
        indexed = (await first.scoreWindow(win)).normalised;
        expect(Math.abs(indexed - normalised)).toBeLessThan(0.02 * normalised);
      } finally {
        await first.release();
      }
      // Without its axes: they are computed at load, and it scores the same, to the bit.
      writeFileSync(path, JSON.stringify({ ...json, parts: { ...json.parts, context: older } }));
      rmSync(join(dir, 'context.axes.f32'));
      const loaded = await loadModel(dir);
      try {
        expect(loaded.parts.context!.bounded).toBe(true);
        // The load scores one window (it refuses a model that cannot), which pays the first search's one-time
        // cost: the projected memory is built once, and no score changes.
        const projection = () => loaded.parts.context!.fittedIndex.projectionInfo();
        expect(projection()?.builds).toBe(1);
        await loaded.warmUp();
        expect(projection()?.builds).toBe(1);
        expect((await loaded.scoreWindow(win)).normalised).toBe(indexed);
      } finally {
        await loaded.release();
      }
      // A model saved before the one-byte memory (its vectors as floats, context.bank.f32): it loads, holds
      // them at one byte per value on ranges of their own, and scores within those steps of the saved model.
      const f32 = {
        ...entry(
          'context.bank.f32',
          new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength),
          'f32',
          floats.length,
        ),
        frames: older.frames,
      };
      writeFileSync(path, JSON.stringify({ ...json, parts: { ...json.parts, context: f32 } }));
      rmSync(join(dir, 'context.index.faiss'));
      const old = await loadModel(dir);
      try {
        expect([old.parts.context!.storage, old.parts.context!.size]).toEqual(['uint8', ctx.size]);
        const requantised = old.parts.context!.baseBank;
        let step = 0;
        for (let i = 0; i < floats.length; i++) step = Math.max(step, Math.abs(requantised[i] - floats[i]));
        expect(step).toBeGreaterThan(0);
        expect(step).toBeLessThan(0.05);
        const window = await old.scoreWindow(win);
        expect(Math.abs(window.normalised - normalised)).toBeLessThan(0.02 * normalised);
      } finally {
        await old.release();
      }
      // Bytes whose checksum holds but that are no index: the error says which file and what to do.
      writeFileSync(join(dir, 'context.index.faiss'), Buffer.from('not an index'));
      const junk = {
        ...older,
        length: 12,
        sha256: createHash('sha256').update('not an index').digest('hex'),
      };
      writeFileSync(path, JSON.stringify({ ...json, parts: { ...json.parts, context: junk } }));
      await expect(loadModel(dir)).rejects.toThrow(
        /context\.index\.faiss is not a readable index \(.*\); fit the model again/,
      );
      const bad = {
        ...json,
        parts: { ...json.parts, context: { ...older, axes: { ...withAxes.axes, length: 7 } } },
      };
      writeFileSync(path, JSON.stringify(bad));
      await expect(loadModel(dir)).rejects.toThrow(
        /parts\.context\.axes has a bad entry .*\(need context\.axes\.f32/,
      );
      // Columns whose starts pass their checksum but are not ascending: the error says what and what to do.
      const starts = new Int32Array([5, 3]);
      const badStarts = {
        ...json.parts.context,
        starts: entry('context.starts.i32', new Uint8Array(starts.buffer), 'i32', 2),
      };
      writeFileSync(path, JSON.stringify({ ...json, parts: { ...json.parts, context: badStarts } }));
      await expect(loadModel(dir)).rejects.toThrow(
        /parts\.context does not hold a context memory \(starts must be ascending.*\); fit the model again/,
      );
    } finally {
      await det.release();
    }
  });
});

describe('leave-one-out calibration and the levels rule', () => {
  it('holds every clip out once and puts each part at its own level, threshold 1, through save and load', async () => {
    const config = {
      ...FAST,
      calibrationFolds: 'leave-one-out',
      fusion: 'levels',
      modulationBands: 16,
    } as const;
    const det = await fitDetector(train, config);
    const dir = join(tmp, 'model-levels');
    try {
      expect(det.fitted.training).toMatchObject({ clips: train.length, calibrationClips: train.length });
      expect(det.fitted.calibration).toMatchObject({ method: 'levels', threshold: 1, n: train.length });
      const levels = det.fitted.fusion!.levels!;
      for (const k of ['method', 'context', 'tonal', 'modulation', 'impulse'] as const)
        expect(levels[k], k).toBeGreaterThan(0);
      expect(levels.sum).toBe(0);
      const win = await testWindow(det);
      const [p] = await det.scoreParts([win]);
      const stats = fusionStatistics(p, det.fitted.fusion!);
      const largest = Math.max(
        ...(['method', 'context', 'tonal', 'modulation', 'impulse'] as const).map(
          (k) => stats[k] / levels[k]!,
        ),
      );
      const [r] = await det.scoreWindows([win]);
      expect(r.normalised).toBeCloseTo(largest, 10);
      await expectSameAfterLoad(det, dir, win, r.normalised, (loaded) =>
        expect(loaded.config).toMatchObject({ calibrationFolds: 'leave-one-out', fusion: 'levels' }),
      );
    } finally {
      await det.release();
    }
    expect(() => resolveDetectorConfig({ calibrationFolds: 'kfold' as never })).toThrow(
      /calibrationFolds \('kfold'\) must be one of holdout, leave-one-out/,
    );
  });
});

describe('the impulse train', () => {
  it('is a part of its own in the levels rule and the largest-part rule, and scores the same after save and load', async () => {
    const config = {
      ...FAST,
      calibrationFolds: 'leave-one-out',
      fusion: 'levels',
      modulationBands: 16,
      impulseBands: 32,
    } as const;
    const det = await fitDetector(train, config);
    const dir = join(tmp, 'model-impulse');
    try {
      expect(det.parts.impulse?.grid.bands).toBe(32);
      const f = det.fitted.fusion!;
      expect(f.impulse).toBeGreaterThanOrEqual(1);
      expect(f.levels!.impulse).toBeGreaterThan(0);
      const win = await testWindow(det);
      const [p] = await det.scoreParts([win]);
      expect(p.impulse?.map).toHaveLength(128 * det.windowFrames);
      const stats = fusionStatistics(p, f);
      const parts = ['method', 'context', 'tonal', 'modulation', 'impulse'] as const;
      const [r] = await det.scoreWindows([win]);
      expect(r.normalised).toBeCloseTo(Math.max(...parts.map((k) => stats[k] / f.levels![k]!)), 10);
      await expectSameAfterLoad(det, dir, win, r.normalised, (loaded) => {
        expect(loaded.parts.impulse?.grid.bands).toBe(32);
        expect(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).parts.impulse).toMatchObject({
          file: 'impulse.features.f32',
          bands: 32,
        });
      });
    } finally {
      await det.release();
    }
    // The largest-part rule takes it too, on its held-out maximum.
    const max = await fitDetector(train, { ...FAST, fusion: 'max', impulseBands: 32 });
    try {
      const win = await testWindow(max);
      const [p] = await max.scoreParts([win]);
      const f = max.fitted.fusion!;
      const [r] = await max.scoreWindows([win]);
      const largest = Math.max(
        p.method.windowScore / f.method,
        p.context!.windowScore / f.context,
        p.tonal!.windowScore,
        p.impulse!.windowScore / f.impulse!,
      );
      expect(r.windowScore).toBeCloseTo(largest, 10);
    } finally {
      await max.release();
    }
  });
});

describe('a model directory with a bad training summary', () => {
  it('is refused at load, naming the field (the server shows it: a bad one must not fail there)', async () => {
    const { dir, path, json } = await savedModel('model-bad-training');
    for (const bad of [
      null,
      [],
      { ...json.fitted.training, clips: -1 },
      { ...json.fitted.training, fittedAt: 3 },
    ]) {
      writeFileSync(path, JSON.stringify({ ...json, fitted: { ...json.fitted, training: bad } }));
      await expect(loadModel(dir)).rejects.toThrow(
        /model\.json: fitted\.training \(.*\) is not a fit's summary \{clips, seconds, windows, calibrationClips, fittedAt, fitSeconds\}; fit the model again/,
      );
    }
    // Older summaries without the later counts load.
    const { windows: _w, calibrationClips: _c, fitSeconds: _f, ...older } = json.fitted.training;
    writeFileSync(path, JSON.stringify({ ...json, fitted: { ...json.fitted, training: older } }));
    const loaded = await loadModel(dir);
    expect(loaded.fitted.training.fittedAt).toBe(json.fitted.training.fittedAt);
    await loaded.release();
  });
});

describe('a model directory whose fitted fields disagree', () => {
  it('is refused at load, naming model.json, instead of failing every window', async () => {
    const { dir, path, json } = await savedModel('model-bad-fitted');
    const fitted = json.fitted;
    // Each of these passed the loader's checks and then failed every window (a sweep of model.json's numbers).
    for (const [bad, says] of [
      [{ ...fitted, grid: { ...fitted.grid, height: 3 } }, /the model was fitted on 3 x \d+ of/],
      // Without the frequency position each patch has one value fewer than the fit's.
      [
        { ...fitted, frequencyScale: 0 },
        new RegExp(
          `patches of ${fitted.grid.dim - 1} values .*; the model was fitted on .* of ${fitted.grid.dim}`,
        ),
      ],
      [
        { ...fitted, input: { ...fitted.input, range: { min: 3, max: 2 } } },
        /range\.max \(2\) must be > range\.min \(3\)/,
      ],
      [{ ...fitted, fusion: { ...fitted.fusion, modulation: 0 } }, /no modulation scale \(0\)/],
    ] as const) {
      writeFileSync(path, JSON.stringify({ ...json, fitted: bad }));
      const err = await loadModel(dir).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(
        /model\.json: the model cannot score a window \(.*\); fit the model again$/,
      );
      expect(err?.message).toMatch(says);
    }
    writeFileSync(path, JSON.stringify(json));
    const loaded = await loadModel(dir);
    await loaded.release();
  });
});

describe('parts fused with the method, older models', () => {
  it('loads a model saved before the modulation spectrum with the largest-part rule it was fitted with', async () => {
    const { dir, path, json } = await savedModel('model-before-modulation');
    delete json.config.modulationBands;
    delete json.config.fusion;
    delete json.parts.modulation;
    delete json.fitted.fusion.tonal;
    delete json.fitted.fusion.modulation;
    writeFileSync(path, JSON.stringify(json));
    const loaded = await loadModel(dir);
    try {
      expect(loaded.config).toMatchObject({ modulationBands: 0, fusion: 'max', tonalMarginDb: 3 });
      expect(loaded.parts.modulation).toBeNull();
      const spec = loaded.spectrogram(await readClip(group.test[2].path, 16000));
      const win = copyWindow(spec.data, 128, spec.nFrames, 0, loaded.windowFrames);
      const [p] = await loaded.scoreParts([win]);
      const f = loaded.fitted.fusion!;
      const largest = Math.max(
        p.method.windowScore / f.method,
        p.context!.windowScore / f.context,
        p.tonal!.windowScore,
      );
      expect((await loaded.scoreWindow(win)).windowScore).toBeCloseTo(largest, 10);
    } finally {
      await loaded.release();
    }
  });
});

describe('model directory', () => {
  it('round-trips: a loaded model scores bit-identically', async () => {
    const dir = join(tmp, 'model');
    await saveModel(detector, dir);
    const loaded = await loadModel(dir);
    try {
      const clip = await readClip(group.test[1].path, 16000);
      const [a, b] = [await detector.scoreClip(clip), await loaded.scoreClip(clip)];
      expect(b.score).toBe(a.score);
      expect(b.map).toEqual(a.map);
      expect(b.boxes).toEqual(a.boxes);
    } finally {
      await loaded.release();
    }
  });

  it.each(['padim', 'spade'] as const)('round-trips a %s model through the registry', async (method) => {
    const fitted = await fitDetector(train, { ...FAST, method });
    const dir = join(tmp, `model-${method}`);
    try {
      await saveModel(fitted, dir);
      const loaded = await loadModel(dir);
      try {
        const clip = await readClip(group.test[2].path, 16000);
        const [a, b] = [await fitted.scoreClip(clip), await loaded.scoreClip(clip)];
        expect(loaded.method.name).toBe(method);
        expect(b.score).toBe(a.score);
        expect(b.map).toEqual(a.map);
      } finally {
        await loaded.release();
      }
    } finally {
      await fitted.release();
    }
  });

  /** Saves a copy of the model, lets `edit` damage it, and returns the load error. */
  async function loadError(
    name: string,
    edit: (dir: string, json: Record<string, Record<string, unknown>>) => void,
  ): Promise<string> {
    const dir = join(tmp, name);
    await saveModel(detector, dir);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    edit(dir, json);
    return loadModel(dir, name === 'mel' ? { expectMel: { hopLength: 512 } } : {}).then(
      () => 'loaded',
      (err: Error) => err.message,
    );
  }
  const rewrite = (dir: string, json: unknown) =>
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));

  it('refuses a model from another backbone build, format version or dsp parameters, naming the fix', async () => {
    expect(
      await loadError('hash', (d, j) =>
        rewrite(d, { ...j, backbone: { ...j.backbone, hash: 'f'.repeat(64) } }),
      ),
    ).toMatch(/backbone mobilenetv2 hash ffffffffffff.*fit the model again/);
    expect(await loadError('version', (d, j) => rewrite(d, { ...j, version: 99 }))).toMatch(
      /format version 99 is not supported/,
    );
    expect(await loadError('mel', () => {})).toMatch(
      /other dsp parameters: hopLength 256 \(model\) vs 512 \(expected\)/,
    );
    expect(
      await loadError('config', (d, j) => rewrite(d, { ...j, config: { ...j.config, windowSeconds: -1 } })),
    ).toMatch(/windowSeconds \(-1\)/);
  });

  it('refuses corrupt or missing files with a clear error', async () => {
    expect(
      await loadError('json', (d) => writeFileSync(join(d, 'model.json'), '{"format": "hark-mo')),
    ).toMatch(/model\.json is corrupt/);
    /** Flips one byte of a file of the model directory. */
    const flip = (file: string, at: number) => (d: string) => {
      const b = readFileSync(join(d, file));
      b[at] ^= 0xff;
      writeFileSync(join(d, file), b);
    };
    expect(await loadError('bank', flip('method.bank.f32', 100))).toMatch(/method\.bank\.f32 is corrupt/);
    expect(
      await loadError('short', (d) => writeFileSync(join(d, 'method.bank.f32'), Buffer.alloc(8))),
    ).toMatch(/is corrupt \(8 bytes/);
    expect(await loadError('context', flip('context.columns.f32', 7))).toMatch(
      /context\.columns\.f32 is corrupt/,
    );
    expect(await loadError('starts', (d) => rmSync(join(d, 'context.starts.i32')))).toMatch(
      /context\.starts\.i32 is missing/,
    );
    expect(await loadError('parts', (d, j) => rewrite(d, { ...j, parts: undefined }))).toMatch(
      /config\.contextFrames is 5 but parts\.context is missing; fit the model again/,
    );
    await expect(loadModel(join(tmp, 'nothing-here'))).rejects.toThrow(/not a hark model directory/);
  });
});

const hasCorpus = corpusOrWarn('pipeline.test.ts');

describe.skipIf(!hasCorpus)('development corpus (one group)', () => {
  it('beats chance on m16_factory with the default configuration', async () => {
    const info = (await listGroups(CORPUS)).find((g) => g.name === 'm16_factory')!;
    const r = await evaluateGroup(await readGroup(info), resolveDetectorConfig());
    expect(r.auc).toBeGreaterThan(0.7);
    expect(r.pixelAuc).toBeGreaterThan(0.6);
  }, 180_000);
});
