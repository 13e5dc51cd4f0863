import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  BACKBONE_IDS,
  evaluateDataset,
  METHOD_IDS,
  resolveDetectorConfig,
  type BackboneId,
  type EvaluationReport,
  type GroupResult,
  type MethodId,
} from '@hark/detection';
import { recordEvaluation } from '../bench/detection.js';
import { configOverrides } from '../options.js';
import { DETECTOR_HELP, detectorInput } from './detector-input.js';
import { stageProgress } from '../progress.js';

/** Options of `hark evaluate`, as parsed by commander. */
export interface EvaluateOptions {
  method?: MethodId;
  backbone?: BackboneId;
  json?: string;
  groups?: string;
  record?: boolean;
  config?: Record<string, unknown>;
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

/** Evaluates the dataset at `root`; the report is the `--json` document. */
export async function runEvaluate(root: string, o: EvaluateOptions): Promise<EvaluationReport> {
  const config = resolveDetectorConfig(detectorInput(o));
  const only = o.groups
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
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
      'write {groups: [{name, auc, pauc, pixelAuc, aupro, fitSeconds, msPerClip}], mean: {...}}',
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
