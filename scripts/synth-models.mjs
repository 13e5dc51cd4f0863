/**
 * The synthetic pump, fan and gearbox models the memory and idle-server benches load: each fitted on 12
 * five-second training clips of `hark synth`'s machines and saved to `DIR/model/<machine>/`. Fits only what
 * is not there yet, so a `--keep DIR` is reused across runs.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const MACHINES = ['pump', 'fan', 'gearbox'];

/** `det` and `dsp` are the measured build's `@hark/detection` and `@hark/dsp`; `config` a detector config. */
export async function fitSynthModels({ det, dsp, dir, config = {} }) {
  if (existsSync(join(dir, 'model', MACHINES.at(-1), 'model.json'))) return;
  dsp.writeSynthDataset(join(dir, 'synth'), {
    machines: MACHINES,
    trainClips: 12,
    testClips: 0,
    clipSeconds: 5,
    streamSeconds: 60,
  });
  const resolved = det.resolveDetectorConfig(config);
  for (const machine of MACHINES) {
    const train = join(dir, 'synth', `synth_${machine}`, 'train');
    const clips = await Promise.all(
      readdirSync(train)
        .filter((f) => f.endsWith('.wav'))
        .map((f) => det.readClip(join(train, f), resolved.mel.sampleRate)),
    );
    const detector = await det.fitDetector(clips, resolved);
    await det.saveModel(detector, join(dir, 'model', machine));
    await detector.release();
  }
}
