import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import {
  blend,
  dbScale,
  heatmap,
  loadModel,
  readClip,
  writePng,
  type AnomalyBox,
  type ClipResult,
  type Detector,
} from '@hark/detection';

/** Options of `hark score`, as parsed by commander. */
export interface ScoreOptions {
  model: string;
  json?: boolean;
  png?: string;
}

/** One file's entry in the `--json` document. */
export interface ScoredFile {
  file: string;
  /** Raw clip score (largest window score) and the same divided by the threshold. */
  score: number;
  normalised: number;
  overThreshold: boolean;
  seconds: number;
  /** Strongest regions, strongest first: seconds and Hz, `peak` normalised (> 1 = over the threshold). */
  boxes: AnomalyBox[];
}

/** The PNG path for file `i` of `n`: `out` itself for one file, `out-<name>.png` for several. */
export function pngPath(out: string, file: string, n: number): string {
  if (n === 1) return out;
  const stem = out.endsWith('.png') ? out.slice(0, -4) : out;
  return `${stem}-${basename(file, extname(file))}.png`;
}

/**
 * The spectrogram in grey with the normalised anomaly map in magma over it: transparent below 0.6, 2/3 opaque
 * at the threshold (1.0), 85 % from 1.1 up.
 */
export function overlayImage(spec: { data: Float32Array; nMels: number; nFrames: number }, r: ClipResult) {
  const base = heatmap(
    { rows: spec.nMels, cols: spec.nFrames, data: spec.data },
    { ...dbScale(spec.data), colormap: grey() },
  );
  const top = heatmap(
    { rows: r.nMels, cols: r.nFrames, data: r.map },
    { vmin: 0, vmax: Math.max(1.5, r.normalised) },
  );
  const alpha = new Float32Array(r.nMels * r.nFrames);
  for (let m = 0; m < r.nMels; m++) {
    const y = r.nMels - 1 - m;
    for (let t = 0; t < r.nFrames; t++)
      alpha[y * r.nFrames + t] = Math.min(0.85, Math.max(0, (r.map[m * r.nFrames + t] - 0.6) / 0.6));
  }
  return blend(base, top, alpha);
}

let greyLut: Uint8Array | null = null;
function grey(): Uint8Array {
  return (greyLut ??= Uint8Array.from({ length: 768 }, (_, i) => Math.floor(i / 3)));
}

/** Scores each file with `detector`, writing pictures when `png` is given. */
export async function scoreFiles(
  detector: Detector,
  files: readonly string[],
  png?: string,
): Promise<ScoredFile[]> {
  const out: ScoredFile[] = [];
  for (const file of files) {
    const samples = await readClip(file, detector.config.mel.sampleRate);
    const spec = detector.spectrogram(samples);
    const r = await detector.scoreClip(spec);
    if (png) await writePng(pngPath(png, file, files.length), overlayImage(spec, r));
    const { score, normalised, overThreshold, boxes } = r;
    out.push({
      file,
      score,
      normalised,
      overThreshold,
      seconds: samples.length / detector.config.mel.sampleRate,
      boxes,
    });
  }
  return out;
}

const fmtBox = (b: AnomalyBox) =>
  `${b.onset.toFixed(2)}-${b.offset.toFixed(2)} s, ${Math.round(b.lowHz)}-${Math.round(b.highHz)} Hz (peak ${b.peak.toFixed(2)})`;

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('score WAV files with a fitted model: clip score, threshold decision, anomalous regions')
    .requiredOption('--model <model-dir>', "model directory written by 'hark fit'")
    .argument('<files...>', 'WAV files (any rate, resampled to the model rate)')
    .option(
      '--json',
      'print {model, threshold, files: [{file, score, normalised, overThreshold, seconds, boxes}]}',
    )
    .option(
      '--png <out.png>',
      'picture of the spectrogram with the anomaly map over it (several files: out-<name>.png)',
    )
    .addHelpText(
      'after',
      '\nnormalised = score / threshold: above 1.0 the clip is anomalous. Exit code 0 whether or not it is.',
    )
    .action(async (files: string[], o: ScoreOptions) => {
      const detector = await loadModel(o.model);
      try {
        const results = await scoreFiles(detector, files, o.png);
        if (o.json) {
          console.log(
            JSON.stringify({
              model: o.model,
              threshold: detector.fitted.calibration.threshold,
              files: results,
            }),
          );
          return;
        }
        for (const r of results) {
          console.log(
            `${r.file}: ${r.overThreshold ? 'ANOMALY' : 'normal'} (score ${r.normalised.toFixed(2)} x threshold)`,
          );
          for (const b of r.boxes.filter((x) => x.overThreshold)) console.log(`  ${fmtBox(b)}`);
        }
      } finally {
        await detector.release();
      }
    });
}
