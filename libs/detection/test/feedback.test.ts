import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSynthDataset } from '@hark/dsp';
import {
  copyWindow,
  FeedbackError,
  fitDetector,
  listGroups,
  loadModel,
  PatchCore,
  planFeedback,
  readClip,
  readGroup,
  saveModel,
  type Detector,
  type FeedbackItem,
} from '../src/index.js';
import { tempDir } from '../../../test/support/temp.js';

/** A fast configuration for the small synthetic set (the defaults are for 5 s clips of real machines). */
const FAST = { imageHeight: 128, imageWidth: 64, hopSeconds: 0.5 } as const;
const tmp = tempDir('feedback');
let detector: Detector;
/** Two windows of anomalous clips and the patches the detector scored in them: a false alarm each. */
let items: FeedbackItem[];
let alarms: Float32Array[];

beforeAll(async () => {
  writeSynthDataset(tmp, {
    machines: ['pump'],
    trainClips: 8,
    testClips: 6,
    clipSeconds: 3,
    streamSeconds: 4,
    seed: 5,
  });
  const group = await readGroup((await listGroups(tmp))[0]);
  detector = await fitDetector(await Promise.all(group.train.map((p) => readClip(p, 16000))), FAST);
  const anomalies = group.test.filter((c) => c.label === 'anomaly').slice(0, 2);
  alarms = [];
  for (const clip of anomalies) {
    const spec = detector.spectrogram(await readClip(clip.path, 16000));
    alarms.push(copyWindow(spec.data, 128, spec.nFrames, 0, detector.windowFrames));
  }
  const results = await detector.scoreWindows(alarms);
  items = results.map((r, i) => ({ id: 10 + i, patches: r.embeddings.slice(), windows: alarms[i] }));
});

afterAll(async () => {
  await detector?.release();
});

/** What every part says of the alarm windows, and the method's memory size. */
async function state(d: Detector) {
  const parts = await d.scoreParts(alarms);
  return {
    bankSize: d.bankSize!,
    method: parts.map((p) => p.method.windowScore),
    context: parts.map((p) => p.context!.windowScore),
    tonal: parts.map((p) => p.tonal!.windowScore),
  };
}

