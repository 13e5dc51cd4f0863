import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listGroups, readDataset, readGroup, readIndex, type GroundTruth } from '../src/dataset/index.js';
import { makeDataset, wav16 } from './dataset-helpers.js';
import { CORPUS, corpusOrWarn } from '../../../test/support/corpus.js';

const toneEvent = { onset: 0.1, offset: 0.3, lowHz: 400, highHz: 500, label: 'whine' };
const roots: string[] = [];
const dataset = (files: Record<string, unknown>) => {
  const root = makeDataset(files);
  roots.push(root);
  return root;
};
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

describe('wav16 test helper', () => {
  it('writes a RIFF header a WAV reader accepts', () => {
    const b = wav16([0, 1, -1], 16000);
    expect(b.length).toBe(50);
    expect(b.toString('ascii', 0, 4) + b.toString('ascii', 8, 16)).toBe('RIFFWAVEfmt ');
    expect([b.readUInt32LE(24), b.readUInt16LE(34), b.readUInt32LE(40)]).toEqual([16000, 16, 6]);
    expect([b.readInt16LE(44), b.readInt16LE(46), b.readInt16LE(48)]).toEqual([0, 32767, -32767]);
  });
});

describe('synthetic dataset', () => {
  const layout = {
    'pump/train/normal_001.wav': 'wav',
    'pump/train/normal_000.wav': 'wav',
    'pump/train/notes.txt': 'not audio',
    'pump/test/normal_000.wav': 'wav',
    'pump/test/anomaly_000.wav': 'wav',
    'pump/test/anomaly_000.json': { type: 'tone', detail: { freq: 450 }, events: [toneEvent] },
    'pump/test/anomaly_001.wav': 'wav',
    'pump/stream.wav': 'wav',
    'pump/stream.json': { type: 'stream', events: [{ ...toneEvent, onset: 2, offset: 2.5 }] },
    'cafe/test/normal_000.wav': 'wav',
    'notes/readme.txt': 'not a group',
  };

  it('lists every sub-folder with train/ or test/ when there is no index.json', async () => {
    const root = dataset(layout);
    expect(await readIndex(root)).toBeNull();
    expect(await listGroups(root)).toEqual([
      { name: 'cafe', dir: join(root, 'cafe') },
      { name: 'pump', dir: join(root, 'pump') },
    ]);
  });

  it('follows index.json (order, kind, sample rate) when present', async () => {
    const root = dataset({
      ...layout,
      'index.json': { sampleRate: 8000, groups: [{ name: 'pump', kind: 'machine' }] },
    });
    expect(await readIndex(root)).toEqual({
      sampleRate: 8000,
      groups: [{ name: 'pump', kind: 'machine', dir: join(root, 'pump') }],
    });
    expect((await listGroups(root)).map((g) => g.name)).toEqual(['pump']);
  });

  it('reads train paths, labelled test clips with ground truth, and the stream', async () => {
    const root = dataset(layout);
    const pump = await readGroup({ name: 'pump', dir: join(root, 'pump') });
    expect(pump.train).toEqual([
      join(root, 'pump/train/normal_000.wav'),
      join(root, 'pump/train/normal_001.wav'),
    ]);
    expect(pump.test.map((c) => [c.name, c.label, c.groundTruth?.type ?? null])).toEqual([
      ['anomaly_000', 'anomaly', 'tone'],
      ['anomaly_001', 'anomaly', null],
      ['normal_000', 'normal', null],
    ]);
    expect(pump.test[0].groundTruth).toEqual<GroundTruth>({
      type: 'tone',
      detail: { freq: 450 },
      events: [toneEvent],
    });
    expect(pump.stream?.path).toBe(join(root, 'pump/stream.wav'));
    expect(pump.stream?.groundTruth?.events[0].onset).toBe(2);
    const cafe = await readGroup({ name: 'cafe', dir: join(root, 'cafe') });
    expect([cafe.train, cafe.stream, cafe.test.length]).toEqual([[], null, 1]);
    expect((await readDataset(root)).map((g) => g.name)).toEqual(['cafe', 'pump']);
  });
});

