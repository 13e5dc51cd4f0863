import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The development corpus: `HARK_CORPUS` if set, else `../shared/corpus` beside the repository (it exists in
 * the developers' workplace and CI, not in a user's clone). Tests that need it skip, with a visible message,
 * when it is absent; the project's own fixtures and synthetic sound cover the same code.
 */
export const CORPUS =
  process.env.HARK_CORPUS ?? fileURLToPath(new URL('../../../shared/corpus', import.meta.url));

export const hasCorpus = existsSync(`${CORPUS}/index.json`);

/** Call at the top of a test file that reads the corpus: warns once, visibly, when it is absent. */
export function corpusOrWarn(file: string): boolean {
  if (!hasCorpus) console.warn(`${file}: the development corpus (${CORPUS}) is absent; skipping its tests`);
  return hasCorpus;
}
