/**
 * A small assembler for the folded WebAssembly text format (WAT), enough for one-function numeric kernels:
 * the kernel stays readable source in the repository (no binary blob, no build-time toolchain) and is turned
 * into module bytes when first used.
 *
 * Supported: i32/f32/v128 values; `block`, `loop`, `if`/`then`/`else` with `$labels`; `br`, `br_if`;
 * `local.get/set/tee` by `$name`; i32 and f32 arithmetic and comparisons, `f32.convert_i32_u`; `f32.load/store`, `v128.load/store`
 * with `offset=`/`align=`; `v128.const` (i32x4/f32x4), `f32x4.splat`, `f32x4.extract_lane`, `f32x4.add/sub/mul`.
 * Anything else is an error naming the instruction. The output is a module with one exported memory and
 * one exported function with no results.
 */

type ValType = 'i32' | 'f32' | 'v128';
const VAL_TYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

/** Plain opcodes with no immediates. */
const PLAIN: Record<string, number[]> = {
  'i32.eqz': [0x45],
  'i32.eq': [0x46],
  'i32.ne': [0x47],
  'i32.lt_s': [0x48],
  'i32.lt_u': [0x49],
  'i32.gt_s': [0x4a],
  'i32.gt_u': [0x4b],
  'i32.le_u': [0x4d],
  'i32.ge_s': [0x4e],
  'i32.ge_u': [0x4f],
  'i32.add': [0x6a],
  'i32.sub': [0x6b],
  'i32.mul': [0x6c],
  'i32.and': [0x71],
  'i32.shl': [0x74],
  'i32.shr_u': [0x76],
  'f32.lt': [0x5d],
  'f32.gt': [0x5e],
  'f32.add': [0x92],
  'f32.sub': [0x93],
  'f32.mul': [0x94],
  'f32.convert_i32_u': [0xb3],
  'f32x4.add': [0xfd, ...uleb(228)],
  'f32x4.sub': [0xfd, ...uleb(229)],
  'f32x4.mul': [0xfd, ...uleb(230)],
  'f32x4.splat': [0xfd, ...uleb(19)],
};

/** Memory instructions: opcode bytes and natural alignment (log2 bytes). */
const MEMORY: Record<string, { op: number[]; align: number }> = {
  'f32.load': { op: [0x2a], align: 2 },
  'f32.store': { op: [0x38], align: 2 },
  'v128.load': { op: [0xfd, ...uleb(0)], align: 4 },
  'v128.store': { op: [0xfd, ...uleb(11)], align: 4 },
};

type Node = string | Node[];

export interface KernelSource {
  /** Name of the exported function. */
  name: string;
  params: readonly (readonly [string, ValType])[];
  locals: readonly (readonly [string, ValType])[];
  /** The function body: folded WAT instructions. */
  body: string;
  /** Initial pages (64 KiB) of the exported memory `memory`. */
  memoryPages: number;
}

/** Assembles a one-function module; throws naming the instruction or name it cannot encode. */
export function assembleKernel(src: KernelSource): Uint8Array {
  const localIndex = new Map<string, number>();
  [...src.params, ...src.locals].forEach(([name], i) => {
    if (localIndex.has(name)) throw new Error(`wasm: local ${name} declared twice`);
    localIndex.set(name, i);
  });
  const code: number[] = [];
  const labels: (string | null)[] = [];
  const emit = (node: Node) => emitInstruction(node, code, labels, localIndex);
  for (const node of parse(src.body)) emit(node);
  code.push(0x0b);

  const localGroups: number[] = [];
  let groups = 0;
  for (let i = 0; i < src.locals.length;) {
    let j = i;
    while (j < src.locals.length && src.locals[j][1] === src.locals[i][1]) j++;
    localGroups.push(...uleb(j - i), VAL_TYPE[src.locals[i][1]]);
    groups++;
    i = j;
  }
  const func = [...uleb(groups), ...localGroups, ...code];
  const name = [...new TextEncoder().encode(src.name)];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, ...vec(src.params.map(([, t]) => [VAL_TYPE[t]])), 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, ...uleb(src.memoryPages)]),
    ...section(7, [
      2,
      6,
      ...[...'memory'].map((c) => c.charCodeAt(0)),
      2,
      0,
      ...uleb(name.length),
      ...name,
      0,
      0,
    ]),
    ...section(10, [1, ...uleb(func.length), ...func]),
  ]);
}

