import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  BACKBONE_IDS,
  evaluateDataset,
  readDataset,
  METHOD_IDS,
  resolveDetectorConfig,
  type BackboneId,
  type EvaluationReport,
  type GroupResult,
  type KindResult,
  type MethodId,
} from '@hark/detection';
import { recordEvaluation } from '../bench/detection.js';
import { configOverrides } from '../options.js';
import { DETECTOR_HELP, detectorInput } from './detector-input.js';
import { checkWavRates } from './wav-input.js';
import { stageProgress } from '../progress.js';

/** Options of `hark evaluate`, as parsed by commander. */
export interface EvaluateOptions {
  method?: MethodId;
  backbone?: BackboneId;
  json?: string;
  groups?: string;
  record?: boolean;
  config?: Record<string, unknown>;
  byKind?: boolean;
}

const COLUMNS = ['auc', 'pauc', 'pixelAuc', 'aupro', 'fitSeconds', 'msPerClip'] as const;

/** The evaluation table: one row per group, then the mean row. */
export function evaluationTable(report: EvaluationReport): string {
  const rows = [...report.groups, { name: 'mean', ...report.mean }];
  const width = Math.max(5, ...rows.map((r) => r.name.length));
  const cell = (k: (typeof COLUMNS)[number], v: number) =>
    (Number.isNaN(v)
      ? '-'
      : k === 'fitSeconds'
        ? v.toFixed(1)
        : k === 'msPerClip'
          ? v.toFixed(0)
          : v.toFixed(3)
    ).padStart(Math.max(k.length, 6) + 1);
  const line = (r: Omit<GroupResult, 'name'> & { name: string }) =>
    r.name.padEnd(width) + COLUMNS.map((k) => cell(k, r[k])).join('');
  return [
    'group'.padEnd(width) + COLUMNS.map((k) => k.padStart(Math.max(k.length, 6) + 1)).join(''),
    ...report.groups.map(line),
    line(rows[rows.length - 1]),
  ].join('\n');
}

/**
 * The operating-point tables of `--by-kind`: per fault kind the mean rank-AUC of its clips against their
 * group's normal test clips and the recall at the threshold (event labels indented under `event`); per group
 * the share of normal test clips over the threshold and each kind's auc / recall in that group.
 */
export function byKindTables(report: EvaluationReport): string {
  const kinds: KindResult[] = report.byKind ?? [];
  const label = (k: KindResult) => (k.type === 'event' && k.kind !== 'event' ? `  ${k.kind}` : k.kind);
  const pct = (v: number) => (Number.isNaN(v) ? '-' : `${(100 * v).toFixed(0)}%`);
  const kw = Math.max(4, ...kinds.map((k) => label(k).length));
  const iou = (v: number | null | undefined) =>
    (v === null || v === undefined ? '-' : v.toFixed(2)).padStart(6);
  const kindLines = kinds.map(
    (k) =>
      `${label(k).padEnd(kw)} ${String(k.clips).padStart(5)} ${k.auc.toFixed(3).padStart(6)} ${pct(k.recall).padStart(7)} ${pct(k.alertRecall ?? Number.NaN).padStart(6)} ${iou(k.boxIoU)} ${iou(k.eventBoxIoU).padStart(8)} ${(typeof k.pixelAuc === 'number' ? k.pixelAuc.toFixed(3) : '-').padStart(8)}`,
  );
  // Per group: the normal clips over the threshold, then auc/recall of each kind (events together).
  const columns = kinds.filter((k) => k.type !== 'event' || k.kind === 'event').map((k) => k.kind);
  const gw = Math.max(5, ...report.groups.map((g) => g.name.length));
  const cw = Math.max(9, ...columns.map((c) => c.length));
  const cell = (g: EvaluationReport['groups'][number], kind: string) => {
    const k = g.byKind?.find((r) => r.kind === kind && (kind === 'event' || r.type !== 'event'));
    return (k ? `${k.auc.toFixed(2)}/${pct(k.recall)}` : '-').padStart(cw);
  };
  const mean = report.mean.normalOverThreshold;
  const meanAlerting = report.mean.normalAlerting;
  return [
    `${'kind'.padEnd(kw)} ${'clips'.padStart(5)} ${'auc'.padStart(6)} ${'recall'.padStart(7)} ${'alert'.padStart(6)} ${'boxIoU'.padStart(6)} ${'eventIoU'.padStart(8)} ${'pixelAuc'.padStart(8)}`,
    ...kindLines,
    '',
    `${'group'.padEnd(gw)} ${'normal>=1'.padStart(9)} ${'alerting'.padStart(8)} ${columns.map((c) => c.padStart(cw)).join(' ')}`,
    ...report.groups.map(
      (g) =>
        `${g.name.padEnd(gw)} ${pct(g.normalOverThreshold).padStart(9)} ${pct(g.normalAlerting ?? Number.NaN).padStart(8)} ${columns.map((c) => cell(g, c)).join(' ')}`,
    ),
    `${'mean'.padEnd(gw)} ${pct(mean ?? Number.NaN).padStart(9)} ${pct(meanAlerting ?? Number.NaN).padStart(8)}`,
    '',
    "auc: mean rank-AUC of a kind's clips against their group's normal test clips; recall and normal>=1: share of",
    'clips whose normalised score is >= 1; alert and alerting: share of clips on which a live alert would open',
    '(alertWindows consecutive windows >= 1, each clip streamed alone); boxIoU: median IoU on the Hz axis of the',
    "strongest box with the ground truth's band, lowest to highest event (clips without a box are skipped);",
    'eventIoU: the same with the band of the one event the box overlaps most (a tone and its harmonic are two);',
    "pixelAuc: mean over a kind's clips of the AUC of its ground-truth cells against its group's normal clips'",
    'cells; group cells: auc/recall.',
  ].join('\n');
}

