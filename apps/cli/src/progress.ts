/**
 * Progress on stderr: a cli-progress bar when stderr is a terminal, otherwise plain lines (logs, CI, pipes):
 * one when a stage starts, one every few seconds while it runs, and one when it ends, so a long fit is never
 * silent and a log stays short.
 */
import cliProgress from 'cli-progress';
import { startHeartbeat, type HeartbeatOptions } from './heartbeat.js';

export interface StageProgress {
  /** Reports `done` of `total` in `stage` (e.g. 'embed', 'fit'); `label` prefixes the line (a group name). */
  update(stage: string, done: number, total: number, label?: string): void;
  stop(): void;
}

export interface LineProgressOptions {
  /** Seconds between two lines of the same stage (default 2). */
  everySeconds?: number;
  /** The clock, in seconds. */
  now?: () => number;
  /** Called on every report (the heartbeat's pulse). */
  onReport?: () => void;
}

/**
 * A bar on a terminal; otherwise lines, and a heartbeat line (`still working: 12 s since the last progress
 * report`) when a step is quiet for `heartbeat.quietSeconds` (default 10).
 */
export function stageProgress(
  stream: NodeJS.WriteStream = process.stderr,
  options: LineProgressOptions & { heartbeat?: HeartbeatOptions } = {},
): StageProgress {
  if (stream.isTTY) return barProgress(stream);
  const fd = (stream as { fd?: unknown }).fd;
  const heart = typeof fd === 'number' ? startHeartbeat(fd, options.heartbeat) : null;
  const lines = lineProgress(stream, { ...options, onReport: () => heart?.beat() });
  return {
    update: lines.update,
    stop: () => heart?.stop(),
  };
}

function barProgress(stream: NodeJS.WriteStream): StageProgress {
  let key = '';
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

/**
 * `embed 12/90 (13 %), 4.1 s` lines: the first report of a stage, then at most one every `everySeconds`, and
 * `embed 90/90 (100 %) in 24.1 s` when it completes. A stage's time starts at the previous stage's last report
 * (reports come after each item, so the first item's time is counted).
 */
export function lineProgress(
  stream: Pick<NodeJS.WritableStream, 'write'>,
  { everySeconds = 2, now = () => performance.now() / 1000, onReport }: LineProgressOptions = {},
): StageProgress {
  let key = '';
  let start = now();
  let lastReport = start;
  let lastLine = -Infinity;
  let finished = false;
  return {
    update(stage, done, total, label = '') {
      const t = now();
      const k = `${label}/${stage}`;
      if (k !== key) [key, start, lastLine, finished] = [k, lastReport, -Infinity, false];
      lastReport = t;
      onReport?.();
      const complete = done >= total;
      if (finished || (!complete && t - lastLine < everySeconds)) return;
      lastLine = t;
      finished = complete;
      const share = total > 0 ? Math.floor((100 * done) / total) : 100;
      const time = complete ? ` in ${(t - start).toFixed(1)} s` : `, ${(t - start).toFixed(1)} s`;
      stream.write(`${label ? `${label}: ` : ''}${stage} ${done}/${total} (${share} %)${time}\n`);
    },
    stop() {},
  };
}
