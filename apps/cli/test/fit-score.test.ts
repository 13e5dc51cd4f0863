import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthDataset } from '@hark/dsp';
import { byKindTables, evaluationTable } from '../src/commands/evaluate.js';
import { pngPath } from '../src/commands/score.js';
import { tempDir } from '../../../test/support/temp.js';

const root = new URL('../../../', import.meta.url).pathname;
const bin = join(root, 'apps/cli/bin/hark.js');
const tmp = tempDir('fit-score');
const data = join(tmp, 'data');
const model = join(tmp, 'model');
const hark = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

describe('hark fit | score | evaluate', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'apps/cli/dist/main.js')))
      throw new Error('build the CLI first: npm run build');
    writeSynthDataset(data, {
      machines: ['fan'],
      trainClips: 7,
      testClips: 4,
      clipSeconds: 2,
      streamSeconds: 4,
      seed: 5,
    });
  });

  it('fit writes a model directory and prints the documented JSON', () => {
    const r = hark('fit', join(data, 'synth_fan'), '--out', model, '--json');
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(['model', 'method', 'backbone', 'threshold', 'training']);
    expect(doc).toMatchObject({
      model,
      method: 'patchcore',
      backbone: 'mobilenetv2',
      // Leave-one-out by default: every training clip is held out once.
      training: { clips: 7, calibrationClips: 7 },
    });
    expect(doc.threshold).toBeGreaterThan(0);
    expect(existsSync(join(model, 'model.json'))).toBe(true);
    // stderr is a pipe here, not a terminal: progress comes as plain lines, each stage ending with its time.
    for (const stage of ['read', 'spectrogram', 'embed', 'fit', 'calibrate'])
      expect(r.stderr).toMatch(new RegExp(`^${stage} (\\d+)/\\1 \\(100 %\\) in \\d+\\.\\d s$`, 'm'));
  });

  it('score gives clip scores, decisions and boxes as JSON, and a readable picture', () => {
    const test = join(data, 'synth_fan', 'test');
    const files = [join(test, 'normal_0000.wav'), join(test, 'anomaly_0000.wav')];
    const png = join(tmp, 'map.png');
    const r = hark('score', '--model', model, ...files, '--json', '--png', png);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(['model', 'threshold', 'thresholdFactor', 'thresholdSource', 'files']);
    expect(doc).toMatchObject({ thresholdFactor: 1, thresholdSource: 'fitted' });
    expect(doc.files).toHaveLength(2);
    for (const f of doc.files) {
      expect(Object.keys(f)).toEqual([
        'file',
        'score',
        'normalised',
        'overThreshold',
        'alertLevel',
        'seconds',
        'boxes',
      ]);
      expect(f.overThreshold).toBe(f.normalised > 1);
      // The alert rule's level is a run's lowest window: never above the clip's largest window.
      expect(f.alertLevel).toBeGreaterThan(0);
      expect(f.alertLevel).toBeLessThanOrEqual(f.normalised);
      expect(f.boxes.length).toBeGreaterThan(0);
      expect(Object.keys(f.boxes[0])).toEqual([
        'onset',
        'offset',
        'lowHz',
        'highHz',
        'peak',
        'mapPeak',
        'overThreshold',
      ]);
      // One scale: a box scores as the strongest window it spans, so none reads above the clip's peak.
      for (const b of f.boxes) {
        expect(b.peak).toBeLessThanOrEqual(f.normalised);
        expect(b.overThreshold).toBe(b.peak >= 1);
      }
    }
    for (const f of files) {
      const img = PNG.sync.read(readFileSync(pngPath(png, f, 2)));
      // 2 s at hop 256 with n_fft 1024 = 122 frames at 7 px, 128 mel bins at 3 px, with axes and legends.
      expect([img.width, img.height]).toEqual([1144, 540]);
    }
    // A live burn-in's factor: the threshold in use is that times the fitted one, every score on it.
    const burnt = JSON.parse(
      hark('score', '--model', model, ...files, '--json', '--threshold-factor', '0.8').stdout,
    );
    expect(burnt).toMatchObject({ thresholdFactor: 0.8, thresholdSource: 'burn-in' });
    expect(burnt.threshold).toBeCloseTo(doc.threshold * 0.8, 10);
    doc.files.forEach(
      (f: { normalised: number; alertLevel: number; boxes: { peak: number }[] }, i: number) => {
        const g = burnt.files[i];
        expect(g.score).toBe(doc.files[i].score);
        expect(g.normalised).toBeCloseTo(f.normalised / 0.8, 10);
        expect(g.alertLevel).toBeCloseTo(f.alertLevel / 0.8, 10);
        expect(g.overThreshold).toBe(g.normalised > 1);
        expect(g.boxes[0].peak).toBeCloseTo(f.boxes[0].peak / 0.8, 10);
        expect(g.boxes[0].overThreshold).toBe(g.boxes[0].peak >= 1);
      },
    );
    const bad = hark('score', '--model', model, files[0], '--threshold-factor', '0');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("'0' is not a positive number (a burn-in factor, e.g. 0.85)");
    const text = hark('score', '--model', model, files[0]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/normal_0000\.wav: (ANOMALY|normal) \(score \d+\.\d\d x threshold\)/);
    // Its regions: time span, Hz span and score, the same as the JSON's strongest box.
    const box = doc.files[0].boxes[0];
    const span = `${box.onset.toFixed(2)}-${box.offset.toFixed(2)} s`;
    expect(text.stdout).toContain(span);
    expect(text.stdout).toMatch(
      new RegExp(`${Math.round(box.lowHz)}-${Math.round(box.highHz)} Hz +score ${box.peak.toFixed(2)}`),
    );
  });

  it('evaluate prints the table and writes the documented JSON', () => {
    const out = join(tmp, 'eval.json');
    const r = hark('evaluate', data, '--json', out, '--by-kind');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^group\s+auc\s+pauc\s+pixelAuc\s+aupro\s+fitSeconds\s+msPerClip\n/);
    expect(r.stdout).toMatch(/\nsynth_fan /);
    expect(r.stdout).toMatch(/\nmean /);
    // --by-kind: the synthetic fan's four kinds, one clip each, then the group's normal clips over the threshold.
    expect(r.stdout).toMatch(
      /\nkind\s+clips\s+auc\s+recall\s+alert\s+boxIoU\s+eventIoU\s+pixelAuc\nimpacts\s+1\s/,
    );
    expect(r.stdout).toMatch(
      /\ngroup\s+normal>=1\s+alerting\s+impacts\s+rub\s+speed\s+whine\nsynth_fan\s+\d+%\s+\d+%/,
    );
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(doc)).toEqual(['groups', 'mean', 'byKind']);
    expect(Object.keys(doc.groups[0])).toEqual([
      'name',
      'auc',
      'pauc',
      'pixelAuc',
      'aupro',
      'fitSeconds',
      'msPerClip',
      'normalOverThreshold',
      'normalAlerting',
      'byKind',
    ]);
    expect(Object.keys(doc.mean)).toEqual([
      'auc',
      'pauc',
      'pixelAuc',
      'aupro',
      'fitSeconds',
      'msPerClip',
      'normalOverThreshold',
      'normalAlerting',
    ]);
    expect(doc.groups[0].auc).toBeGreaterThan(0.5);
    expect(doc.byKind.map((k: { kind: string }) => k.kind)).toEqual(['impacts', 'rub', 'speed', 'whine']);
    expect(Object.keys(doc.byKind[0])).toEqual([
      'kind',
      'type',
      'clips',
      'auc',
      'recall',
      'alertRecall',
      'boxIoU',
      'boxIoUClips',
      'eventBoxIoU',
      'pixelAuc',
    ]);
    expect(doc.groups[0].byKind).toEqual(doc.byKind);
    // Every clip of the synthetic fan has pixel truth: each kind's pixelAuc is a share.
    for (const k of doc.byKind) expect(k.pixelAuc).toBeGreaterThanOrEqual(0);
    for (const k of doc.byKind) expect(k.pixelAuc).toBeLessThanOrEqual(1);
    // An alert needs consecutive windows over the threshold, a clip over it one: the alert rule's shares are
    // never larger.
    for (const k of doc.byKind) expect(k.alertRecall).toBeLessThanOrEqual(k.recall);
    expect(doc.groups[0].normalAlerting).toBeLessThanOrEqual(doc.groups[0].normalOverThreshold);
    // The clip-level auc is the mean of the clips' rank-AUCs when every clip is of its own kind.
    const meanKindAuc = doc.byKind.reduce((s: number, k: { auc: number }) => s + k.auc, 0) / 4;
    expect(meanKindAuc).toBeCloseTo(doc.groups[0].auc, 10);
  });

  it('fit takes detector configuration overrides with --config and saves them in the model', () => {
    const out = join(tmp, 'model-config');
    const r = hark(
      'fit',
      join(data, 'synth_fan'),
      '--out',
      out,
      '--config',
      '{"contextFrames": 0, "timeShare": 0.2}',
    );
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(json.config).toMatchObject({ contextFrames: 0, timeShare: 0.2, tonalMarginDb: 3 });
    expect(json.parts).toMatchObject({ context: null, tonal: { marginDb: 3 } });
    const unknown = hark('fit', join(data, 'synth_fan'), '--out', out, '--config', '{"contextFrame": 3}');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/--config: unknown field 'contextFrame'; fields: .*contextFrames/);
    const invalid = hark('fit', join(data, 'synth_fan'), '--out', out, '--config', '{"contextFrames": 4}');
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toMatch(/contextFrames \(4\) must be 0 \(off\) or an odd whole number/);
    // A nested value is named as JSON, never as [object Object].
    const option = hark(
      'fit',
      join(data, 'synth_fan'),
      '--out',
      out,
      '--config',
      '{"methodOptions":{"x":{}}}',
    );
    expect(option.status).toBe(1);
    expect(option.stderr).toMatch(
      /methodOptions has 'x', not an option of patchcore; its options: coresetRatio/,
    );
    const nested = hark('evaluate', data, '--config', '{"methodOptions":{"coresetRatio":{"a":[1]}}}');
    expect(nested.status).toBe(1);
    expect(nested.stderr).toMatch(/coresetRatio \(\{"a":\[1\]\}\) must be in \(0, 1\]/);
    for (const r of [option, nested]) expect(r.stderr).not.toMatch(/\[object/);
    const notJson = hark('evaluate', data, '--config', '{contextFrames');
    expect(notJson.status).not.toBe(0);
    expect(notJson.stderr).toMatch(/'\{contextFrames' is not JSON/);
    const record = hark('evaluate', data, '--config', '{}', '--record');
    expect(record.status).not.toBe(0);
    expect(record.stderr).toMatch(/drop --config to record/);
  });

  it('fails with exit code 1 and one clear line on bad input', () => {
    const noModel = hark(
      'score',
      '--model',
      join(tmp, 'missing'),
      join(data, 'synth_fan', 'test', 'normal_0000.wav'),
    );
    expect(noModel.status).toBe(1);
    expect(noModel.stderr).toMatch(/^hark: .*not a hark model directory/);
    writeFileSync(join(model, 'model.json'), '{');
    const corrupt = hark('score', '--model', model, join(data, 'synth_fan', 'test', 'normal_0000.wav'));
    expect(corrupt.status).toBe(1);
    expect(corrupt.stderr).toMatch(/model\.json is corrupt/);
    const empty = hark('fit', tmp, '--out', join(tmp, 'm2'));
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/has no \.wav files/);
    const badMethod = hark('evaluate', data, '--method', 'knn');
    expect(badMethod.status).not.toBe(0);
    expect(badMethod.stderr).toMatch(/Allowed choices are patchcore, padim, spade/);
  });

  it('formats NaN pixel metrics as a dash in the table', () => {
    const row = {
      name: 'g',
      auc: 1,
      pauc: 1,
      pixelAuc: Number.NaN,
      aupro: Number.NaN,
      fitSeconds: 2,
      msPerClip: 30,
      normalOverThreshold: 0.25,
      normalAlerting: 0,
    };
    expect(evaluationTable({ groups: [row], mean: row }).split('\n')[1]).toMatch(
      /^g\s+1\.000\s+1\.000\s+-\s+-\s+2\.0\s+30$/,
    );
  });

  it('prints the by-kind tables with event labels under their row and a dash for a kind a group lacks', () => {
    const base = { auc: 1, pauc: 1, pixelAuc: 1, aupro: 1, fitSeconds: 1, msPerClip: 1 };
    const tone = {
      kind: 'tone',
      type: 'tone',
      clips: 2,
      auc: 0.75,
      recall: 0.5,
      alertRecall: 0,
      boxIoU: 0.25,
      boxIoUClips: 2,
      eventBoxIoU: 0.5,
      pixelAuc: 0.8125,
    };
    const event = {
      kind: 'event',
      type: 'event',
      clips: 1,
      auc: 1,
      recall: 1,
      alertRecall: 1,
      boxIoU: null,
      boxIoUClips: 0,
      eventBoxIoU: null,
      pixelAuc: 0.95,
    };
    const knock = {
      kind: 'door_knock',
      type: 'event',
      clips: 1,
      auc: 1,
      recall: 1,
      alertRecall: 1,
      boxIoU: null,
      boxIoUClips: 0,
      eventBoxIoU: null,
      pixelAuc: null,
    };
    const text = byKindTables({
      groups: [
        { name: 'm1', ...base, normalOverThreshold: 0.125, normalAlerting: 0, byKind: [tone] },
        { name: 'e1', ...base, normalOverThreshold: 0, normalAlerting: 0, byKind: [event, knock] },
      ],
      mean: { ...base, normalOverThreshold: 0.0625, normalAlerting: 0 },
      byKind: [tone, event, knock],
    }).split('\n');
    expect(text.slice(0, 4)).toEqual([
      'kind         clips    auc  recall  alert boxIoU eventIoU pixelAuc',
      'tone             2  0.750     50%     0%   0.25     0.50    0.813',
      'event            1  1.000    100%   100%      -        -    0.950',
      '  door_knock     1  1.000    100%   100%      -        -        -',
    ]);
    expect(text[6]).toMatch(/^m1\s+13%\s+0%\s+0\.75\/50%\s+-$/);
    expect(text[7]).toMatch(/^e1\s+0%\s+0%\s+-\s+1\.00\/100%$/);
    expect(text[8]).toMatch(/^mean\s+6%\s+0%$/);
  });
});