function emitInstruction(node: Node, code: number[], labels: (string | null)[], locals: Map<string, number>) {
  if (typeof node === 'string') throw new Error(`wasm: expected a folded instruction, found '${node}'`);
  const [head, ...rest] = node;
  if (typeof head !== 'string') throw new Error('wasm: an instruction must start with its name');
  const atoms = rest.filter((n): n is string => typeof n === 'string');
  const children = rest.filter((n): n is Node[] => typeof n !== 'string');
  const emit = (n: Node) => emitInstruction(n, code, labels, locals);

  if (head === 'block' || head === 'loop') {
    labels.push(atoms[0] ?? null);
    code.push(head === 'block' ? 0x02 : 0x03, 0x40);
    children.forEach(emit);
    code.push(0x0b);
    labels.pop();
    return;
  }
  if (head === 'if') {
    const arm = (name: string) => children.find((c) => c[0] === name) as Node[] | undefined;
    children.filter((c) => c[0] !== 'then' && c[0] !== 'else').forEach(emit);
    labels.push(atoms[0] ?? null);
    code.push(0x04, 0x40);
    arm('then')?.slice(1).forEach(emit);
    const otherwise = arm('else');
    if (otherwise) {
      code.push(0x05);
      otherwise.slice(1).forEach(emit);
    }
    code.push(0x0b);
    labels.pop();
    return;
  }

  children.forEach(emit); // operands first: the folded form is postfix underneath
  if (head in PLAIN) {
    code.push(...PLAIN[head]);
  } else if (head === 'local.get' || head === 'local.set' || head === 'local.tee') {
    const index = locals.get(atoms[0]);
    if (index === undefined) throw new Error(`wasm: unknown local ${atoms[0]} in ${head}`);
    code.push({ 'local.get': 0x20, 'local.set': 0x21, 'local.tee': 0x22 }[head], ...uleb(index));
  } else if (head === 'br' || head === 'br_if') {
    const at = labels.lastIndexOf(atoms[0]);
    if (at < 0) throw new Error(`wasm: unknown label ${atoms[0]} in ${head}`);
    code.push(head === 'br' ? 0x0c : 0x0d, ...uleb(labels.length - 1 - at));
  } else if (head === 'i32.const') {
    code.push(0x41, ...sleb(integer(atoms[0], head)));
  } else if (head === 'f32.const') {
    code.push(0x43, ...new Uint8Array(Float32Array.of(Number(atoms[0])).buffer));
  } else if (head === 'v128.const') {
    const [shape, ...lanes] = atoms;
    if ((shape !== 'i32x4' && shape !== 'f32x4') || lanes.length !== 4)
      throw new Error(`wasm: v128.const needs i32x4 or f32x4 and 4 lanes, got '${atoms.join(' ')}'`);
    const values =
      shape === 'i32x4' ? Int32Array.from(lanes, (v) => integer(v, head)) : Float32Array.from(lanes, Number);
    code.push(0xfd, ...uleb(12), ...new Uint8Array(values.buffer));
  } else if (head === 'f32x4.extract_lane') {
    const lane = integer(atoms[0], head);
    if (lane < 0 || lane > 3) throw new Error(`wasm: f32x4.extract_lane lane (${lane}) must be in 0..3`);
    code.push(0xfd, ...uleb(31), lane);
  } else if (head in MEMORY) {
    const { op, align } = MEMORY[head];
    let offset = 0;
    let alignLog = align;
    for (const a of atoms) {
      const [key, value] = a.split('=');
      if (key === 'offset') offset = integer(value, head);
      else if (key === 'align') alignLog = Math.log2(integer(value, head));
      else throw new Error(`wasm: unknown immediate '${a}' in ${head}`);
    }
    if (!Number.isInteger(alignLog) || alignLog > align)
      throw new Error(`wasm: ${head} align must be a power of two <= ${2 ** align}`);
    code.push(...op, ...uleb(alignLog), ...uleb(offset));
  } else {
    throw new Error(`wasm: instruction '${head}' is not supported by this assembler`);
  }
}

/** Parses folded WAT into nested lists; `;;` starts a comment to the end of the line. */
function parse(text: string): Node[] {
  const tokens = text.replace(/;;[^\n]*/g, ' ').match(/[()]|[^\s()]+/g) ?? [];
  const stack: Node[][] = [[]];
  for (const t of tokens) {
    if (t === '(') stack.push([]);
    else if (t === ')') {
      const done = stack.pop();
      if (!done || stack.length === 0) throw new Error('wasm: unbalanced ")"');
      stack[stack.length - 1].push(done);
    } else stack[stack.length - 1].push(t);
  }
  if (stack.length !== 1) throw new Error('wasm: unbalanced "("');
  return stack[0];
}

function integer(text: string | undefined, where: string): number {
  const v = Number(text);
  if (text === undefined || !Number.isInteger(v))
    throw new Error(`wasm: ${where} needs an integer, got '${text}'`);
  return v;
}

function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
