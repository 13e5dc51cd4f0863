import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import {
  BACKBONE_IDS,
  fitDetector,
  METHOD_IDS,
  MIN_NORMAL_SCORES,
  MIN_TRAINING_CLIPS,
  readClip,
  resolveDetectorConfig,
  saveModel,
  trainingNeeds,
  type BackboneId,
  type MethodId,
} from '@hark/detection';
import { configOverrides } from '../options.js';
import { DETECTOR_HELP, detectorInput } from './detector-input.js';
import { checkWavRates } from './wav-input.js';
import { stageProgress } from '../progress.js';

/** Options of `hark fit`, as parsed by commander. */
export interface FitOptions {
  out: string;
  method?: MethodId;
  backbone?: BackboneId;
  json?: boolean;
  config?: Record<string, unknown>;
}

/** The training WAVs of `dir`: those in `dir/train/` when it exists, else those in `dir`, sorted by name. */
export async function trainingFiles(dir: string): Promise<string[]> {
  const isDir = (p: string) =>
    stat(p).then(
      (s) => s.isDirectory(),
      () => false,
    );
  if (!(await isDir(dir)))
    throw new Error(`${dir} is not a folder; give a folder of normal WAV clips (or one with train/)`);
  const folder = (await isDir(join(dir, 'train'))) ? join(dir, 'train') : dir;
  const files = (await readdir(folder)).filter((f) => /\.wav$/i.test(f)).sort();
  if (files.length === 0) throw new Error(`${folder} has no .wav files; put the normal training clips there`);
  return files.map((f) => join(folder, f));
}

/** Fits a detector on the normal clips in `dir` and writes the model directory; returns the model summary. */
export async function runFit(dir: string, o: FitOptions) {
  const config = resolveDetectorConfig(detectorInput(o));
  const files = await trainingFiles(dir);
  await checkWavRates(files);
  const progress = stageProgress();
  try {
    const clips: Float32Array[] = [];
    for (const [i, f] of files.entries()) {
      clips.push(await readClip(f, config.mel.sampleRate));
      progress.update('read', i + 1, files.length);
    }
    const detector = await fitDetector(clips, config, (stage, done, total) =>
      progress.update(stage, done, total),
    );
    try {
      const json = await saveModel(detector, o.out);
      return {
        model: o.out,
        method: config.method,
        backbone: config.backbone,
        threshold: detector.fitted.calibration.threshold,
        training: json.fitted.training,
      };
    } finally {
      await detector.release();
    }
  } finally {
    progress.stop();
  }
}

/** `text` broken at spaces into lines of at most `width` characters. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

const { calibrationHoldout, calibrationQuantile } = resolveDetectorConfig();
const needs = trainingNeeds();
const fitHelp = `
A share of the clips (${100 * calibrationHoldout} %, at least ${MIN_NORMAL_SCORES}, evenly spread) is held out to set the alert threshold
(gamma fit to their scores, ${calibrationQuantile} quantile, normalised to 1.0); the model is fitted on the others.
Needs at least ${MIN_TRAINING_CLIPS} clips (${MIN_NORMAL_SCORES} held out and one to fit; more if --config raises calibrationHoldout);
${wrap(`the server's uploads need the same. ${needs.recommendedClips} or more are recommended: ${needs.reason}.`, 110)}
With --config '{"falseAlarmsPerDay": N}' the threshold is set for at most N false alerts per sensor-day instead:
each clip is scored by a model without it, the tail of those scores is extrapolated to the rate (an upper
confidence bound), and the model is fitted on every clip.
Progress goes to stderr: a bar on a terminal, otherwise lines (at most one every 2 s per stage, its end,
and 'still working' after 10 s without a report).

Example:
  hark fit pump/train --out models/pump`;

export function registerFit(program: Command): void {
  program
    .command('fit')
    .description('fit an anomaly detector on normal recordings and write a model directory')
    .argument('<dir>', 'folder of normal WAV clips, or a dataset group folder with train/')
    .requiredOption('--out <model-dir>', 'model directory to write (created if needed)')
    .addOption(new Option('--method <method>', DETECTOR_HELP.method).choices(METHOD_IDS))
    .addOption(new Option('--backbone <backbone>', DETECTOR_HELP.backbone).choices(BACKBONE_IDS))
    .option('--config <json>', DETECTOR_HELP.config, configOverrides)
    .option('--json', 'print {model, method, backbone, threshold, training} as JSON')
    .addHelpText('after', fitHelp)
    .action(async (dir: string, o: FitOptions) => {
      const r = await runFit(dir, o);
      if (o.json) console.log(JSON.stringify(r));
      else {
        const t = r.training;
        console.log(
          `${r.model}: ${r.method} on ${r.backbone}, ${t.clips} clips (${t.seconds.toFixed(1)} s, ${t.windows} windows), ` +
            `threshold ${r.threshold.toPrecision(4)} from ${t.calibrationClips} held-out clips, fitted in ${t.fitSeconds.toFixed(1)} s`,
        );
      }
    });
}
