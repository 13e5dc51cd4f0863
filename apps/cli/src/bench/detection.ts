/**
 * The detection section of BENCHMARKS.md: one row per method x backbone (`hark evaluate ROOT --record`), next
 * to the two simple baselines of the development corpus. Rows are kept between runs: each run replaces only
 * its own row, so the table fills in as each combination is evaluated.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { EvaluationReport } from '@hark/detection';
import { benchmarksPath, markdownTable, writeBenchmarkSection } from './report.js';

const ID = 'detection';
const HEADER = [
  'method',
  'backbone',
  'auc',
  'pauc',
  'pixelAuc',
  'aupro',
  'fit s / group',
  'ms / clip',
  'total s',
];
/** Reference figures from ../shared/corpus/README.md (mean over groups). */
const BASELINES = [
  ['baseline: per-mel-bin z-score', '-', '0.761', '0.703', '0.587', '-', '-', '-', '-'],
  ['baseline: 1-NN of 5-frame log-mel', '-', '0.872', '0.849', '-', '-', '-', '-', '-'],
];

/** The rows already recorded in the section, keyed `method|backbone`. */
function existingRows(path: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  if (!existsSync(path)) return rows;
  const doc = readFileSync(path, 'utf8');
  const i = doc.indexOf(`<!-- bench:${ID} -->`);
  const j = doc.indexOf(`<!-- /bench:${ID} -->`);
  if (i < 0 || j < i) return rows;
  for (const line of doc.slice(i, j).split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.length === HEADER.length && ['patchcore', 'padim', 'spade'].includes(cells[0]))
      rows.set(`${cells[0]}|${cells[1]}`, cells);
  }
  return rows;
}

/** Adds or replaces the row of `method` x `backbone` and rewrites the section; returns the file path. */
export function recordEvaluation(
  method: string,
  backbone: string,
  report: EvaluationReport,
  totalSeconds: number,
  path = benchmarksPath(),
): string {
  const rows = existingRows(path);
  const m = report.mean;
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '-');
  rows.set(`${method}|${backbone}`, [
    method,
    backbone,
    f(m.auc),
    f(m.pauc),
    f(m.pixelAuc),
    f(m.aupro),
    m.fitSeconds.toFixed(1),
    m.msPerClip.toFixed(0),
    totalSeconds.toFixed(0),
  ]);
  const body = [
    `Mean over the ${report.groups.length} groups of the dataset (\`hark evaluate ROOT --method M --backbone B --record\`),`,
    'default detector configuration otherwise (libs/detection/src/pipeline/config.ts). Targets for the default',
    '(patchcore, mobilenetv2): auc >= 0.93, pauc >= 0.85, pixelAuc >= 0.90, aupro >= 0.60, whole corpus < 180 s.',
    '',
    markdownTable(HEADER, [
      ...BASELINES,
      ...[...rows.values()].sort((a, b) => `${a[0]}${a[1]}`.localeCompare(`${b[0]}${b[1]}`)),
    ]),
  ].join('\n');
  return writeBenchmarkSection(ID, 'Detection: method x backbone on the development corpus', body, path);
}
