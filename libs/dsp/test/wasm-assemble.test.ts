import { describe, expect, it } from 'vitest';
import { assembleKernel, type KernelSource } from '../src/wasm/assemble.js';

type Exports = { memory: { buffer: ArrayBuffer }; run: (...args: number[]) => void };
const { WebAssembly } = globalThis as unknown as {
  WebAssembly: {
    Instance: new (m: object, i: object) => { exports: Exports };
    Module: new (b: Uint8Array) => object;
  };
};
const instantiate = (src: KernelSource) =>
  new WebAssembly.Instance(new WebAssembly.Module(assembleKernel(src)), {}).exports;

/** out[0] = half the sum of n floats at x (SIMD, n a multiple of 4); out[1], out[2] = how many are < 0, >= 0. */
const SUMS: KernelSource = {
  name: 'run',
  params: [
    ['$x', 'i32'],
    ['$n', 'i32'],
    ['$out', 'i32'],
  ],
  locals: [
    ['$i', 'i32'],
    ['$neg', 'i32'],
    ['$pos', 'i32'],
    ['$acc', 'v128'],
    ['$scale', 'f32'],
  ],
  memoryPages: 1,
  body: `
    (local.set $acc (v128.const f32x4 0 0 0 0))
    (local.set $scale (f32.const 0.5))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $each
        (local.set $acc (f32x4.add (local.get $acc) (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br_if $each (i32.lt_u (local.get $i) (local.get $n)))))
    (local.set $i (i32.const 0))
    (loop $count ;; scalar pass over the same floats: negatives and the others
      (if (f32.lt (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (f32.const 0))
        (then (local.set $neg (i32.add (local.get $neg) (i32.const 1))))
        (else (local.set $pos (i32.add (local.get $pos) (i32.const 1)))))
      (br_if $count (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (f32.store (local.get $out) (f32.mul (local.get $scale) (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))))
    (f32.store offset=4 (local.get $out) (f32.convert_i32_u (local.get $neg)))
    (f32.store offset=8 (local.get $out) (f32.convert_i32_u (local.get $pos)))
  `,
};

describe('assembleKernel', () => {
  it('builds a module whose function computes what its WAT says', () => {
    const { memory, run } = instantiate(SUMS);
    const heap = new Float32Array(memory.buffer);
    const x = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 10);
    heap.set(x, 16);
    run(64, 64, 0);
    expect(heap[0]).toBeCloseTo(x.reduce((a, b) => a + b, 0) / 2, 4);
    expect([heap[1], heap[2]]).toEqual([x.filter((v) => v < 0).length, x.filter((v) => v >= 0).length]);
  });

  it('names what it cannot encode', () => {
    const body = (b: string) => ({ ...SUMS, body: b });
    expect(() => assembleKernel(body('(f64.add)'))).toThrow("instruction 'f64.add' is not supported");
    expect(() => assembleKernel(body('(local.get $nope)'))).toThrow('unknown local $nope in local.get');
    expect(() => assembleKernel(body('(loop $a (br_if $b (i32.const 1)))'))).toThrow(
      'unknown label $b in br_if',
    );
    expect(() => assembleKernel(body('(i32.add (i32.const 1)'))).toThrow('unbalanced "("');
    expect(() => assembleKernel(body('(i32.const 1))'))).toThrow('unbalanced ")"');
    expect(() => assembleKernel(body('(i32.const 1.5)'))).toThrow("i32.const needs an integer, got '1.5'");
    expect(() => assembleKernel(body('(f32x4.extract_lane 4 (local.get $acc))'))).toThrow(
      'lane (4) must be in 0..3',
    );
    expect(() => assembleKernel(body('(v128.load align=32 (i32.const 0))'))).toThrow(
      'align must be a power of two <= 16',
    );
    expect(() => assembleKernel({ ...SUMS, locals: [['$x', 'i32']] })).toThrow('local $x declared twice');
  });
});
