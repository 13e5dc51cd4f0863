/**
 * The one error type of the stream layer: a sentence for the sensor plus the wire code of `@hark/protocol`, so
 * the gateway turns it into a `SensorAck` / `HelloAck` without parsing messages.
 */
import type { SensorAck, SensorErrorCode } from '@hark/protocol';

export class StreamError extends Error {
  constructor(
    readonly code: SensorErrorCode,
    message: string,
    /** The rejected chunk's sequence number, when it had a usable one. */
    readonly seq?: number,
    /** The sequence number the server expects next (sequence errors only). */
    readonly expected?: number,
  ) {
    super(message);
    this.name = 'StreamError';
  }

  /** The negative ack of an `audio` message. */
  toAck(): SensorAck {
    const ack: SensorAck = { ok: false, error: this.message, code: this.code };
    if (this.seq !== undefined) ack.seq = this.seq;
    if (this.expected !== undefined) ack.expected = this.expected;
    return ack;
  }
}
