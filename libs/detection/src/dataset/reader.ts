/**
 * Reads a dataset in the DCASE-like layout of DATASET.md: `<root>/[index.json]`, one folder per group with
 * `train/*.wav`, `test/{normal,anomaly}_*.wav` (+ optional `anomaly_*.json` ground truth) and an optional
 * `stream.wav` + `stream.json`. Only paths and ground truth are read here; decoding audio is `libs/dsp`'s job.
 * Lists are sorted by file name so runs are reproducible.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readGroundTruth, type GroundTruth } from './ground-truth.js';

export type GroupKind = 'machine' | 'scene';

/** One group (a machine or a scene): one model is fitted per group. */
export interface GroupInfo {
  name: string;
  /** From index.json; undefined when there is no index or it does not say. */
  kind?: GroupKind;
  /** Absolute or root-relative folder of the group. */
  dir: string;
}

/** Contents of the optional index.json. */
export interface DatasetIndex {
  /** Declared sample rate in Hz, when given. */
  sampleRate?: number;
  groups: GroupInfo[];
}

/** One test clip; its label comes from the file-name prefix. */
export interface TestClip {
  /** File name without `.wav`, e.g. `anomaly_0003`. */
  name: string;
  path: string;
  label: 'normal' | 'anomaly';
  /** Parsed `<name>.json`, or null when the clip has none (then it counts for clip metrics only). */
  groundTruth: GroundTruth | null;
}

/** A long recording with anomalies at known times. */
export interface StreamRecording {
  path: string;
  /** Parsed `stream.json`, or null when absent. */
  groundTruth: GroundTruth | null;
}

/** Everything a group offers. */
export interface DatasetGroup extends GroupInfo {
  /** Normal training clips (WAV paths). */
  train: string[];
  test: TestClip[];
  stream: StreamRecording | null;
}

const isDir = (path: string) =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
const isFile = (path: string) =>
  stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
const listFiles = async (dir: string) => ((await isDir(dir)) ? (await readdir(dir)).sort() : []);
const WAV = /\.wav$/i;

/** Reads and validates `<root>/index.json`; null when there is none. @throws naming the bad field. */
export async function readIndex(root: string): Promise<DatasetIndex | null> {
  const path = join(root, 'index.json');
  if (!(await isFile(path))) return null;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const { sampleRate, groups } = json ?? {};
  if (sampleRate !== undefined && !(typeof sampleRate === 'number' && sampleRate > 0)) {
    throw new Error(`${path}: 'sampleRate' (${JSON.stringify(sampleRate)}) must be a positive number of Hz`);
  }
  if (!Array.isArray(groups)) throw new Error(`${path}: 'groups' must be an array of {name, kind}`);
  const infos = groups.map((g: Record<string, unknown>, i): GroupInfo => {
    const name = g?.name;
    if (typeof name !== 'string' || name === '' || /[/\\]/.test(name) || name.startsWith('.')) {
      throw new Error(
        `${path}: groups[${i}].name (${JSON.stringify(name)}) must be a folder name in ${root}`,
      );
    }
    if (g.kind !== undefined && g.kind !== 'machine' && g.kind !== 'scene') {
      throw new Error(`${path}: groups[${i}].kind (${JSON.stringify(g.kind)}) must be 'machine' or 'scene'`);
    }
    return { name, ...(g.kind ? { kind: g.kind as GroupKind } : {}), dir: join(root, name) };
  });
  return sampleRate === undefined ? { groups: infos } : { sampleRate, groups: infos };
}

/**
 * The groups of a dataset: those of index.json when present (each must have `train/` or `test/`), otherwise
 * every sub-folder holding `train/` or `test/`, sorted by name.
 */
export async function listGroups(root: string): Promise<GroupInfo[]> {
  if (!(await isDir(root))) throw new Error(`dataset root ${root} is not a folder`);
  const index = await readIndex(root);
  const hasData = async (dir: string) =>
    (await isDir(join(dir, 'train'))) || (await isDir(join(dir, 'test')));
  if (index) {
    for (const g of index.groups) {
      if (!(await hasData(g.dir))) {
        throw new Error(
          `${join(root, 'index.json')} lists group '${g.name}' but ${g.dir} has no train/ or test/`,
        );
      }
    }
    return index.groups;
  }
  const groups: GroupInfo[] = [];
  for (const name of await listFiles(root)) {
    if (!name.startsWith('.') && (await hasData(join(root, name))))
      groups.push({ name, dir: join(root, name) });
  }
  return groups;
}

/** Reads one group's file lists and ground truth. @throws naming the file on a bad name or JSON. */
export async function readGroup(group: GroupInfo): Promise<DatasetGroup> {
  const train = (await listFiles(join(group.dir, 'train')))
    .filter((f) => WAV.test(f))
    .map((f) => join(group.dir, 'train', f));
  const testDir = join(group.dir, 'test');
  const files = await listFiles(testDir);
  const wavs = new Set(files.filter((f) => WAV.test(f)).map((f) => f.replace(WAV, '')));
  for (const f of files.filter((f) => f.endsWith('.json'))) {
    if (!wavs.has(f.slice(0, -5)))
      throw new Error(`${join(testDir, f)} has no clip ${f.slice(0, -5)}.wav next to it`);
  }
  const test: TestClip[] = [];
  for (const name of wavs) {
    const path = join(testDir, `${name}.wav`);
    const label = name.startsWith('normal_') ? 'normal' : name.startsWith('anomaly_') ? 'anomaly' : null;
    if (label === null) throw new Error(`${path}: test clip names must start with 'normal_' or 'anomaly_'`);
    const jsonPath = join(testDir, `${name}.json`);
    const groundTruth = files.includes(`${name}.json`) ? await readGroundTruth(jsonPath) : null;
    if (label === 'normal' && groundTruth && groundTruth.events.length > 0) {
      throw new Error(
        `${jsonPath}: a normal clip cannot have anomalous events; rename the clip 'anomaly_...'`,
      );
    }
    test.push({ name, path, label, groundTruth });
  }
  const streamWav = join(group.dir, 'stream.wav');
  const streamJson = join(group.dir, 'stream.json');
  const [hasWav, hasJson] = [await isFile(streamWav), await isFile(streamJson)];
  if (hasJson && !hasWav) throw new Error(`${streamJson} has no stream.wav next to it`);
  const stream = hasWav
    ? { path: streamWav, groundTruth: hasJson ? await readGroundTruth(streamJson) : null }
    : null;
  return { ...group, train, test, stream };
}

/** Every group of a dataset, read. */
export async function readDataset(root: string): Promise<DatasetGroup[]> {
  const groups = await listGroups(root);
  return Promise.all(groups.map(readGroup));
}