describe('operator feedback (Detector.applyFeedback)', () => {
  it('teaches the patches to the method and the log-mel windows to the parts, and reports what it taught', async () => {
    const fitted = await state(detector);
    const { height, width } = detector.fitted.grid;
    expect(detector.teachable).toBe(true);
    try {
      const summary = detector.applyFeedback(items);
      expect(summary).toEqual({
        used: [10, 11],
        refused: [],
        windowsRefused: [],
        patches: 2 * height * width,
        windows: 2,
        logMelWindows: 2,
      });
      const taught = await state(detector);
      expect(taught.bankSize).toBe(fitted.bankSize + 2 * height * width);
      expect(taught.bankSize).toBe((detector.method as PatchCore).bankSize);
      // Its own patches and contexts are in the memories now: 0 up to the flat search's rounding.
      for (let i = 0; i < 2; i++) {
        expect(taught.method[i]).toBeLessThan(0.01 * fitted.method[i]);
        expect(taught.context[i]).toBeLessThan(0.01 * fitted.context[i]);
        expect(taught.tonal[i]).toBeLessThanOrEqual(fitted.tonal[i]);
      }
    } finally {
      detector.revertFeedback();
    }
  });

  it('computes the patches of kept log-mel windows as a live window scored them, bit for bit (embedWindows)', async () => {
    // The live path scores one window at a time (`scoreWindow`); an alert keeps only its windows.
    const live: Float32Array[] = [];
    for (const w of alarms) live.push((await detector.scoreWindow(w)).embeddings);
    const kept = new Float32Array(alarms[0].length * 2);
    kept.set(alarms[0]);
    kept.set(alarms[1], alarms[0].length);
    const rows = await detector.embedWindows(kept);
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(rows.length).toBe(live[0].length * 2);
    expect(bytes(rows).equals(Buffer.concat(live.map(bytes)))).toBe(true);
    expect((await detector.embedWindows(new Float32Array(0))).length).toBe(0);
    await expect(detector.embedWindows(new Float32Array(5))).rejects.toThrow(/not whole windows of 128 x/);
  });

  it('gives the same detector when the same items are applied again (idempotent)', async () => {
    try {
      detector.applyFeedback(items);
      const once = await state(detector);
      expect(detector.applyFeedback(items).used).toEqual([10, 11]);
      expect(await state(detector)).toEqual(once);
    } finally {
      detector.revertFeedback();
    }
  });

  it('reverts: back to the fitted detector, or to the items that remain', async () => {
    const fitted = await state(detector);
    detector.applyFeedback([items[1]]);
    const second = await state(detector);
    detector.applyFeedback(items);
    detector.applyFeedback([items[1]]); // the first item reverted
    expect(await state(detector)).toEqual(second);
    expect(detector.revertFeedback()).toMatchObject({ used: [], patches: 0, windows: 0, logMelWindows: 0 });
    expect(await state(detector)).toEqual(fitted);
    expect(second.method[1]).toBeLessThan(0.01 * fitted.method[1]);
  });

  it('leaves out items that do not fit the model and says why; a misfit window keeps its patches', async () => {
    const fitted = await state(detector);
    const { dim, height, width } = detector.fitted.grid;
    try {
      const summary = detector.applyFeedback([
        { id: 1, patches: new Float32Array(dim + 1), windows: null },
        { id: 2, patches: new Float32Array(0), windows: alarms[0] },
        { id: 3, patches: items[0].patches, windows: new Float32Array(7) },
        { id: 4, patches: items[1].patches, windows: null },
      ]);
      expect(summary.used).toEqual([3, 4]);
      expect(summary.refused.map((r) => r.id)).toEqual([1, 2]);
      expect(summary.refused[0].reason).toMatch(
        new RegExp(
          `patches \\(${dim + 1} values\\) are not whole rows of this model's dimension \\(${dim}\\)`,
        ),
      );
      expect(summary.windowsRefused).toEqual([
        {
          id: 3,
          reason: `its log-mel windows (7 values) are not whole 128 x ${detector.windowFrames} windows of this model; only its patches are taught`,
        },
      ]);
      expect(summary).toMatchObject({ patches: 2 * height * width, windows: 2, logMelWindows: 0 });
      const taught = await state(detector);
      expect(taught.method[0]).toBeLessThan(0.01 * fitted.method[0]);
      expect(taught.context).toEqual(fitted.context);
      expect(taught.tonal).toEqual(fitted.tonal);
    } finally {
      detector.revertFeedback();
    }
  });

  it('saves the fitted detector: feedback is its owner to keep and apply again after a load', async () => {
    const dir = join(tmp, 'model-with-feedback');
    const fitted = await state(detector);
    detector.applyFeedback(items);
    try {
      await saveModel(detector, dir);
    } finally {
      detector.revertFeedback();
    }
    const loaded = await loadModel(dir);
    try {
      expect(await state(loaded)).toEqual(fitted);
      loaded.applyFeedback(items);
      detector.applyFeedback(items);
      expect(await state(loaded)).toEqual(await state(detector));
    } finally {
      detector.revertFeedback();
      await loaded.release();
    }
  });
});

describe('a method that cannot be taught', () => {
  it('has teachable false and refuses feedback with a coded error; an empty apply and a revert are no-ops', async () => {
    const group = await readGroup((await listGroups(tmp))[0]);
    const train = await Promise.all(group.train.map((p) => readClip(p, 16000)));
    const padim = await fitDetector(train, { ...FAST, method: 'padim', contextFrames: 0, tonalMarginDb: 0 });
    try {
      expect(padim.teachable).toBe(false);
      expect(padim.bankSize).toBeNull();
      const before = await padim.scoreWindows(alarms);
      let err: unknown;
      try {
        padim.applyFeedback([{ id: 1, patches: new Float32Array(padim.fitted.grid.dim), windows: null }]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FeedbackError);
      expect(err).toMatchObject({
        code: 'ERR_HARK_NOT_TEACHABLE',
        message: 'feedback extends a memory of normal patches (patchcore); this model uses padim',
      });
      expect(padim.applyFeedback([])).toMatchObject({ used: [], refused: [] });
      expect(padim.revertFeedback().used).toEqual([]);
      const after = await padim.scoreWindows(alarms);
      expect(after.map((r) => r.windowScore)).toEqual(before.map((r) => r.windowScore));
    } finally {
      await padim.release();
    }
  });
});

describe('planFeedback', () => {
  it('counts windows as patch rows over patches per window, rounded', () => {
    const shape = { dim: 2, patchesPerWindow: 4, nMels: 2, windowFrames: 3 };
    const plan = planFeedback(
      [
        { id: 1, patches: new Float32Array(2 * 6), windows: new Float32Array(12) },
        { id: 2, patches: new Float32Array(2 * 4), windows: null },
      ],
      shape,
    );
    expect(plan.summary).toMatchObject({ used: [1, 2], patches: 10, windows: 3, logMelWindows: 2 });
    expect(plan.patches).toHaveLength(20);
    expect(plan.logMel.map((w) => w.length)).toEqual([6, 6]);
  });
});
