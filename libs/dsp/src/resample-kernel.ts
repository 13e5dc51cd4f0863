import { assembleKernel } from './wasm/assemble.js';

/**
 * The resampler's inner loop in WebAssembly SIMD, and the one process-wide instance that runs it.
 *
 * Why WebAssembly: the kernel is a dot product of ~300 taps per output sample. V8 does not vectorise
 * JavaScript, and the tightest TypeScript loop over Float32Arrays reached ~1.2 GMAC/s here (~240x real time
 * for 48 -> 16 kHz); 128-bit SIMD with four independent accumulators reaches ~10 GMAC/s on the same core.
 *
 * `run` computes `n` outputs. Output o is the dot product of the `taps` coefficients of filter phase p (row p
 * of the table) with `taps` consecutive input samples starting at `x`; then p advances by `down` phases
 * (`dI` whole samples and `dP` phases, carrying one sample when p reaches `up`). `taps` must be a multiple
 * of 16 (4 accumulators x 4 lanes); all pointers are byte addresses.
 */
const KERNEL = {
  name: 'run',
  params: [
    ['$out', 'i32'],
    ['$n', 'i32'],
    ['$x', 'i32'],
    ['$table', 'i32'],
    ['$taps', 'i32'],
    ['$p', 'i32'],
    ['$up', 'i32'],
    ['$dI', 'i32'],
    ['$dP', 'i32'],
  ],
  locals: [
    ['$rowBytes', 'i32'],
    ['$end', 'i32'],
    ['$row', 'i32'],
    ['$rowEnd', 'i32'],
    ['$xp', 'i32'],
    ['$a0', 'v128'],
    ['$a1', 'v128'],
    ['$a2', 'v128'],
    ['$a3', 'v128'],
  ],
  memoryPages: 1,
  body: `
    (local.set $rowBytes (i32.shl (local.get $taps) (i32.const 2)))
    (local.set $dI (i32.shl (local.get $dI) (i32.const 2)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      (loop $output
        (local.set $row (i32.add (local.get $table) (i32.mul (local.get $p) (local.get $rowBytes))))
        (local.set $rowEnd (i32.add (local.get $row) (local.get $rowBytes)))
        (local.set $xp (local.get $x))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        ;; 16 taps per turn into four independent accumulators (the adds' latency would bound one)
        (loop $tap
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (v128.load (local.get $row)) (v128.load (local.get $xp)))))
          (local.set $a1 (f32x4.add (local.get $a1)
            (f32x4.mul (v128.load offset=16 (local.get $row)) (v128.load offset=16 (local.get $xp)))))
          (local.set $a2 (f32x4.add (local.get $a2)
            (f32x4.mul (v128.load offset=32 (local.get $row)) (v128.load offset=32 (local.get $xp)))))
          (local.set $a3 (f32x4.add (local.get $a3)
            (f32x4.mul (v128.load offset=48 (local.get $row)) (v128.load offset=48 (local.get $xp)))))
          (local.set $row (i32.add (local.get $row) (i32.const 64)))
          (local.set $xp (i32.add (local.get $xp) (i32.const 64)))
          (br_if $tap (i32.lt_u (local.get $row) (local.get $rowEnd))))
        (local.set $a0 (f32x4.add
          (f32x4.add (local.get $a0) (local.get $a1))
          (f32x4.add (local.get $a2) (local.get $a3))))
        (f32.store (local.get $out) (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
          (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
        ;; next output: p += down, as dI samples and dP phases with a carry
        (local.set $p (i32.add (local.get $p) (local.get $dP)))
        (local.set $x (i32.add (local.get $x) (local.get $dI)))
        (if (i32.ge_u (local.get $p) (local.get $up))
          (then
            (local.set $p (i32.sub (local.get $p) (local.get $up)))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br_if $output (i32.lt_u (local.get $out) (local.get $end)))))
  `,
} as const;

/** Taps per output are padded to a multiple of this (the kernel's 16-float turn). */
export const TAP_MULTIPLE = 16;

/** The kernel's `run` (see the top of this file): pointers are byte addresses into the instance's memory. */
type Run = (
  out: number,
  n: number,
  x: number,
  table: number,
  taps: number,
  p: number,
  up: number,
  dI: number,
  dP: number,
) => void;

/** The part of the WebAssembly JS API used here (@types/node does not declare it and lib.dom is not loaded). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: { memory: WasmMemory; run: Run } };
}

const PAGE = 65536;
/** Table bytes past which tables no resampler uses are dropped before another is stored. */
export const TABLE_CACHE_BYTES = 32 * 2 ** 20;
const align64 = (bytes: number) => Math.ceil(bytes / 64) * 64;

