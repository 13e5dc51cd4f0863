/**
 * Test helpers for the dataset reader: a minimal 16-bit PCM RIFF WAV writer and a builder of small
 * synthetic datasets in the DATASET.md layout, in a temporary folder.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Encodes mono float samples in [-1, 1] as a 16-bit PCM RIFF WAV file (44-byte header). */
export function wav16(samples: ArrayLike<number>, sampleRate: number): Buffer {
  const data = samples.length * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16); // fmt chunk size
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * 2, 28); // byte rate
  b.writeUInt16LE(2, 32); // block align
  b.writeUInt16LE(16, 34); // bits per sample
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) {
    b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), 44 + 2 * i);
  }
  return b;
}

/** A 440 Hz tone of `n` samples at 8 kHz, as WAV bytes. */
export const toneWav = (n = 800): Buffer =>
  wav16(
    Float64Array.from({ length: n }, (_, i) => 0.5 * Math.sin(i / 3)),
    8000,
  );

/**
 * Writes `files` (relative path -> content; objects become JSON, `'wav'` a short tone) under a new
 * temporary folder and returns its path.
 */
export function makeDataset(files: Record<string, unknown>): string {
  const root = mkdtempSync(join(tmpdir(), 'hark-dataset-'));
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    if (content === 'wav') writeFileSync(path, toneWav());
    else if (typeof content === 'string') writeFileSync(path, content);
    else writeFileSync(path, JSON.stringify(content));
  }
  return root;
}
