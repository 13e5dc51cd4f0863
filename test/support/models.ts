/**
 * A fitted model shared by the e2e files that need a ready model only as setup (the files that test fitting
 * itself, by upload or enrolment, still fit their own): the synthetic pump of
 * `writeSynthDataset({ machines: ['pump'], trainClips: 12, clipSeconds: 5 })`, fitted with the default detector
 * config. Its training clips are the same whatever stream a file writes beside them (seed 7; the stream has a
 * seed of its own), so the model is the one each file fitted for itself before, and a fit costs 8-15 s on a
 * 2-core machine.
 *
 * The e2e project's global setup (`global-setup.ts`) makes an empty directory for the run and provides it; the
 * first file that asks fits the model into it, the later ones copy it (the e2e files run one at a time). A file
 * run under another config, with no such directory, fits its own.
 */
import { cpSync, existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import {
  fitDetector,
  readClip,
  resolveDetectorConfig,
  saveModel,
  type DetectorConfigInput,
} from '@hark/detection';
import { writeSynthDataset } from '@hark/dsp';
import { tempDir } from './server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's directory of shared fitted models (test/support/global-setup.ts). */
    harkModelCache: string;
  }
}

let own: string | null = null;

/** The directory of the synthetic pump's model, fitted on first use in this run; copy it, never change it. */
export async function synthPumpModel(): Promise<string> {
  const cache = inject('harkModelCache') ?? (own ??= tempDir('model-cache'));
  const dir = join(cache, 'synth-pump');
  if (existsSync(dir)) return dir;
  const root = tempDir('shared-model-synth');
  try {
    writeSynthDataset(root, {
      machines: ['pump'],
      trainClips: 12,
      testClips: 0,
      clipSeconds: 5,
      streamSeconds: 0,
    });
    // Written beside and renamed: a file stopped mid-save leaves no half model for the next one.
    const partial = `${dir}.partial-${process.pid}`;
    await fitFolder(join(root, 'synth_pump', 'train'), {}, partial);
    renameSync(partial, dir);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return dir;
}

/** Fits a detector (`config` over the defaults) on the WAVs of `train` in name order and saves it to `out`. */
export async function fitFolder(train: string, config: DetectorConfigInput, out: string): Promise<void> {
  const resolved = resolveDetectorConfig(config);
  const clips = await Promise.all(
    readdirSync(train)
      .filter((f) => f.endsWith('.wav'))
      .sort()
      .map((f) => readClip(join(train, f), resolved.mel.sampleRate)),
  );
  const detector = await fitDetector(clips, resolved);
  try {
    await saveModel(detector, out);
  } finally {
    await detector.release();
  }
}

/** Places a copy of the synthetic pump's model as `sensorId`'s model in `dataDir` (`DATA/models/<id>/`). */
export async function placeSynthPumpModel(dataDir: string, sensorId: string): Promise<void> {
  cpSync(await synthPumpModel(), join(dataDir, 'models', sensorId), { recursive: true });
}

/**
 * The detector settings that the files streaming the synthetic pump's 60 s recording (server/stream.test.ts,
 * browser/dashboard.test.ts) fit with: the defaults before issue 13's switch (hold-out calibration, the
 * largest part, no band parts) and the older image, 256 x 128. Seconds 1.5-2.5 of that recording are a rare
 * excursion of the synthetic machine that every configuration sees: 0.99 of the older threshold, 1.04 of the
 * new defaults' levels (BENCHMARKS.md, issue 13, "The default switch"), 1.01 of the older threshold at the
 * default image of 128 x 128 (issue 16, "The backbone at the window's height"). Those files test the
 * server's and the dashboard's paths (an alert per injected anomaly, none before the first); the detector's
 * operating point on normal sound is tested with the defaults on recorded normal streams
 * (server/false-alarms.test.ts, and the m16 stream in server/stream.test.ts).
 */
export const SYNTH_STREAM_FIT_CONFIG = {
  calibrationFolds: 'holdout',
  fusion: 'max',
  modulationBands: 0,
  impulseBands: 0,
  imageHeight: 256,
  imageWidth: 128,
} as const;
