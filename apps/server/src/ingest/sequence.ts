/**
 * Sequence numbers of one sensor's `audio` messages. A sensor client numbers its chunks within a stream (one
 * run of the client, named by `hello.streamId`); after a reconnect it resends the chunks whose ack it did not
 * get, so the server must recognise what it already has. The tracker lives as long as the server and
 * survives reconnects.
 */
import { StreamError } from './errors.js';

/** What a `hello` did to the sequence. */
export interface SequenceHello {
  /** True when the hello started a new stream (new or absent streamId): sequence and stream time restart. */
  newStream: boolean;
  /** The next sequence number expected (0 for a new stream, whose first chunk may start anywhere >= 0). */
  nextSeq: number;
}

export class SequenceTracker {
  private streamId: string | undefined;
  /** Next expected seq, or null before the first chunk of a stream. */
  private expected: number | null = null;

  /**
   * Registers a hello. The same `streamId` as the current stream continues it (next expected = last + 1); a
   * different or absent one starts a new stream whose first chunk may have any seq >= 0.
   */
  hello(streamId: string | undefined): SequenceHello {
    if (streamId !== undefined && streamId === this.streamId) {
      return { newStream: false, nextSeq: this.expected ?? 0 };
    }
    this.streamId = streamId;
    this.expected = null;
    return { newStream: true, nextSeq: 0 };
  }

  /** The seq the next chunk must carry, or null when any seq >= 0 is accepted (start of a stream). */
  get next(): number | null {
    return this.expected;
  }

  /** The current stream's id (undefined before a hello or for a client that sends none). */
  get stream(): string | undefined {
    return this.streamId;
  }

  /**
   * Throws the {@link StreamError} a chunk with `seq` would get, changing nothing: `BAD_MESSAGE` when seq is
   * not a whole number >= 0, `DUPLICATE_SEQ` when it was already received, `OUT_OF_ORDER_SEQ` when chunks
   * before it are missing.
   */
  check(seq: unknown): number {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      throw new StreamError('BAD_MESSAGE', `seq (${String(seq)}) must be a whole number >= 0`);
    }
    const expected = this.expected;
    if (expected === null || seq === expected) return seq;
    if (seq < expected) {
      throw new StreamError(
        'DUPLICATE_SEQ',
        `seq ${seq} was already received; expected ${expected}`,
        seq,
        expected,
      );
    }
    throw new StreamError('OUT_OF_ORDER_SEQ', `seq ${seq} arrived before ${expected}`, seq, expected);
  }

  /** Records `seq` (already {@link check}ed) as received. */
  accept(seq: number): void {
    this.expected = seq + 1;
  }
}