/**
 * One instance and one memory for the whole process (JavaScript is single-threaded here; a worker gets its
 * own): filter tables are stored once per design and shared by every resampler of that design (64 sensors
 * at 48 kHz share one table), and one scratch area after the tables holds a call's input and output. A
 * WebAssembly memory per resampler would reserve gigabytes of address space each.
 *
 * Tables are counted by their users ({@link acquire} / {@link release}). A table no resampler uses stays as a
 * cache until storing a new one would pass {@link TABLE_CACHE_BYTES}; then the unused tables are dropped and
 * the used ones moved down ({@link address} follows them). A WebAssembly memory never shrinks, so without
 * this every sample rate a sensor ever declared would keep its table (MBs for rates with few common factors).
 */
class SharedKernel {
  private readonly memory: WasmMemory;
  private readonly runKernel: Run;
  private heap: Float32Array;
  private readonly tables = new Map<string, { at: number; floats: number; users: number }>();
  private tablesEnd = 0;
  private scratchBytes = 0;

  constructor() {
    const bytes = assembleKernel(KERNEL);
    const { WebAssembly } = globalThis as unknown as { WebAssembly: WasmApi };
    let module: object;
    try {
      module = new WebAssembly.Module(bytes);
    } catch (e) {
      throw new Error(
        `the resampler needs WebAssembly SIMD, which this JavaScript engine rejected (${(e as Error).message}); ` +
          'use Node.js >= 16.4 or a current browser',
      );
    }
    const { exports } = new WebAssembly.Instance(module, {});
    this.memory = exports.memory;
    this.runKernel = exports.run;
    this.heap = new Float32Array(this.memory.buffer);
  }

  /** One more user of the table stored under `key`, building it with `make` the first time. */
  acquire(key: string, floats: number, make: () => Float32Array): void {
    let t = this.tables.get(key);
    if (!t) {
      if (this.tablesEnd + 4 * floats > TABLE_CACHE_BYTES) this.compact();
      t = { at: this.tablesEnd, floats, users: 0 };
      this.tablesEnd = align64(t.at + 4 * floats);
      this.reserve(this.tablesEnd + this.scratchBytes);
      this.heap.set(make(), t.at / 4);
      this.tables.set(key, t);
    }
    t.users++;
  }

  /** One user fewer; the table stays cached until space is needed. */
  release(key: string): void {
    const t = this.tables.get(key);
    if (t && t.users > 0) t.users--;
  }

  /** Byte address of an acquired table (it may move when another is stored: read it for each call). */
  address(key: string): number {
    const t = this.tables.get(key);
    if (!t || t.users === 0) throw new Error(`resampler table ${key} is not acquired`);
    return t.at;
  }

  /** Bytes of tables stored (used and cached), for tests and reports. */
  get tableBytes(): number {
    return this.tablesEnd;
  }

  /** Drops unused tables and moves the used ones down, in address order. */
  private compact(): void {
    let end = 0;
    const live = [...this.tables.entries()].sort((a, b) => a[1].at - b[1].at);
    for (const [key, t] of live) {
      if (t.users === 0) {
        this.tables.delete(key);
        continue;
      }
      if (t.at !== end) this.heap.copyWithin(end / 4, t.at / 4, t.at / 4 + t.floats);
      t.at = end;
      end = align64(end + 4 * t.floats);
    }
    this.tablesEnd = end;
  }

  /** Makes the scratch area (after the tables) at least `bytes` long. */
  ensureScratch(bytes: number): void {
    if (bytes <= this.scratchBytes) return;
    this.scratchBytes = align64(bytes);
    this.reserve(this.tablesEnd + this.scratchBytes);
  }

  /** The scratch area as floats: `[start, start + length)` of {@link heapView}. */
  get scratch(): number {
    return this.tablesEnd / 4;
  }

  get heapView(): Float32Array {
    return this.heap;
  }

  /**
   * Runs the kernel with the arguments of {@link Run}, except that `out` and `x` are float indices into
   * {@link heapView} here (`table` stays a byte address).
   */
  run(...[out, n, x, ...rest]: Parameters<Run>): void {
    this.runKernel(4 * out, n, 4 * x, ...rest);
  }

  private reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    this.memory.grow(Math.ceil((bytes - have) / PAGE));
    this.heap = new Float32Array(this.memory.buffer); // growing detaches the old buffer
  }
}

export type { SharedKernel };

let shared: SharedKernel | null = null;

/** The process-wide kernel, compiled on first use. */
export function sharedKernel(): SharedKernel {
  shared ??= new SharedKernel();
  return shared;
}
