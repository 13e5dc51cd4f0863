import { readFileSync } from 'node:fs';
import { decodeWav, type MelParams } from '../src/index.js';

/** One golden case of fixtures/golden.json (written by scripts/make-golden.py). */
export interface GoldenCase {
  name: string;
  input: string;
  params: MelParams;
  nMels: number;
  nFrames: number;
  output: string;
}

const dir = new URL('./fixtures/', import.meta.url);

export const golden: { torchaudio: string; cases: GoldenCase[] } = JSON.parse(
  readFileSync(new URL('golden.json', dir), 'utf8'),
);

/** A float32 little-endian fixture file as a Float32Array. */
export function readF32(file: string): Float32Array {
  const b = readFileSync(new URL(file, dir));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The input signal of a case: a `.f32` file, or a WAV decoded with our decoder. */
export function goldenInput(c: GoldenCase): Float32Array {
  if (!c.input.endsWith('.wav')) return readF32(c.input);
  return decodeWav(readFileSync(new URL(c.input, dir)), c.input).samples;
}

/** Path of a fixture file. */
export const fixturePath = (file: string): string => new URL(file, dir).pathname;
