import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeWav } from '../wav-encode.js';
import {
  ANOMALY_KINDS,
  MACHINE_VOICES,
  synthMachine,
  type AnomalySpec,
  type GroundTruthEvent,
  type MachineName,
} from './machine.js';
import { Random } from './random.js';

/**
 * Writes a synthetic dataset in the layout of DATASET.md: per machine `train/normal_*.wav`,
 * `test/normal_*.wav`, `test/anomaly_*.wav` + `.json` ground truth, and a `stream.wav` + `stream.json` with
 * anomalies at known times. Normal recordings vary in speed (±1 %), gain and seed, like real units do.
 */
export interface SynthDatasetOptions {
  machines?: readonly MachineName[];
  trainClips?: number;
  testClips?: number;
  clipSeconds?: number;
  streamSeconds?: number;
  /** Seconds between the stream's anomalies (default 12), and the onset of the first (default: the same). */
  anomalyEverySeconds?: number;
  firstAnomalySeconds?: number;
  sampleRate?: number;
  seed?: number;
}

export function writeSynthDataset(root: string, opts: SynthDatasetOptions = {}): { groups: string[] } {
  const machines = opts.machines ?? (Object.keys(MACHINE_VOICES) as MachineName[]);
  const sr = opts.sampleRate ?? 16000;
  const seconds = opts.clipSeconds ?? 5;
  if (!(seconds >= 0.5)) throw new RangeError(`clipSeconds (${seconds}) must be at least 0.5`);
  const rng = new Random(opts.seed ?? 7);
  mkdirSync(root, { recursive: true });
  const groups = machines.map((m) => `synth_${m}`);
  writeJson(join(root, 'index.json'), {
    sampleRate: sr,
    groups: groups.map((name) => ({ name, kind: 'machine' })),
  });
  machines.forEach((machine, g) => {
    const dir = join(root, groups[g]);
    mkdirSync(join(dir, 'train'), { recursive: true });
    mkdirSync(join(dir, 'test'), { recursive: true });
    const voice = MACHINE_VOICES[machine];
    const clip = (anomalies: AnomalySpec[] = []) =>
      synthMachine({
        voice,
        seconds,
        sampleRate: sr,
        seed: Math.floor(rng.next() * 2 ** 31),
        speedOffset: rng.uniform(-0.01, 0.01),
        gain: 10 ** (rng.uniform(-3, 3) / 20),
        anomalies,
      });
    const name = (i: number) => String(i).padStart(4, '0');
    for (let i = 0; i < (opts.trainClips ?? 10); i++) {
      writeFileSync(join(dir, 'train', `normal_${name(i)}.wav`), encodeWav(clip().samples, sr));
    }
    const nTest = opts.testClips ?? 8;
    for (let i = 0; i < nTest; i++) {
      writeFileSync(join(dir, 'test', `normal_${name(i)}.wav`), encodeWav(clip().samples, sr));
      const kind = ANOMALY_KINDS[i % ANOMALY_KINDS.length];
      // 0.6-1.8 s inside a 0.3 s margin; short clips scale both so the anomaly always lies in the clip.
      const margin = Math.min(0.3, seconds * 0.1);
      const duration = rng.uniform(Math.min(0.6, seconds * 0.3), Math.min(1.8, seconds - 2 * margin));
      const onset = rng.uniform(margin, seconds - duration - margin);
      const { samples, events } = clip([{ kind, onset, duration, levelDb: rng.uniform(-12, -4) }]);
      writeFileSync(join(dir, 'test', `anomaly_${name(i)}.wav`), encodeWav(samples, sr));
      writeJson(join(dir, 'test', `anomaly_${name(i)}.json`), {
        type: kind,
        detail: { machine },
        events: rounded(events),
      });
    }
    const streamSeconds = opts.streamSeconds ?? 60;
    const anomalies = streamAnomalies(streamSeconds, opts.anomalyEverySeconds, opts.firstAnomalySeconds);
    const stream = synthMachine({ voice, seconds: streamSeconds, sampleRate: sr, seed: 1000 + g, anomalies });
    writeFileSync(join(dir, 'stream.wav'), encodeWav(stream.samples, sr));
    writeJson(join(dir, 'stream.json'), { type: 'stream', events: rounded(stream.events) });
  });
  return { groups };
}

/** Anomalies in a long recording: 2 s long, the first at `first` s, then one every `every` s, kinds in turn. */
export function streamAnomalies(seconds: number, every = 12, first = every): AnomalySpec[] {
  if (!(every > 0)) throw new RangeError(`anomaly spacing ${every} s must be > 0`);
  const out: AnomalySpec[] = [];
  for (let t = first, k = 0; t + 3 < seconds; t += every, k++) {
    out.push({ kind: ANOMALY_KINDS[k % ANOMALY_KINDS.length], onset: t, duration: 2, levelDb: -6 });
  }
  return out;
}

function rounded(events: GroundTruthEvent[]): GroundTruthEvent[] {
  const r = (v: number) => Math.round(v * 1e4) / 1e4;
  return events.map((e) => ({
    ...e,
    onset: r(e.onset),
    offset: r(e.offset),
    lowHz: r(e.lowHz),
    highHz: r(e.highHz),
  }));
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 1)}\n`);
}