/** Evaluates the dataset at `root`; the report is the `--json` document. */
export async function runEvaluate(root: string, o: EvaluateOptions): Promise<EvaluationReport> {
  const config = resolveDetectorConfig(detectorInput(o));
  const only = o.groups
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const groups = (await readDataset(root)).filter((g) => !only?.length || only.includes(g.name));
  await checkWavRates(groups.flatMap((g) => [...g.train, ...g.test.map((c) => c.path)]));
  const progress = stageProgress();
  try {
    return await evaluateDataset(root, config, {
      only,
      onProgress: (g, stage, d, t) => progress.update(stage, d, t, g),
    });
  } finally {
    progress.stop();
  }
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description(
      'per group of a dataset: fit on train/, score test/, report auc, pauc, pixelAuc, aupro and timings',
    )
    .argument('<root>', 'dataset root in the DATASET.md layout (<group>/train, <group>/test)')
    .addOption(new Option('--method <method>', DETECTOR_HELP.method).choices(METHOD_IDS))
    .addOption(new Option('--backbone <backbone>', DETECTOR_HELP.backbone).choices(BACKBONE_IDS))
    .option('--config <json>', DETECTOR_HELP.config, configOverrides)
    .option(
      '--json <out.json>',
      'write {groups: [{name, auc, pauc, pixelAuc, aupro, fitSeconds, msPerClip, normalOverThreshold, normalAlerting, byKind}], mean: {...}, byKind: [{kind, type, clips, auc, recall, alertRecall, boxIoU, boxIoUClips, eventBoxIoU, pixelAuc}]}',
    )
    .option(
      '--by-kind',
      "also print, per fault kind, the mean rank-AUC against the group's normal clips and the recall at the threshold, and per group the share of normal clips over it",
    )
    .option('--groups <names>', 'only these groups, comma-separated (default: every group)')
    .option('--record', 'record the mean row for this method x backbone in BENCHMARKS.md')
    .action(async (root: string, o: EvaluateOptions) => {
      if (o.record && o.config)
        throw new InvalidArgumentError(
          '--record writes the method x backbone table of default configurations; drop --config to record',
        );
      const t0 = performance.now();
      const report = await runEvaluate(root, o);
      console.log(evaluationTable(report));
      if (o.byKind) console.log(`\n${byKindTables(report)}`);
      console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (o.json) await writeFile(o.json, `${JSON.stringify(report, null, 1)}\n`);
      if (o.record) {
        const config = resolveDetectorConfig({ method: o.method, backbone: o.backbone });
        console.log(
          `recorded in ${recordEvaluation(config.method, config.backbone, report, (performance.now() - t0) / 1000)}`,
        );
      }
    });
}
