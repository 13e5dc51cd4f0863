// The OpenBLAS kernel families hark's exact search is tested on, and which of them this CPU can run.
// Plain JavaScript so that scripts/run-tests.mjs (the `make test` kernel matrix) and native/test/kernels.test.ts
// share one rule. OpenBLAS reads OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) when the library is loaded, so a
// family is chosen by the environment of a new process, never inside a running one.
import { CORETYPE_FLAGS, cpuFlags } from './cpu.mjs';

/**
 * unset (OpenBLAS's own pick, or hark's when the addon is loaded through native/src/load.ts), Haswell with
 * the 512 KiB L2 some machines here declare (the case that once broke exact ties), and SkylakeX where the CPU
 * has AVX-512 F, BW, VL and DQ (cpu.mjs's CORETYPE_FLAGS, the rule load.ts chooses by). `env` values of
 * undefined mean "remove the variable".
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
      has(...CORETYPE_FLAGS.Haswell),
      x64 ? 'the CPU has no AVX2 + FMA' : notX64('Haswell'),
    ),
    family(
      'SkylakeX',
      { OPENBLAS_CORETYPE: 'SkylakeX', OPENBLAS_L2_SIZE: undefined },
      has(...CORETYPE_FLAGS.SkylakeX),
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
