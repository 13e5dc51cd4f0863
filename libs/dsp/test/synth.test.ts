import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MACHINE_VOICES,
  streamAnomalies,
  synthMachine,
  writeSynthDataset,
  type AnomalyKind,
} from '../src/synth/index.js';
import { encodeWav } from '../src/wav-encode.js';

/** Mean power of `x[i0, i1)` in the band [lo, hi] Hz, by a direct DFT on a coarse frequency grid. */
function bandPower(x: Float32Array, sr: number, i0: number, i1: number, lo: number, hi: number): number {
  let total = 0;
  let bins = 0;
  for (let f = lo; f <= hi; f += Math.max(5, (hi - lo) / 40)) {
    let re = 0;
    let im = 0;
    for (let i = i0; i < i1; i++) {
      re += x[i] * Math.cos((2 * Math.PI * f * i) / sr);
      im -= x[i] * Math.sin((2 * Math.PI * f * i) / sr);
    }
    total += (re * re + im * im) / (i1 - i0);
    bins++;
  }
  return total / bins;
}

describe('synthMachine', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = synthMachine({ voice: MACHINE_VOICES.pump, seconds: 0.5, seed: 3 }).samples;
    const b = synthMachine({ voice: MACHINE_VOICES.pump, seconds: 0.5, seed: 3 }).samples;
    const c = synthMachine({ voice: MACHINE_VOICES.pump, seconds: 0.5, seed: 4 }).samples;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.length).toBe(8000);
  });

  it.each<AnomalyKind>(['whine', 'impacts', 'rub', 'speed'])(
    'puts the %s anomaly inside its ground-truth box',
    (kind) => {
      const sr = 16000;
      const { samples, events } = synthMachine({
        voice: MACHINE_VOICES.gearbox,
        seconds: 3,
        seed: 9,
        anomalies: [{ kind, onset: 1.5, duration: 1, levelDb: -6 }],
      });
      expect(events).toHaveLength(1);
      const e = events[0];
      expect(e).toMatchObject({ onset: 1.5, offset: 2.5, label: kind });
      expect(e.lowHz).toBeLessThan(e.highHz);
      expect(e.highHz).toBeLessThanOrEqual(sr / 2);
      const n = 2048;
      // A speed change moves the tones rather than adding energy: look where the gear mesh tone moves to.
      const mesh = MACHINE_VOICES.gearbox.rotationHz * MACHINE_VOICES.gearbox.meshOrder * 1.06;
      const [lo, hi] = kind === 'speed' ? [mesh - 4, mesh + 4] : [e.lowHz, e.highHz];
      const before = bandPower(samples, sr, 4000, 4000 + n, lo, hi);
      const during = bandPower(samples, sr, 28000, 28000 + n, lo, hi);
      expect(10 * Math.log10(during / before)).toBeGreaterThan(6);
    },
  );
});

describe('writeSynthDataset', () => {
  const root = mkdtempSync(join(tmpdir(), 'hark-synth-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes the DATASET.md layout with ground truth inside each clip', () => {
    const { groups } = writeSynthDataset(root, {
      machines: ['fan'],
      trainClips: 2,
      testClips: 2,
      clipSeconds: 2,
      streamSeconds: 30,
    });
    expect(groups).toEqual(['synth_fan']);
    const dir = join(root, 'synth_fan');
    expect(readdirSync(join(dir, 'train')).sort()).toEqual(['normal_0000.wav', 'normal_0001.wav']);
    expect(readdirSync(join(dir, 'test')).sort()).toEqual([
      'anomaly_0000.json',
      'anomaly_0000.wav',
      'anomaly_0001.json',
      'anomaly_0001.wav',
      'normal_0000.wav',
      'normal_0001.wav',
    ]);
    const truth = JSON.parse(readFileSync(join(dir, 'test', 'anomaly_0001.json'), 'utf8'));
    expect(truth.events[0].onset).toBeGreaterThanOrEqual(0);
    expect(truth.events[0].offset).toBeLessThanOrEqual(2);
    const stream = JSON.parse(readFileSync(join(dir, 'stream.json'), 'utf8'));
    expect(stream.events.map((e: { onset: number }) => e.onset)).toEqual([12, 24]);
    expect(readFileSync(join(dir, 'stream.wav')).length).toBe(44 + 2 * 30 * 16000);
    expect(JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')).groups).toEqual([
      { name: 'synth_fan', kind: 'machine' },
    ]);
  });
});

describe('writeSynthDataset on short clips', () => {
  it('keeps every anomaly inside its clip, whatever the clip length', () => {
    for (const clipSeconds of [0.5, 1, 1.5, 3]) {
      const root = mkdtempSync(join(tmpdir(), 'hark-synth-short-'));
      try {
        writeSynthDataset(root, {
          machines: ['pump'],
          trainClips: 0,
          testClips: 12,
          clipSeconds,
          streamSeconds: 1,
        });
        const test = join(root, 'synth_pump', 'test');
        for (const f of readdirSync(test).filter((x) => x.endsWith('.json'))) {
          for (const e of JSON.parse(readFileSync(join(test, f), 'utf8')).events) {
            expect(e.onset, `${clipSeconds} s, ${f}`).toBeGreaterThanOrEqual(0);
            expect(e.offset, `${clipSeconds} s, ${f}`).toBeLessThanOrEqual(clipSeconds);
            expect(e.offset).toBeGreaterThan(e.onset);
          }
        }
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }
    expect(() => writeSynthDataset(join(tmpdir(), 'never'), { clipSeconds: 0.4 })).toThrow(
      /clipSeconds \(0.4\) must be at least 0.5/,
    );
  });
});

describe('streamAnomalies', () => {
  it('spaces the anomalies of a long stream as asked, kinds in turn', () => {
    const a = streamAnomalies(300, 60, 20);
    expect(a.map((x) => x.onset)).toEqual([20, 80, 140, 200, 260]);
    expect(new Set(a.slice(0, 4).map((x) => x.kind)).size).toBe(4);
    expect(streamAnomalies(30).map((x) => x.onset)).toEqual([12, 24]);
  });
});

describe('encodeWav', () => {
  it('writes a RIFF header and clipped 16-bit samples', () => {
    const wav = encodeWav(Float32Array.from([0, 0.5, -1, 2]), 16000);
    const v = new DataView(wav.buffer);
    expect(new TextDecoder().decode(wav.subarray(0, 4))).toBe('RIFF');
    expect(v.getUint32(24, true)).toBe(16000);
    expect([0, 1, 2, 3].map((i) => v.getInt16(44 + 2 * i, true))).toEqual([0, 16384, -32767, 32767]);
  });

  it('writes float samples bit-exactly and rejects a bad rate', () => {
    const wav = encodeWav(Float32Array.from([0.1, -0.25]), 8000, 'f32');
    expect(new DataView(wav.buffer).getUint16(20, true)).toBe(3);
    expect(new DataView(wav.buffer).getFloat32(48, true)).toBe(Math.fround(-0.25));
    expect(() => encodeWav(new Float32Array(1), 0)).toThrow(/sampleRate \(0\)/);
  });
});
