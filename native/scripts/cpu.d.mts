export const CORETYPE_FLAGS: { readonly SkylakeX: readonly string[]; readonly Haswell: readonly string[] };
export function cpuFlags(cpuinfo?: string): Set<string>;
export function chooseCoretype(flags: ReadonlySet<string>): 'SkylakeX' | 'Haswell' | null;
