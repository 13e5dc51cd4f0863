import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSynthDataset } from '@hark/dsp';
import { CORPUS, corpusOrWarn } from '../../../test/support/corpus.js';
import {
  evaluateGroup,
  fitDetector,
  listGroups,
  loadModel,
  readClip,
  readGroup,
  resolveDetectorConfig,
  saveModel,
  type DatasetGroup,
  type Detector,
} from '../src/index.js';

/** A fast configuration for the small synthetic set (the defaults are for 5 s clips of real machines). */
const FAST = { imageHeight: 128, imageWidth: 64, hopSeconds: 0.5 } as const;
const tmp = mkdtempSync(join(tmpdir(), 'hark-pipeline-'));
let group: DatasetGroup;
let detector: Detector;

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
  const train = await Promise.all(group.train.map((p) => readClip(p, 16000)));
  detector = await fitDetector(train, FAST);
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

  it('scores a stream window by window with the same numbers as the clip windows', async () => {
    const clip = await readClip(group.test[0].path, 16000);
    const spec = detector.spectrogram(clip);
    const whole = await detector.scoreClip(spec);
    const w = detector.windowFrames;
    const first = new Float32Array(128 * w);
    for (let m = 0; m < 128; m++)
      first.set(spec.data.subarray(m * spec.nFrames, m * spec.nFrames + w), m * w);
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
    const train = await Promise.all(group.train.map((p) => readClip(p, 16000)));
    const plain = await fitDetector(train, { ...FAST, gainInvariance: false, tiltInvariance: false });
    try {
      const [c, d] = [await plain.scoreClip(clip), await plain.scoreClip(louder)];
      expect(d.normalised).toBeGreaterThan(1.5 * c.normalised);
    } finally {
      await plain.release();
    }
  });

  it('loads a model saved before the option existed as fitted without it', async () => {
    const dir = join(tmp, 'model-before-gain');
    await saveModel(detector, dir);
    const path = join(dir, 'model.json');
    const json = JSON.parse(readFileSync(path, 'utf8'));
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
    const train = await Promise.all(group.train.map((p) => readClip(p, 16000)));
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
    expect(
      await loadError('bank', (d) => {
        const p = join(d, 'method.bank.f32');
        const b = readFileSync(p);
        b[100] ^= 0xff;
        writeFileSync(p, b);
      }),
    ).toMatch(/method\.bank\.f32 is corrupt/);
    expect(
      await loadError('short', (d) => writeFileSync(join(d, 'method.bank.f32'), Buffer.alloc(8))),
    ).toMatch(/is corrupt \(8 bytes/);
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