describe('dataset errors name the file and the field', () => {
  const readPump = (files: Record<string, unknown>) => {
    const root = dataset(files);
    return readGroup({ name: 'pump', dir: join(root, 'pump') });
  };
  const gt = (event: Record<string, unknown>) => ({
    'pump/test/anomaly_000.wav': 'wav',
    'pump/test/anomaly_000.json': { events: [event] },
  });

  it('rejects a test clip without a normal_/anomaly_ prefix', async () => {
    await expect(readPump({ 'pump/test/clip_000.wav': 'wav' })).rejects.toThrow(
      /clip_000\.wav: test clip names must start with 'normal_' or 'anomaly_'/,
    );
  });

  it('rejects bad ground-truth fields', async () => {
    await expect(readPump(gt({ ...toneEvent, offset: 0.05 }))).rejects.toThrow(
      /anomaly_000\.json: events\[0\]\.offset \(0\.05\) must be >= onset \(0\.1\) seconds/,
    );
    await expect(readPump(gt({ ...toneEvent, highHz: 'x' }))).rejects.toThrow(
      /events\[0\]\.highHz \("x"\) must be a finite number/,
    );
    await expect(readPump(gt({ ...toneEvent, lowHz: 900 }))).rejects.toThrow(
      /highHz \(500\) must be >= lowHz \(900\)/,
    );
    await expect(readPump(gt({ ...toneEvent, label: 3 }))).rejects.toThrow(
      /events\[0\]\.label must be a string/,
    );
    await expect(
      readPump({ 'pump/test/anomaly_000.wav': 'wav', 'pump/test/anomaly_000.json': '{"events": [' }),
    ).rejects.toThrow(/anomaly_000\.json: not valid JSON/);
    await expect(
      readPump({ 'pump/test/anomaly_000.wav': 'wav', 'pump/test/anomaly_000.json': { type: 'x' } }),
    ).rejects.toThrow(/'events' must be an array/);
  });

  it('rejects orphan JSON, a normal clip with events and stream.json without stream.wav', async () => {
    await expect(readPump({ 'pump/test/anomaly_009.json': { events: [] } })).rejects.toThrow(
      /anomaly_009\.json has no clip anomaly_009\.wav/,
    );
    await expect(
      readPump({ 'pump/test/normal_000.wav': 'wav', 'pump/test/normal_000.json': { events: [toneEvent] } }),
    ).rejects.toThrow(/normal_000\.json: a normal clip cannot have anomalous events/);
    await expect(
      readPump({ 'pump/test/normal_000.wav': 'wav', 'pump/stream.json': { events: [] } }),
    ).rejects.toThrow(/stream\.json has no stream\.wav/);
  });

  it('rejects a bad index.json or a listed group without data', async () => {
    const base = { 'pump/train/a.wav': 'wav' };
    await expect(
      listGroups(dataset({ ...base, 'index.json': { groups: [{ name: 'fan' }] } })),
    ).rejects.toThrow(/index\.json lists group 'fan' but .*fan has no train\/ or test\//);
    await expect(
      listGroups(dataset({ ...base, 'index.json': { groups: [{ name: 'pump', kind: 'robot' }] } })),
    ).rejects.toThrow(/groups\[0\]\.kind \("robot"\) must be 'machine' or 'scene'/);
    await expect(
      listGroups(dataset({ ...base, 'index.json': { sampleRate: -1, groups: [] } })),
    ).rejects.toThrow(/'sampleRate' \(-1\)/);
    await expect(
      listGroups(dataset({ ...base, 'index.json': { groups: [{ name: '../x' }] } })),
    ).rejects.toThrow(/groups\[0\]\.name/);
    await expect(listGroups('/nonexistent/hark')).rejects.toThrow(
      'dataset root /nonexistent/hark is not a folder',
    );
  });
});

const hasCorpus = corpusOrWarn('dataset-reader.test.ts');

describe.skipIf(!hasCorpus)('real corpus (../shared/corpus)', () => {
  it('reads all 9 groups from index.json with their files', async () => {
    const index = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8')) as {
      groups: { name: string }[];
    };
    const groups = await readDataset(CORPUS);
    expect(groups.map((g) => g.name)).toEqual(index.groups.map((g) => g.name));
    expect((await readIndex(CORPUS))?.sampleRate).toBe(16000);
    for (const g of groups) {
      expect(g.train.length, g.name).toBe(16);
      expect(g.test.filter((c) => c.label === 'normal').length, g.name).toBe(10);
      const anomalies = g.test.filter((c) => c.label === 'anomaly');
      expect(anomalies.length, g.name).toBe(12);
      expect(
        anomalies.every((c) => c.groundTruth !== null && c.groundTruth.events.length > 0),
        g.name,
      ).toBe(true);
      expect(g.stream !== null, g.name).toBe(g.name === 'm16_factory');
    }
    const stream = groups.find((g) => g.name === 'm16_factory')?.stream;
    expect(stream?.groundTruth?.type).toBe('stream');
    expect(stream?.groundTruth?.events.length).toBe(4);
  });
});
