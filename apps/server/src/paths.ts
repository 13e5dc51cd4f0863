/**
 * Paths inside the data directory built from outside input (a sensor id, an uploaded file's name): each part
 * must be one plain name, so the path stays strictly inside its parent whatever the input holds (`..`, `.`,
 * separators, an absolute path, a NUL). The sensor-id rule already refuses such ids; this is the second lock,
 * where the path is made.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { InvalidArgumentError } from './store/errors.js';

/** `parent/names...`, resolved; an `InvalidArgumentError` naming the value when a name is not one plain name. */
export function pathInside(parent: string, ...names: string[]): string {
  const base = resolve(parent);
  for (const name of names) {
    if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name))
      throw new InvalidArgumentError(
        `${JSON.stringify(name)} cannot name a file or folder inside ${base}: it must be one name, ` +
          `not '.' or '..', without '/', '\\' or NUL`,
      );
  }
  const full = resolve(base, ...names);
  const rel = relative(base, full);
  // Unreachable with the names above; kept so that a change to them cannot open a way out.
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    throw new InvalidArgumentError(`${JSON.stringify(names.join('/'))} must stay inside ${base}`);
  return full;
}
