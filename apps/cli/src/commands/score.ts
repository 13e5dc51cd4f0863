import { basename, extname } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import {
  loadModel,
  readClip,
  writePng,
  type AnomalyBox,
  type ClipResult,
  type Detector,
} from '@hark/detection';
import { scoreFigure } from '../figure/score-figure.js';
import { checkWavRates } from './wav-input.js';

/** Options of `hark score`, as parsed by commander. */
export interface ScoreOptions {
  model: string;
  json?: boolean;
  png?: string;
  /** The threshold in use over the fitted one (a live burn-in's factor); 1: the fitted threshold. */
  thresholdFactor?: number;
}

/** One file's entry in the `--json` document. */
export interface ScoredFile {
  file: string;
  /** Raw clip score (largest window score) and the same divided by the threshold. */
  score: number;
  normalised: number;
  overThreshold: boolean;
  /**
   * What the server's alert rule would see of the file streamed alone (`ClipResult.alertLevel`): the best run
   * of the rule's consecutive windows, at its lowest window. An alert would open at >= 1.
   */
  alertLevel: number;
  seconds: number;
  /** Strongest regions, strongest first: seconds and Hz, `peak` the score of the strongest window each spans (>= 1 = over the threshold), `mapPeak` its map value. */
  boxes: AnomalyBox[];
}

/** The PNG path for file `i` of `n`: `out` itself for one file, `out-<name>.png` for several. */
export function pngPath(out: string, file: string, n: number): string {
  if (n === 1) return out;
  const stem = out.endsWith('.png') ? out.slice(0, -4) : out;
  return `${stem}-${basename(file, extname(file))}.png`;
}

/** `--threshold-factor`: a positive number (a live burn-in's factor is bounded to 0.5-2). */
export function thresholdFactor(v: string): number {
  const x = Number(v);
  if (!(Number.isFinite(x) && x > 0))
    throw new InvalidArgumentError(`'${v}' is not a positive number (a burn-in factor, e.g. 0.85)`);
  return x;
}

/**
 * `r` against a threshold `factor` times the fitted one, as the server scores once a live burn-in is applied:
 * every normalised score (the clip's, each window's, each box's) and the map are divided by it, and the
 * decisions follow (the clip over when its score is over 1, a box when its window's score is at least 1).
 */
export function withThresholdFactor(r: ClipResult, factor: number): ClipResult {
  if (factor === 1) return r;
  const normalised = r.normalised / factor;
  return {
    ...r,
    normalised,
    overThreshold: normalised > 1,
    map: r.map.map((v) => v / factor),
    windowScores: r.windowScores.map((v) => v / factor),
    alertLevel: r.alertLevel / factor,
    boxes: r.boxes.map((b) => ({
      ...b,
      peak: b.peak / factor,
      mapPeak: b.mapPeak / factor,
      overThreshold: b.peak / factor >= 1,
    })),
  };
}

/** Scores each file with `detector`, writing pictures when `png` is given; `factor` as `withThresholdFactor`. */
export async function scoreFiles(
  detector: Detector,
  files: readonly string[],
  png?: string,
  factor = 1,
): Promise<ScoredFile[]> {
  await checkWavRates(files);
  const out: ScoredFile[] = [];
  for (const file of files) {
    const samples = await readClip(file, detector.config.mel.sampleRate);
    const spec = detector.spectrogram(samples);
    const r = withThresholdFactor(await detector.scoreClip(spec), factor);
    if (png) {
      const figure = scoreFigure({ title: basename(file), spectrogram: spec, result: r });
      await writePng(pngPath(png, file, files.length), figure.image);
    }
    const { score, normalised, overThreshold, alertLevel, boxes } = r;
    out.push({
      file,
      score,
      normalised,
      overThreshold,
      alertLevel,
      seconds: samples.length / detector.config.mel.sampleRate,
      boxes,
    });
  }
  return out;
}

/** A region as a line: time span, frequency span and peak score on the normalised scale (1 = threshold). */
export function regionLine(b: AnomalyBox): string {
  const time = `${b.onset.toFixed(2)}-${b.offset.toFixed(2)} s`;
  const hz = `${Math.round(b.lowHz)}-${Math.round(b.highHz)} Hz`;
  return `${time.padEnd(13)} ${hz.padEnd(14)} score ${b.peak.toFixed(2)}`;
}

/**
 * The text report: per file its decision and clip score, then its regions over the threshold (or, for a
 * normal clip, the strongest region below it), all on the normalised scale where 1 is the threshold.
 */
export function scoreText(results: readonly ScoredFile[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(
      `${r.file}: ${r.overThreshold ? 'ANOMALY' : 'normal'} (score ${r.normalised.toFixed(2)} x threshold)`,
    );
    const over = r.boxes.filter((b) => b.overThreshold);
    if (over.length) {
      lines.push(
        `  ${over.length} region${over.length === 1 ? '' : 's'} over the threshold (score x threshold, 1 = threshold):`,
      );
      for (const b of over) lines.push(`    ${regionLine(b)}`);
    } else if (r.boxes.length) {
      lines.push('  no region over the threshold (1); the strongest:');
      lines.push(`    ${regionLine(r.boxes[0])}`);
    } else lines.push('  no regions (no frames were scored)');
  }
  return lines.join('\n');
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('score WAV files with a fitted model: clip score, threshold decision, anomalous regions')
    .requiredOption('--model <model-dir>', "model directory written by 'hark fit'")
    .argument('<files...>', 'WAV files (any rate, resampled to the model rate)')
    .option(
      '--json',
      'print {model, threshold, thresholdFactor, thresholdSource, files: [{file, score, normalised, overThreshold, alertLevel, seconds, boxes}]}',
    )
    .option(
      '--threshold-factor <x>',
      "score against this factor times the fitted threshold: a sensor's applied live burn-in factor " +
        '(its `burnIn.factor` in GET /api/sensors/:id/models), so the numbers match the server; default 1, the fitted one',
      thresholdFactor,
    )
    .option(
      '--png <out.png>',
      'picture: the spectrogram in grey with the anomaly score over it in colour, the regions boxed with their ' +
        'scores, time and Hz axes and colour legends (several files: out-<name>.png)',
    )
    .addHelpText(
      'after',
      '\nnormalised = score / threshold: above 1.0 the clip is anomalous. Exit code 0 whether or not it is.\n' +
        'alertLevel: the same for the run of consecutive windows a live alert needs (the best run, at its lowest\n' +
        'window): at 1.0 or more the server would open an alert on the file streamed alone.\n' +
        'threshold is the one in use: the fitted threshold (thresholdSource "fitted"), or that times\n' +
        '--threshold-factor (thresholdSource "burn-in"; the model directory does not hold a live burn-in).',
    )
    .action(async (files: string[], o: ScoreOptions) => {
      const detector = await loadModel(o.model);
      try {
        const factor = o.thresholdFactor ?? 1;
        const results = await scoreFiles(detector, files, o.png, factor);
        if (o.json) {
          console.log(
            JSON.stringify({
              model: o.model,
              threshold: detector.fitted.calibration.threshold * factor,
              thresholdFactor: factor,
              thresholdSource: o.thresholdFactor === undefined ? 'fitted' : 'burn-in',
              files: results,
            }),
          );
          return;
        }
        console.log(scoreText(results));
      } finally {
        await detector.release();
      }
    });
}
