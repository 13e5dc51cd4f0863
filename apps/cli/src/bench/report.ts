import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** One line describing this machine: CPU model, cores, memory, Node version. */
export function describeMachine(): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? 'unknown CPU';
  const mem = (totalmem() / 2 ** 30).toFixed(0);
  return `${model}, ${cpu.length} cores, ${mem} GiB, Node ${process.version}, ${process.platform}-${process.arch}`;
}

/** The command line as the user typed it, for the record (`hark bench dsp --seconds 60`). */
export function commandLine(
  argv: readonly string[] = process.argv,
  nodeFlags: readonly string[] = process.execArgv,
): string {
  // Node's own flags change what is measured (`--single-threaded-gc` does, a lot), so they are part of it.
  const head = nodeFlags.length > 0 ? ['node', ...nodeFlags, 'apps/cli/bin/hark.js'] : ['hark'];
  return [...head, ...argv.slice(2)].join(' ');
}

/** Where BENCHMARKS.md lives: `HARK_BENCHMARKS` if set, else the repository root found from the cwd. */
export function benchmarksPath(): string {
  if (process.env.HARK_BENCHMARKS) return resolve(process.env.HARK_BENCHMARKS);
  let dir = process.cwd();
  for (;;) {
    const pkg = resolve(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'hark')
      return resolve(dir, 'BENCHMARKS.md');
    const up = resolve(dir, '..');
    if (up === dir) return resolve(process.cwd(), 'BENCHMARKS.md');
    dir = up;
  }
}

/**
 * Replaces (or appends) the section `## <title>` of BENCHMARKS.md, delimited by markers so reruns of one
 * benchmark never touch another's figures. `body` is Markdown without the heading.
 */
export function writeBenchmarkSection(
  id: string,
  title: string,
  body: string,
  path = benchmarksPath(),
): string {
  const begin = `<!-- bench:${id} -->`;
  const end = `<!-- /bench:${id} -->`;
  const date = new Date().toISOString().slice(0, 10);
  const section = [
    begin,
    `## ${title}`,
    '',
    `Machine: ${describeMachine()}  `,
    `Command: \`${commandLine()}\`  `,
    `Date: ${date}`,
    '',
    body.trim(),
    end,
  ].join('\n');
  let doc = existsSync(path)
    ? readFileSync(path, 'utf8')
    : '# Benchmarks\n\nFigures measured on real machines by `hark bench ...`; each section names its machine and command.\n';
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) doc = doc.slice(0, i) + section + doc.slice(j + end.length);
  else doc = `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, doc.endsWith('\n') ? doc : `${doc}\n`);
  return path;
}

/** A Markdown table from a header row and data rows. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
