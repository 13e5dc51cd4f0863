import { describe, expect, it } from 'vitest';
import { SequenceTracker } from '../../src/ingest/sequence.js';
import { StreamError } from '../../src/ingest/errors.js';

const reject = (t: SequenceTracker, seq: unknown): StreamError => {
  try {
    t.check(seq);
  } catch (e) {
    return e as StreamError;
  }
  throw new Error(`seq ${String(seq)} was accepted`);
};

describe('SequenceTracker', () => {
  it('lets a new stream start at any seq, then demands consecutive numbers', () => {
    const t = new SequenceTracker();
    expect(t.hello('a')).toEqual({ newStream: true, nextSeq: 0 });
    expect(t.check(41)).toBe(41);
    t.accept(41);
    expect(t.next).toBe(42);
    const dup = reject(t, 41);
    expect([dup.code, dup.message, dup.seq, dup.expected]).toEqual([
      'DUPLICATE_SEQ',
      'seq 41 was already received; expected 42',
      41,
      42,
    ]);
    const gap = reject(t, 44);
    expect([gap.code, gap.message, gap.expected]).toEqual([
      'OUT_OF_ORDER_SEQ',
      'seq 44 arrived before 42',
      42,
    ]);
    expect(gap.toAck()).toEqual({
      ok: false,
      code: 'OUT_OF_ORDER_SEQ',
      error: 'seq 44 arrived before 42',
      seq: 44,
      expected: 42,
    });
  });

  it('continues the same stream across a reconnect and restarts on a new one', () => {
    const t = new SequenceTracker();
    t.hello('run-1');
    t.accept(t.check(0));
    t.accept(t.check(1));
    expect(t.hello('run-1')).toEqual({ newStream: false, nextSeq: 2 });
    expect(reject(t, 1).code).toBe('DUPLICATE_SEQ');
    expect(t.hello('run-2')).toEqual({ newStream: true, nextSeq: 0 });
    expect(t.check(0)).toBe(0);
  });

  it('treats a hello without streamId as a new stream every time', () => {
    const t = new SequenceTracker();
    t.hello(undefined);
    t.accept(t.check(5));
    expect(t.hello(undefined)).toEqual({ newStream: true, nextSeq: 0 });
    expect(t.check(0)).toBe(0);
  });

  it.each([-1, 1.5, '3', NaN, undefined])('rejects seq %s as BAD_MESSAGE', (seq) => {
    const t = new SequenceTracker();
    t.hello('a');
    expect(reject(t, seq).code).toBe('BAD_MESSAGE');
  });

  it('changes nothing when a check fails', () => {
    const t = new SequenceTracker();
    t.hello('a');
    t.accept(t.check(3));
    reject(t, 9);
    reject(t, 2);
    expect(t.next).toBe(4);
  });
});
