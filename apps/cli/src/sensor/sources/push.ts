/** A source fed by code: `push()` chunks as they are produced (synthetic sensors, benchmarks, tests). */
import { checkedBytesPerFrame, type PcmChunk, type PcmSource, type StreamFormat } from '../types.js';

export class PushSource implements PcmSource {
  readonly live = true;
  private readonly queue: PcmChunk[] = [];
  private ended = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly bpf: number;

  constructor(
    readonly format: StreamFormat,
    readonly description = 'push',
  ) {
    this.bpf = checkedBytesPerFrame(format);
  }

  /** Queues whole frames captured at `t` (ms epoch of the first sample). */
  push(data: Uint8Array, t = Date.now()): void {
    if (this.ended) throw new Error(`${this.description}: push() after end()`);
    if (data.byteLength === 0 || data.byteLength % this.bpf !== 0)
      throw new RangeError(
        `chunk of ${data.byteLength} bytes is not a whole number of ${this.bpf}-byte frames`,
      );
    this.queue.push({ data, t });
    this.notify();
  }

  /** Ends the stream after the queued chunks. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** Ends the stream with an error after the queued chunks. */
  fail(error: Error): void {
    this.error = error;
    this.end();
  }

  private notify() {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<PcmChunk> {
    for (;;) {
      const next = this.queue.shift();
      if (next) yield next;
      else if (this.error) throw this.error;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
