// How hark reads the CPU to pick OpenBLAS's kernels. Plain JavaScript, so that the addon's loader
// (native/src/load.ts, also from dist/) and the kernel-family matrix of `make test`
// (scripts/kernel-families.mjs, which runs before anything is built) share one rule.
import { existsSync, readFileSync } from 'node:fs';

/**
 * The CPU flags each OpenBLAS kernel family hark chooses needs, best first: SkylakeX needs AVX-512 F, BW, VL
 * and DQ; Haswell needs AVX2 and FMA.
 */
export const CORETYPE_FLAGS = {
  SkylakeX: ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'],
  Haswell: ['avx2', 'fma'],
};

/** The flags of the first CPU in /proc/cpuinfo (empty off Linux). */
export function cpuFlags(cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '') {
  const line = cpuinfo.split('\n').find((l) => /^flags\s*:/.test(l));
  return new Set(
    line
      ? line
          .slice(line.indexOf(':') + 1)
          .trim()
          .split(/\s+/)
      : [],
  );
}

/** The OpenBLAS kernel family for a /proc/cpuinfo `flags` set: the best in CORETYPE_FLAGS it has, or null. */
export function chooseCoretype(flags) {
  for (const [name, needs] of Object.entries(CORETYPE_FLAGS))
    if (needs.every((f) => flags.has(f))) return name;
  return null;
}
