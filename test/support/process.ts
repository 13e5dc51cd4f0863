/**
 * Watching a server process from outside, as an operator would: its resident memory (from /proc) and the
 * lines of its output that mean something went wrong.
 */
import { readFileSync } from 'node:fs';

/** Resident set size of `pid` in MB (VmRSS of /proc/PID/status); NaN once the process is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Samples a process's RSS every `everyMs` and keeps the peak. */
export class RssSampler {
  peak = 0;
  last = 0;
  readonly samples: number[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 250,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  /** Takes a sample now and returns it (MB). */
  sample(): number {
    const mb = rssMb(this.pid);
    if (Number.isFinite(mb)) {
      this.samples.push(mb);
      this.last = mb;
      this.peak = Math.max(this.peak, mb);
    }
    return mb;
  }

  /** Stops sampling; returns the peak (MB). */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/**
 * Lines of a server's output that report a crash or an unexpected error: uncaught or unhandled errors,
 * Nest's `ERROR` log lines, `SomethingError:` lines and stack frames. Refusals of bad input are answered to
 * the client and never logged like this.
 */
export function serverErrorLines(output: string): string[] {
  return output
    .split('\n')
    .filter(
      (l) =>
        /\b(uncaught|unhandled)\b/i.test(l) ||
        /\bERROR\b/.test(l) ||
        /^\s*[A-Z]\w*Error\b.*:/.test(l) ||
        /^\s+at .+:\d+:\d+\)?$/.test(l),
    );
}
