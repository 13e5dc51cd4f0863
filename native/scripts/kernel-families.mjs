// The OpenBLAS kernel families hark's exact search is tested on, and which of them this CPU can run.
// Plain JavaScript so that scripts/run-tests.mjs (the `make test` kernel matrix) and native/test/kernels.test.ts
// share one rule. OpenBLAS reads OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) when the library is loaded, so a
// family is chosen by the environment of a new process, never inside a running one.
import { existsSync, readFileSync } from 'node:fs';

/** The flags of the first CPU in /proc/cpuinfo (empty off Linux); the same reading as native/src/load.ts. */
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

const AVX512 = ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'];

/**
 * unset (OpenBLAS's own pick, or hark's when the addon is loaded through native/src/load.ts), Haswell with
 * the 512 KiB L2 some machines here declare (the case that once broke exact ties), and SkylakeX where the CPU
 * has AVX-512 F, BW, VL and DQ (the condition load.ts's chooseCoretype uses; kernels.test.ts checks they
 * agree). `env` values of undefined mean "remove the variable".
 */
export function kernelFamilies(flags = cpuFlags(), arch = process.arch) {
  const x64 = arch === 'x64';
  const has = (...names) => x64 && names.every((f) => flags.has(f));
  // `why` is said only when the family is not available.
  const family = (name, env, available, why) => ({ name, env, available, why: available ? '' : why });
  const notX64 = (name) => `OpenBLAS's ${name} kernels are x86-64 only (this is ${arch})`;
  return [
    family('unset', { OPENBLAS_CORETYPE: undefined, OPENBLAS_L2_SIZE: undefined }, true, ''),
    family(
      'Haswell',
      { OPENBLAS_CORETYPE: 'Haswell', OPENBLAS_L2_SIZE: '512' },
      has('avx2', 'fma'),
      x64 ? 'the CPU has no AVX2 + FMA' : notX64('Haswell'),
    ),
    family(
      'SkylakeX',
      { OPENBLAS_CORETYPE: 'SkylakeX', OPENBLAS_L2_SIZE: undefined },
      has(...AVX512),
      x64 ? 'the CPU has no AVX-512 (F, BW, VL, DQ)' : notX64('SkylakeX'),
    ),
  ];
}

/** A copy of `base` with a family's variables set or removed. */
export function familyEnv(family, base = process.env) {
  const env = { ...base };
  for (const [name, value] of Object.entries(family.env)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}
