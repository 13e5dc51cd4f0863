/**
 * Progress on stderr: a cli-progress bar when stderr is a terminal, otherwise one plain line per stage
 * (and per group), so logs and CI output stay readable.
 */
import cliProgress from 'cli-progress';

export interface StageProgress {
  /** Reports `done` of `total` in `stage` (e.g. 'embed', 'fit'); `label` prefixes the line (a group name). */
  update(stage: string, done: number, total: number, label?: string): void;
  stop(): void;
}

export function stageProgress(stream: NodeJS.WriteStream = process.stderr): StageProgress {
  let key = '';
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: '{label} {stage} [{bar}] {value}/{total}', hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(stage, done, total, label = '') {
        if (!started) {
          bar.start(total, done, { stage, label });
          started = true;
        } else if (`${label}/${stage}` !== key) bar.setTotal(total);
        key = `${label}/${stage}`;
        bar.update(done, { stage, label });
      },
      stop: () => started && bar.stop(),
    };
  }
  return {
    update(stage, done, total, label = '') {
      const k = `${label}/${stage}`;
      if (k !== key) stream.write(`${label ? `${label}: ` : ''}${stage} (${total})\n`);
      key = k;
    },
    stop() {},
  };
}
