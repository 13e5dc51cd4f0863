/**
 * The servers a sensor streams to: one URL, or several servers of one cluster (`hark sensor --server
 * URL1,URL2`). Checked at the edge, naming the bad value; shuffled so that sensors started with the same list
 * spread over the servers instead of all landing on the first.
 */

/** Splits and checks a server list (`http://a:8080,http://b:8080` or an array); returns the URLs in order. */
export function parseServers(value: string | readonly string[]): string[] {
  const list = typeof value === 'string' ? value.split(',') : [...value];
  const shown = typeof value === 'string' ? value : value.join(',');
  if (list.length === 0) throw new RangeError('give at least one server URL, e.g. http://localhost:8080');
  const out: string[] = [];
  for (const raw of list) {
    const s = raw.trim();
    if (!s)
      throw new RangeError(
        `server list '${shown}' has an empty entry: separate URLs by single commas, e.g. http://a:8080,http://b:8080`,
      );
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw new RangeError(`server '${s}' is not a URL (e.g. http://localhost:8080)`);
    }
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol))
      throw new RangeError(`server '${s}' must be an http(s) or ws(s) URL`);
    const key = new URL('/sensor', url).href;
    if (out.some((o) => new URL('/sensor', o).href === key))
      throw new RangeError(`server '${s}' is listed twice in '${shown}': give each server once`);
    out.push(s);
  }
  return out;
}

/** A copy of `items` in random order (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], random = Math.random): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
