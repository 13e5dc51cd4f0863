import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { familyEnv, kernelFamilies, type KernelFamily } from '../scripts/kernel-families.mjs';
import { chooseCoretype, cpuFlags, FlatIndex, principalAxes, type Metric } from '../src/index.js';
import { clusteredVectors, randomVectors, rows } from './helpers.js';

// The same flat searches, run in child processes under every OpenBLAS kernel family this CPU can run (the
// family is fixed when OpenBLAS loads, so each needs its own process), give the same bytes: labels and
// distances, to the bit, equal to this process's own answer. The generic SSE3 kernels (Prescott) run on any
// x86-64 CPU, so there are always at least two families to compare there.

const CHILD = fileURLToPath(new URL('./fixtures/kernel-search.mjs', import.meta.url));
const PRESCOTT: KernelFamily = {
  name: 'Prescott',
  env: { OPENBLAS_CORETYPE: 'Prescott', OPENBLAS_L2_SIZE: undefined },
  available: process.arch === 'x64',
  why: `OpenBLAS's Prescott kernels are x86-64 only (this is ${process.arch})`,
};
const families = [...kernelFamilies(), PRESCOTT];

interface Case {
  name: string;
  dim: number;
  metric: Metric;
  bank: Float32Array;
  queries: Float32Array;
  k: number;
  /** Search through the bounded search on this many of the bank's principal axes (each process computes its own). */
  axes?: number;
}

/** Several tiles of 1024 in both directions, exact duplicates across tiles, k around the old 32 limit, small batches. */
function cases(): Case[] {
  const base = randomVectors(3000, 24, 61);
  const doubled = new Float32Array(2 * base.length); // rows i and i + 3000 are equal
  doubled.set(base);
  doubled.set(base, base.length);
  const many = randomVectors(1100, 24, 62);
  const wide = randomVectors(2500, 128, 63).map((x) => x - 0.5);
  const odd = randomVectors(1500, 101, 64);
  const out: Case[] = [];
  for (const k of [1, 32, 33])
    out.push({
      name: `l2 duplicates 1100 x 6000 k ${k}`,
      dim: 24,
      metric: 'l2',
      bank: doubled,
      queries: many,
      k,
    });
  for (const k of [1, 33])
    out.push({
      name: `l2 duplicates 7 queries k ${k}`,
      dim: 24,
      metric: 'l2',
      bank: doubled,
      queries: rows(many, 24, 0, 7),
      k,
    });
  out.push({
    name: 'ip 100 x 6000 k 5',
    dim: 24,
    metric: 'ip',
    bank: doubled,
    queries: rows(many, 24, 0, 100),
    k: 5,
  });
  out.push({
    name: 'l2 d 128, 40 x 2500 k 3',
    dim: 128,
    metric: 'l2',
    bank: wide,
    queries: wide.slice(0, 40 * 128).map((x) => x * 0.9),
    k: 3,
  });
  out.push({
    name: 'ip d 101, 30 x 1500 k 4',
    dim: 101,
    metric: 'ip',
    bank: odd,
    queries: randomVectors(30, 101, 65),
    k: 4,
  });
  // The bounded search (bound_search.h): axes computed under each kernel family (they differ in their last
  // bits), answers that must not. Near twins, fresh draws and far queries of a clustered bank.
  const clustered = clusteredVectors(4000, 64, 66);
  const probe = new Float32Array(150 * 64);
  probe.set(rows(clustered, 64, 0, 50).map((v, i) => v + 0.01 * Math.cos(i)));
  probe.set(clusteredVectors(80, 64, 67), 50 * 64);
  probe.set(
    randomVectors(20, 64, 68).map((v) => 3 * v),
    130 * 64,
  );
  out.push({
    name: 'l2 bounded d 64, 150 x 4000 k 1',
    dim: 64,
    metric: 'l2',
    bank: clustered,
    queries: probe,
    k: 1,
    axes: 19,
  });
  return out;
}

const b64 = (a: Float32Array | BigInt64Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** The first byte where two base64 strings of equal-length buffers differ, or -1. */
function firstDifference(a: string, b: string): number {
  const [x, y] = [Buffer.from(a, 'base64'), Buffer.from(b, 'base64')];
  if (x.length !== y.length) return Math.min(x.length, y.length);
  return x.findIndex((v, i) => v !== y[i]);
}

interface ChildResult {
  corename: string;
  results: Record<string, { distances: string; labels: string }>;
}

const dir = mkdtempSync(join(tmpdir(), 'hark-kernels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runChild(family: KernelFamily, input: string, threads: number): ChildResult {
  const child = spawnSync(process.execPath, [CHILD, input, String(threads)], {
    env: familyEnv(family),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (child.status !== 0)
    throw new Error(`the ${family.name} child failed (status ${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout) as ChildResult;
}

describe('flat search on every OpenBLAS kernel family', () => {
  it('kernel-families.mjs offers SkylakeX exactly where load.ts chooses it', () => {
    const flags = cpuFlags();
    const skylake = kernelFamilies(flags, 'x64').find((f) => f.name === 'SkylakeX');
    expect(skylake?.available).toBe(chooseCoretype(flags) === 'SkylakeX');
    expect(
      kernelFamilies(new Set(['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512dq']), 'arm64')
        .filter((f) => f.available)
        .map((f) => f.name),
    ).toEqual(['unset']);
  });

  for (const family of families.filter((f) => !f.available))
    it.skip(`${family.name}: skipped, ${family.why}`, () => {});

  const runnable = families.filter((f) => f.available);
  it.runIf(runnable.length > 1)(
    `gives the same labels and distances, byte for byte, under ${runnable.map((f) => f.name).join(', ')}`,
    () => {
      const all = cases();
      const input = join(dir, 'cases.json');
      writeFileSync(
        input,
        JSON.stringify(all.map((c) => ({ ...c, bank: b64(c.bank), queries: b64(c.queries) }))),
      );
      // This process's answer (whatever family it loaded) is the reference.
      const reference = Object.fromEntries(
        all.map((c) => {
          const index = new FlatIndex(c.dim, { backend: 'faiss', metric: c.metric });
          index.add(c.bank);
          if (c.axes) index.setProjection(principalAxes(c.bank, c.dim, c.axes));
          const { distances, labels } = index.search(c.queries, c.k);
          index.dispose();
          return [c.name, { distances: b64(distances), labels: b64(labels) }];
        }),
      );
      const runs = runnable.map((family, i) => ({ family, out: runChild(family, input, 1 + (i % 2)) }));
      console.info(
        `kernel families compared: ${runs.map((r) => `${r.family.name} (OpenBLAS ${r.out.corename})`).join(', ')}`,
      );
      for (const { family, out } of runs) {
        // A forced family must really be in use, or the comparison would prove nothing.
        if (family.env.OPENBLAS_CORETYPE)
          expect(out.corename, family.name).toBe(family.env.OPENBLAS_CORETYPE);
        for (const c of all) {
          for (const part of ['labels', 'distances'] as const)
            expect(
              firstDifference(out.results[c.name][part], reference[c.name][part]),
              `${family.name}, ${c.name}: ${part} differ at byte`,
            ).toBe(-1);
        }
      }
    },
  );
});
