export interface KernelFamily {
  /** 'unset', 'Haswell' or 'SkylakeX'. */
  name: string;
  /** Variables to set; undefined removes the variable. */
  env: Record<string, string | undefined>;
  /** Whether this CPU can run the family's kernels. */
  available: boolean;
  /** Why not, when it cannot. */
  why: string;
}
export function kernelFamilies(flags?: ReadonlySet<string>, arch?: string): KernelFamily[];
export function familyEnv(family: KernelFamily, base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
